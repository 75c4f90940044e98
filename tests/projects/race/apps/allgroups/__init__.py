# A test app: a wait page for all groups of the round, with a subsession-level hook.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "allgroups"
    PLAYERS_PER_GROUP = 1
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    hook_runs = models.IntegerField(initial=0)


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


def count_run(subsession):
    subsession.hook_runs += 1


class Everyone(WaitPage):
    wait_for_all_groups = True
    after_all_players_arrive = count_run
    title_text = "Waiting for everybody"


class Done(Page):
    pass


page_sequence = [Everyone, Done]
