# A test app: two players submit at the same moment; the wait page hook counts its runs.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "race"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    hook_runs = models.IntegerField(initial=0)


class Player(BasePlayer):
    answer = models.IntegerField(min=0, max=10)


def count_run(group):
    group.hook_runs += 1


class Decide(Page):
    form_model = "player"
    form_fields = ["answer"]


class Sync(WaitPage):
    after_all_players_arrive = count_run


class After(Page):
    pass


page_sequence = [Decide, Sync, After]
