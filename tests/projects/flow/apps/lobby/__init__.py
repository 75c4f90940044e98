# A test app: oTree's documented recipe for a wait page timeout with group_by_arrival_time
# (multiplayer_waitpages.rst): groups of 3, or alone after waiting too long.
import time

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "lobby"
    PLAYERS_PER_GROUP = 3
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    formed = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def waiting_too_long(player):
    limit = player.session.config.get("lone_after_seconds", 2)
    return time.time() - player.participant.vars["wait_page_arrival"] > limit


def group_by_arrival_time_method(subsession, waiting_players):
    if len(waiting_players) >= 3:
        return waiting_players[:3]
    for player in waiting_players:
        if waiting_too_long(player):
            # make a single-player group.
            return [player]


def mark_formed(group):
    group.formed += 1


class Lobby(WaitPage):
    group_by_arrival_time = True
    after_all_players_arrive = mark_formed


class Play(Page):
    pass


page_sequence = [Lobby, Play]
