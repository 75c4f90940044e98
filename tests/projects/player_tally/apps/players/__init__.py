"""Every participant, leaving the first page, adds one to a field of every player of the round
(other groups' players too): player rows written by other participants while those players
submit their own page."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "players"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    hits = models.IntegerField(initial=0)


def hits(player):
    return dict(hits=",".join(str(p.hits) for p in player.subsession.get_players()))


class Visit(Page):
    vars_for_template = hits

    @staticmethod
    def before_next_page(player, timeout_happened):
        players = player.subsession.get_players()
        counts = [p.hits for p in players]
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        for other, count in zip(players, counts):
            other.hits = count + 1


class Done(Page):
    vars_for_template = hits


page_sequence = [Visit, Done]
