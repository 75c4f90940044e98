# Benchmark app: groups of 3 meet at a wait page, whose after_all_players_arrive runs once,
# then all see the next page. The same file runs on Grove and, with its import line changed,
# on oTree.
from server.api import *

doc = "A wait page, for measuring how fast a group moves on once the last player arrives."


class C(BaseConstants):
    NAME_IN_URL = "bench_wait"
    PLAYERS_PER_GROUP = 3
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    arrivals = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def count_arrivals(group):
    group.arrivals = len(group.get_players())


class Arrive(Page):
    pass


class Gather(WaitPage):
    after_all_players_arrive = count_arrivals


class After(Page):
    pass


page_sequence = [Arrive, Gather, After]
