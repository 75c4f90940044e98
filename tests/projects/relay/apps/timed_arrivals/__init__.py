# A test app: a page with a time limit, then groups formed by arrival at a wait page.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "timed_arrivals"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Intro(Page):
    timeout_seconds = 600


class Lobby(WaitPage):
    group_by_arrival_time = True


class Results(Page):
    pass


page_sequence = [Intro, Lobby, Results]
