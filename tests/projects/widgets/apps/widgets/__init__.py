"""Every field type with every widget it can take, choices as plain values and as pairs.

tests/test_form_widgets.py fills this page's rendered form as a browser would, picking a
different choice each round, and checks the stored value is the one clicked.
"""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "widgets"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 3


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    # BooleanField
    bool_default = models.BooleanField(label="Do you agree?")
    bool_horizontal = models.BooleanField(widget=widgets.RadioSelectHorizontal)
    bool_select = models.BooleanField(widget=widgets.Select)
    bool_pairs = models.BooleanField(choices=[[True, "Cooperate"], [False, "Defect"]])
    bool_pairs_reversed = models.BooleanField(
        choices=[[False, "Defect"], [True, "Cooperate"]], widget=widgets.RadioSelectHorizontal
    )
    bool_checkbox = models.BooleanField(widget=widgets.CheckboxInput, blank=True)
    # IntegerField
    int_plain = models.IntegerField(choices=[1, 2, 3])
    int_radio = models.IntegerField(choices=[1, 2, 3], widget=widgets.RadioSelect)
    int_horizontal = models.IntegerField(choices=[0, 5, 10], widget=widgets.RadioSelectHorizontal)
    int_pairs = models.IntegerField(choices=[[0, "Zero"], [10, "Ten"]], widget=widgets.RadioSelect)
    int_pairs_select = models.IntegerField(choices=[[-1, "Minus one"], [1, "One"]])
    int_dynamic = models.IntegerField()
    int_typed = models.IntegerField(min=None)  # no minimum: a negative answer is typed
    # FloatField
    float_plain = models.FloatField(choices=[0.5, 1.0, 2.25])
    float_pairs = models.FloatField(choices=[[0.1, "a tenth"], [1.0, "one"]], widget=widgets.RadioSelect)
    float_typed = models.FloatField()
    # CurrencyField
    currency_plain = models.CurrencyField(choices=[cu(0), cu(5), cu(10)])
    currency_pairs = models.CurrencyField(
        choices=[[cu(1), "one point"], [cu(2), "two points"]], widget=widgets.RadioSelect
    )
    currency_typed = models.CurrencyField()
    # StringField
    str_radio = models.StringField(choices=["Red", "Blue", "Green"], widget=widgets.RadioSelect)
    str_pairs = models.StringField(choices=[["r", "Red"], ["b", "Blue"]])
    str_horizontal = models.StringField(
        choices=[["yes", "Yes"], ["no", "No"]], widget=widgets.RadioSelectHorizontal
    )
    str_typed = models.StringField()
    # LongStringField
    long_typed = models.LongStringField()
    long_radio = models.LongStringField(choices=["short", "long"], widget=widgets.RadioSelect)


def int_dynamic_choices(player):
    return [[player.round_number * 100, "this round"], [7, "seven"]]


class Form(Page):
    form_model = "player"
    form_fields = [
        "bool_default",
        "bool_horizontal",
        "bool_select",
        "bool_pairs",
        "bool_pairs_reversed",
        "bool_checkbox",
        "int_plain",
        "int_radio",
        "int_horizontal",
        "int_pairs",
        "int_pairs_select",
        "int_dynamic",
        "int_typed",
        "float_plain",
        "float_pairs",
        "float_typed",
        "currency_plain",
        "currency_pairs",
        "currency_typed",
        "str_radio",
        "str_pairs",
        "str_horizontal",
        "str_typed",
        "long_typed",
        "long_radio",
    ]


page_sequence = [Form]
