from otree.api import Bot

from . import Welcome


class PlayerBot(Bot):
    def play_round(self):
        yield Welcome, dict(nickname=f"bot{self.participant.id_in_session}")
