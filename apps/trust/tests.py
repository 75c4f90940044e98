# Bots for the trust game: the trustor sends 40, the trustee sends back 50.
from server.api import Bot, SubmissionMustFail, cu, expect

from . import C, Results, Send, SendBack


class PlayerBot(Bot):
    def play_round(self):
        if self.player.role == C.TRUSTOR_ROLE:
            yield SubmissionMustFail(Send, dict(sent_amount=101))
            yield Send, dict(sent_amount=40)
        else:
            yield SubmissionMustFail(SendBack, dict(sent_back_amount=121))
            yield SendBack, dict(sent_back_amount=50)
        expected = cu(110) if self.player.role == C.TRUSTOR_ROLE else cu(70)
        expect(self.player.payoff, expected)
        yield Results
