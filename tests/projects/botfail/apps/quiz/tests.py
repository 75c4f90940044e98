from server.api import Bot, SubmissionMustFail, expect

from . import Question, Thanks


class PlayerBot(Bot):
    def play_round(self):
        mode = self.session.config["mode"]
        if mode == "must_fail":
            yield SubmissionMustFail(Question, dict(answer=2))
        if mode == "missing":
            yield Question, dict(answer=2, colour="red")
        if mode == "wrong_page":
            yield Thanks
        yield SubmissionMustFail(Question, dict(answer=9))
        yield Question, dict(answer=2)
        if mode == "expect":
            expect(self.player.answer, 3)
        expect(self.player.answer, "in", [1, 2, 3])
        yield Thanks
