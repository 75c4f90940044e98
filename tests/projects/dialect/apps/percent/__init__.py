"""oTree's tags in their {% %} spelling (oTree 3's, still accepted by oTree 5 and 6)."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "percent"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    age = models.IntegerField(label="Your age?", min=0, max=120)
    colour = models.StringField(choices=["Red", "Blue"], widget=widgets.RadioSelect)
    note = models.LongStringField(label="A note", blank=True)
    agree = models.BooleanField(label="I agree", widget=widgets.CheckboxInput, blank=True)


class Tags(Page):
    form_model = "player"
    form_fields = ["age", "colour"]

    @staticmethod
    def vars_for_template(player):
        return dict(items=["a", "b"], no_items=[])


class AllFields(Page):
    form_model = "player"
    form_fields = ["note", "agree"]


class Chat(Page):
    pass


page_sequence = [Tags, AllFields, Chat]
