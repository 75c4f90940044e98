# A test app: players are grouped in the order they reach the first wait page.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "lobby"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    formed = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def mark_formed(group):
    group.formed += 1


class Lobby(WaitPage):
    group_by_arrival_time = True
    after_all_players_arrive = mark_formed


class Play(Page):
    pass


page_sequence = [Lobby, Play]
