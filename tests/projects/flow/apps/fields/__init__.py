# A test app: every field type on a page that times out (tests/test_timeouts_and_arrival.py).
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "fields"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    b_plain = models.BooleanField()
    b_check = models.BooleanField(widget=widgets.CheckboxInput, blank=True)
    b_blank = models.BooleanField(blank=True)
    i_plain = models.IntegerField(min=5, max=10)
    i_blank = models.IntegerField(blank=True)
    i_choices = models.IntegerField(choices=[1, 2, 3])
    i_initial = models.IntegerField(initial=7)
    f_plain = models.FloatField()
    c_plain = models.CurrencyField(max=20)
    c_blank = models.CurrencyField(blank=True)
    s_plain = models.StringField()
    s_choices = models.StringField(choices=["a", "b"], widget=widgets.RadioSelect)
    s_blank = models.StringField(blank=True)
    l_plain = models.LongStringField()
    l_blank = models.LongStringField(blank=True)
    kept = models.IntegerField()
    a = models.IntegerField()
    b = models.IntegerField()


FIELDS = [
    "b_plain", "b_check", "b_blank", "i_plain", "i_blank", "i_choices", "i_initial",
    "f_plain", "c_plain", "c_blank", "s_plain", "s_choices", "s_blank", "l_plain", "l_blank",
    "kept",
]  # fmt: skip


class AllTypes(Page):
    form_model = "player"
    form_fields = FIELDS
    timeout_seconds = 3


class Sum(Page):
    form_model = "player"
    form_fields = ["a", "b"]
    timeout_seconds = 3

    @staticmethod
    def error_message(player, values):
        if values["a"] + values["b"] > 100:
            return "At most 100 in all."


class Done(Page):
    pass


page_sequence = [AllTypes, Sum, Done]
