"""A choice made by clicking one of two submit buttons that carry the field's name and value
(no radio buttons), then a last page without a Next button."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "pick"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    share = models.BooleanField(choices=[[True, "Share"], [False, "Keep"]])


class Choose(Page):
    form_model = "player"
    form_fields = ["share"]


class End(Page):
    pass


page_sequence = [Choose, End]
