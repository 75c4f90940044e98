"""A live page whose messages add to a group field and to the sender's and their partner's
participant.vars, while the same participants submit the page (whose before_next_page adds
to the same field and vars)."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "board"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    n = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def _add(player, key):
    group = player.group
    n = group.n
    time.sleep(0.02)  # a method that takes a moment, as a real one may
    group.n = n + 1
    vars = player.participant.vars
    vars[key] = vars.get(key, 0) + 1
    [partner] = player.get_others_in_group()
    partner.participant.vars["from_partner"] = partner.participant.vars.get("from_partner", 0) + 1


class Board(Page):
    @staticmethod
    def live_method(player, data):
        _add(player, "live")
        return {player.id_in_group: {"n": player.group.n}}

    @staticmethod
    def before_next_page(player, timeout_happened):
        _add(player, "submitted")


class Done(Page):
    pass


page_sequence = [Board, Done]
