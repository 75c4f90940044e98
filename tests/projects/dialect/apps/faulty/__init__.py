"""A page whose template uses a tag neither oTree nor Jinja2 knows."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "faulty"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Unknown(Page):
    pass


page_sequence = [Unknown]
