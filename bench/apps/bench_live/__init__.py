# Benchmark app: a live page shared by groups of four. Every message a player sends is counted
# in the group (a write, as real live methods make) and sent back to the whole group. The
# same file runs on Grove and, with its import line changed, on oTree.
from server.api import *

doc = "A live page, for measuring the round trip from liveSend to the other group members."


class C(BaseConstants):
    NAME_IN_URL = "bench_live"
    PLAYERS_PER_GROUP = 4
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    messages = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def echo_to_group(player, data):
    # Count the message, then send it unchanged to every member of the group (key 0).
    player.group.messages += 1
    return {0: data}


class Play(Page):
    live_method = echo_to_group


page_sequence = [Play]
