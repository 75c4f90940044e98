# Bots for the randomized trial: the urn assigns a treatment on the first page.
from server.api import Bot, SubmissionMustFail, expect

from . import Assignment


class PlayerBot(Bot):
    def play_round(self):
        # mock_exogenous_data gave each bot participant an age group and a sex.
        expect("age_group", "in", self.participant.vars)
        yield SubmissionMustFail(Assignment, dict(wellbeing=11))
        yield Assignment, dict(wellbeing=7)
        expect(self.participant.vars["treatment"], "in", ["Control", "Intervention"])
        expect(self.player.treatment, self.participant.vars["treatment"])
