# Bots for the survey: they play every page as a participant would, including wrong answers
# that the page must refuse.
from server.api import Bot, Submission, SubmissionMustFail, expect

from . import Attitudes, Demographics, Results


class PlayerBot(Bot):
    # Each case is one full run of the session with every bot.
    cases = ["enjoys", "does_not_enjoy"]

    def play_round(self):
        # An age below the minimum must be refused.
        yield SubmissionMustFail(Demographics, dict(age=5, gender="Female", temperature=20,
                                                     year_in_school="Junior"))
        yield Demographics, dict(age=30, gender="Female", temperature=-2.5,
                                 year_in_school="Junior")
        expect(self.player.age, 30)
        likes = self.case == "enjoys"
        answers = dict(savings=40, satisfaction=4, likes_experiments=likes, nickname="Ada",
                       comments="")
        # Letters only in the nickname.
        yield SubmissionMustFail(Attitudes, dict(answers, nickname="Ada99"))
        yield Attitudes, answers
        expect(self.player.likes_experiments, likes)
        expect("next year you will be 31", "in", self.html)
        yield Results
