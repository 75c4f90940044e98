"""oTree's manual field rendering (forms.rst: "Customizing a field's appearance", "Radio
buttons in tables and other custom layouts")."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "byhand"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pizza = models.IntegerField(widget=widgets.RadioSelect, choices=[-3, -2, -1, 0, 1, 2, 3])
    comment = models.StringField(label="Anything else?")
    level = models.IntegerField(choices=[[1, "Low"], [2, "Medium"], [3, "High"]], label="Level")
    cooperate = models.BooleanField(
        choices=[[False, "Defect"], [True, "Cooperate"]], widget=widgets.RadioSelect
    )
    offer_1 = models.IntegerField(widget=widgets.RadioSelect, choices=[1, 2, 3], label="Offer 1")
    offer_2 = models.IntegerField(widget=widgets.RadioSelect, choices=[1, 2, 3], label="Offer 2")
    age = models.IntegerField(label="Age")
    city = models.StringField(label="City")


def comment_error_message(player, value):
    if len(value) < 3:
        return "Write at least three letters"


class Scale(Page):
    form_model = "player"
    form_fields = ["pizza", "comment", "level", "cooperate"]


class Table(Page):
    form_model = "player"
    form_fields = ["offer_1", "offer_2"]


class Loop(Page):
    form_model = "player"
    form_fields = ["age", "city"]


class Done(Page):
    pass


page_sequence = [Scale, Table, Loop, Done]
