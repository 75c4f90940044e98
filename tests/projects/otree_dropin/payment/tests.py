from otree.api import Bot

from . import PaymentInfo


class PlayerBot(Bot):
    def play_round(self):
        assert 'Auszahlung' in self.html
