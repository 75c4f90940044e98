from otree.api import Bot, Submission, SubmissionMustFail, expect

from . import Rating, Welcome


class PlayerBot(Bot):
    def play_round(self):
        # Oldest oTree rule for bots: an age below the minimum is refused on that field alone.
        yield SubmissionMustFail(
            Welcome, dict(nickname='Ada', age=10, consent=True), error_fields=['age']
        )
        yield Welcome, dict(nickname='Ada', age=30, consent=True)
        expect(self.participant.nickname, 'Ada')
        expect(self.participant._is_bot, True)
        # The page's error_message refuses the pair: the error is the form's, not a field's.
        yield SubmissionMustFail(Rating, dict(fairness=1, clarity=1), error_fields=['__all__'])
        yield Rating, dict(fairness=4, clarity=5)
