# oTree 5.10+'s implicit minimum: a number field without min= accepts nothing below 0. The
# same fields and hooks were measured on oTree 6.0.15 (tests/test_number_minimums.py).
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "number_minimums"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    set_in_code = models.IntegerField()  # no min, assigned -5 in code: stored as is


class Group(BaseGroup):
    set_in_code = models.CurrencyField()


class Player(BasePlayer):
    no_min = models.IntegerField()  # min 0, as if min=0 were written
    min_none = models.IntegerField(min=None)  # no minimum at all
    min_minus3 = models.IntegerField(min=-3)
    min_2 = models.IntegerField(min=2)
    hook_none = models.IntegerField()  # hook_none_min returns None: no minimum
    hook_minus10 = models.IntegerField()  # hook_minus10_min returns -10
    int_blank = models.IntegerField(blank=True)
    int_choices = models.IntegerField(choices=[-1, 0, 1])  # choices: no minimum
    currency_plain = models.CurrencyField()
    float_plain = models.FloatField()
    min_2_hook_none = models.IntegerField(min=2)  # the hook's None wins over min=2
    max_10 = models.IntegerField(max=10)  # min 0 and max 10
    float_blank = models.FloatField(blank=True)
    max_5_hook_none = models.IntegerField(max=5)  # the hook's None wins over max=5
    set_in_code = models.IntegerField()


def hook_none_min(player):
    return None


def hook_minus10_min(player):
    return -10


def min_2_hook_none_min(player):
    return None


def max_5_hook_none_max(player):
    return None


class Form(Page):
    form_model = "player"
    form_fields = [
        "no_min",
        "min_none",
        "min_minus3",
        "min_2",
        "hook_none",
        "hook_minus10",
        "int_blank",
        "int_choices",
        "currency_plain",
        "float_plain",
        "min_2_hook_none",
        "max_10",
        "float_blank",
        "max_5_hook_none",
    ]

    @staticmethod
    def before_next_page(player, timeout_happened):
        # Values set in code are not checked against min, as in oTree.
        player.set_in_code = -5
        player.group.set_in_code = -5
        player.subsession.set_in_code = -5


class Done(Page):
    pass


page_sequence = [Form, Done]
