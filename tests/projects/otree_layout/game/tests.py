from otree.api import Bot, expect

from . import Constants, Offer, Results


class PlayerBot(Bot):
    def play_round(self):
        if self.player.role == Constants.proposer_role:
            yield Offer, dict(offer=10 * self.round_number)
        yield Results
        offer = 10 * self.round_number
        expected = offer if self.player.role == Constants.responder_role else 100 - offer
        expect(self.player.payoff, expected)
