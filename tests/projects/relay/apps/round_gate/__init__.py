# A test app: the subsession's wait page is the last page of each round, so its completion
# moves every member on to the next round's first page.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "round_gate"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Intro(Page):
    pass


class Gate(WaitPage):
    wait_for_all_groups = True


page_sequence = [Intro, Gate]
