# A test app: a group wait page with after_all_players_arrive that nobody displays in round 1
# (is_displayed: round 2 only). oTree 6.0.15 runs the hook only when someone waits on the
# page (WaitPage._tally_unvisited's someone_waiting), so it runs in round 2 and not in round 1.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "skip_all"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    released = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def mark_released(group):
    group.released += 1


class Intro(Page):
    pass


class Gather(WaitPage):
    after_all_players_arrive = mark_released

    @staticmethod
    def is_displayed(player):
        return player.round_number == 2


class Results(Page):
    pass


page_sequence = [Intro, Gather, Results]
