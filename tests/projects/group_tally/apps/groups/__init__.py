"""Every participant, leaving the first page, adds one to a field of every group of the round
(other groups' too): group rows written by another group's players while that group's own
members submit."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "groups"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    hits = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def hits(player):
    return dict(hits=",".join(str(g.hits) for g in player.subsession.get_groups()))


class Visit(Page):
    vars_for_template = hits

    @staticmethod
    def before_next_page(player, timeout_happened):
        groups = player.subsession.get_groups()
        counts = [g.hits for g in groups]
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        for group, count in zip(groups, counts):
            group.hits = count + 1


class Done(Page):
    vars_for_template = hits


page_sequence = [Visit, Done]
