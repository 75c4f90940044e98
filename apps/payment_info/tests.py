# The payment page is the last page: it has no Next button, so the bot only checks it.
from server.api import Bot, expect


class PlayerBot(Bot):
    def play_round(self):
        expect("Payment information", "in", self.html)
        return
        yield
