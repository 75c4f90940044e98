# A test app: a group's wait page, then straight away a wait page for the whole subsession,
# which is the last page: members moved on from the first arrive at the second, and passing
# the second ends the session for them.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "chain"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Intro(Page):
    pass


class First(WaitPage):
    pass


class Second(WaitPage):
    wait_for_all_groups = True


page_sequence = [Intro, First, Second]
