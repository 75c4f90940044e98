# An app without an admin report.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "plain"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Done(Page):
    pass


page_sequence = [Done]
