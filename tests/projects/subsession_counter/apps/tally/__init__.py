"""Every participant adds one to a subsession field when leaving the first page: a count
kept on the subsession, written by participants of different groups at once."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "tally"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    n = models.IntegerField(initial=0)


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Count(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        subsession = player.subsession
        n = subsession.n
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        subsession.n = n + 1


class Done(Page):
    pass


page_sequence = [Count, Done]
