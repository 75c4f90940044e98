"""oTree's manual field rendering (forms.rst, "Customizing a field's appearance")."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "manual"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pizza = models.IntegerField(widget=widgets.RadioSelect, choices=[-3, -2, -1, 0, 1, 2, 3])
    offer_1 = models.IntegerField(widget=widgets.RadioSelect, choices=[1, 2, 3], label="Offer 1")
    offer_2 = models.IntegerField(widget=widgets.RadioSelect, choices=[1, 2, 3], label="Offer 2")
    comment = models.StringField(label="Anything else?")


class Slider(Page):
    form_model = "player"
    form_fields = ["pizza", "comment"]


class Table(Page):
    form_model = "player"
    form_fields = ["offer_1", "offer_2"]


class Done(Page):
    pass


page_sequence = [Slider, Table, Done]
