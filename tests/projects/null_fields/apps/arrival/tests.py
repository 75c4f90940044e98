from server.api import Bot, expect

from . import Done


class PlayerBot(Bot):
    def play_round(self):
        yield Done
        expect(self.player.group.total, 1)
