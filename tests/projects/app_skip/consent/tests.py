from otree.api import Bot, expect

from . import *


class PlayerBot(Bot):
    def play_round(self):
        agree = self.participant.id_in_session != 3
        # '' is the select's empty option, which a participant leaves as it is
        heard_from = "poster" if agree else ""
        yield Consent, dict(agree=agree, heard_from=heard_from)
        # oTree 6.0.15 stores the empty option as '' (not None)
        expect(self.player.heard_from, heard_from)
