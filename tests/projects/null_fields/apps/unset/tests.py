from server.api import Bot, expect

from . import Question, Results


class PlayerBot(Bot):
    def play_round(self):
        if self.session.config["mode"] == "raises_in_bot":
            expect(self.player.answer, None)
        expect(self.player.field_maybe_none("answer"), None)
        yield Question, dict(answer=2)
        expect(self.player.answer, 2)
        yield Results
