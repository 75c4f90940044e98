# A test app: players are grouped by arrival in round 1 only (oTree's documented recipe,
# multiplayer_waitpages.rst); later rounds keep round 1's groups.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "lobby_rounds"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 3


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    synced = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def mark_synced(group):
    group.synced += 1


class Lobby(WaitPage):
    group_by_arrival_time = True

    @staticmethod
    def is_displayed(player):
        return player.round_number == 1


class Play(Page):
    pass


class Sync(WaitPage):
    after_all_players_arrive = mark_synced


page_sequence = [Lobby, Play, Sync]
