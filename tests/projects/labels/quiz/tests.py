from otree.api import Bot

from . import *


class PlayerBot(Bot):
    def play_round(self):
        yield Ask, dict(answer=1, mood="fine")
