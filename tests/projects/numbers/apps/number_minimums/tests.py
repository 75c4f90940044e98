from server.api import Bot, SubmissionMustFail

from . import *

# Valid answers: negatives where the field allows them.
VALID = dict(
    no_min=0,
    min_none=-5,
    min_minus3=-3,
    min_2=2,
    hook_none=-5,
    hook_minus10=-10,
    int_blank=None,
    int_choices=-1,
    currency_plain=0,
    float_plain=0,
    min_2_hook_none=-5,
    max_10=10,
    float_blank=None,
    max_5_hook_none=99,
)


class PlayerBot(Bot):
    # "refused": negatives where the field has the implicit min=0 must fail, then a valid
    # form passes; "negative": a bot that submits -5 to a field without min= fails the run.
    cases = ["refused", "negative"]

    def play_round(self):
        if self.case == "refused":
            yield SubmissionMustFail(Form, {**VALID, "no_min": -5}, error_fields=["no_min"])
            yield SubmissionMustFail(
                Form, {**VALID, "float_plain": -0.5}, error_fields=["float_plain"]
            )
            yield SubmissionMustFail(
                Form, {**VALID, "currency_plain": -1}, error_fields=["currency_plain"]
            )
            yield Form, VALID
        else:
            yield Form, {**VALID, "no_min": -5}
