from otree.api import Bot, expect

from . import *


class PlayerBot(Bot):
    def play_round(self):
        if self.participant.id_in_session == 3:
            return
        yield Pick, dict(number=self.participant.id_in_session)
        yield Results
        expect(self.group.total, 3)
        expect(self.group.pickers, 2)
        expect(self.player.payoff, C.BONUS)
