from otree.api import *

doc = """The last page."""


class C(BaseConstants):
    NAME_IN_URL = "end"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Thanks(Page):
    pass


page_sequence = [Thanks]
