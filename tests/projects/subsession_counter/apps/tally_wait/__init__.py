"""Every group adds one to a subsession field when its members have all arrived at a wait
page (after_all_players_arrive): the subsession written by the last arrivals of different
groups at once."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "tally_wait"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    n = models.IntegerField(initial=0)


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


def count(group):
    subsession = group.subsession
    n = subsession.n
    time.sleep(0.05)  # a hook that takes a moment, as a real one may
    subsession.n = n + 1


class Start(Page):
    pass


class Together(WaitPage):
    after_all_players_arrive = count


class Done(Page):
    pass


page_sequence = [Start, Together, Done]
