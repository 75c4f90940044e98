"""A page whose template changes participant.vars while rendering."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "writes"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Writes(Page):
    pass


page_sequence = [Writes]
