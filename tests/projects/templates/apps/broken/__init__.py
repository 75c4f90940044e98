"""A page whose template names a field that does not exist."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "broken"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Broken(Page):
    pass


page_sequence = [Broken]
