"""Pages with no hooks: the participants' submissions write nothing of the session's."""

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "plain"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class First(Page):
    pass


class Done(Page):
    pass


page_sequence = [First, Done]
