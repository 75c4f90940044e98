"""One bot per session config of this project; ``mode`` says which rule it exercises."""

from server.api import Bot, expect

from . import Question, Results


class PlayerBot(Bot):
    cases = ["low", "high"]

    def play_round(self):
        mode = self.session.config["mode"]
        first = self.participant.id_in_session == 1
        if mode == "one_quits" and first:
            return  # this participant's bot stops before its first page
        if mode == "early_middle" and self.round_number == 1:
            yield Question, dict(answer=1)
            return  # round 1's Results is left out
        if mode == "early_last" and self.round_number == 2:
            yield Question, dict(answer=1)
            return  # round 2's Results is left out: the bot is done there
        if mode == "skips_round_one" and self.round_number == 1 and first:
            return  # round 2's bot then meets round 1's Question
        answer = 1 if self.case == "low" else 2
        yield Question, dict(answer=answer)
        expect(self.player.answer, answer)
        yield Results
        if mode == "after_last" and self.round_number == 1:
            expect(1, 2)
        if mode == "after_last_final" and self.round_number == 2:
            expect(self.player.answer, 99)
        if mode == "assert_after_last":
            assert self.player.answer == 77
