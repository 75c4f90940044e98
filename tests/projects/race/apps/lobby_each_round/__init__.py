# A test app: players are grouped by arrival in every round (oTree's multiplayer_waitpages.rst:
# "Otherwise, players will be re-grouped by their arrival time in each round"); a group formed
# in round 1 is copied to round 2 while round 2 may be grouping its own arrivals.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "lobby_each_round"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Lobby(WaitPage):
    group_by_arrival_time = True


class Play(Page):
    pass


page_sequence = [Lobby, Play]
