# Bots for the repeated prisoner's dilemma: odd players cooperate, even players defect.
from server.api import Bot, expect

from . import Decision, Results


class PlayerBot(Bot):
    def play_round(self):
        cooperate = self.participant.id_in_session % 2 == 1
        yield Decision, dict(cooperate=cooperate)
        expect(self.player.payoff, ">=", 0)
        expect(len(self.player.in_all_rounds()), self.round_number)
        yield Results
