# A test app: a group wait page that one member skips (is_displayed False for id_in_group 2).
# oTree counts the skipping member as arrived (WaitPage._tally_unvisited), so the other member
# is not held up, and after_all_players_arrive runs once when someone waits there.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "skip_wait"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


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
        return player.id_in_group == 1


class Results(Page):
    pass


page_sequence = [Intro, Gather, Results]
