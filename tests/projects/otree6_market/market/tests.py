from otree.api import Currency as c, currency_range, expect, Bot, Submission, SubmissionMustFail
from . import *


class PlayerBot(Bot):
    def play_round(self):
        if self.player.role == C.SELLER_ROLE:
            yield Offer, dict(price=7)
        else:
            yield Decide, dict(accept=True)
        yield Results
        if self.round_number == C.NUM_ROUNDS:
            expect(self.participant.status, 'done')
