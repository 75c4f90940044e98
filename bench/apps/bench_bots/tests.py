# Bots for the bot runner benchmark: 2 pages a round, 10 rounds.
from server.api import Bot

from . import Answered, Question


class PlayerBot(Bot):
    def play_round(self):
        yield Question, dict(answer=self.round_number)
        yield Answered
