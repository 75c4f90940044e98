# Every kind of number input, with and without a minimum (the same fields oTree was measured
# with). A number field without min= has min=0, as in oTree 5.10+: the *_plain fields say
# min=None to have no minimum, the *_min0 ones spell out the default.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "number_fields"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    i_plain = models.IntegerField(blank=True, min=None)
    i_min0 = models.IntegerField(blank=True, min=0)
    f_plain = models.FloatField(blank=True, min=None)
    f_min0 = models.FloatField(blank=True, min=0)
    c_plain = models.CurrencyField(blank=True, min=None)
    c_max12 = models.CurrencyField(blank=True, min=0, max=12)


class Numbers(Page):
    form_model = "player"
    form_fields = ["i_plain", "i_min0", "f_plain", "f_min0", "c_plain", "c_max12"]


class Shown(Page):
    pass


page_sequence = [Numbers, Shown]
