"""A live method named by a string: a Player method, or a function of the module."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "live_other"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total = models.IntegerField(initial=0)


class Player(BasePlayer):
    pass


def live_total(player, data):
    player.group.total += data
    return {0: player.group.total}


class ByName(Page):
    live_method = "live_total"


class Skipped(Page):
    live_method = "live_total"

    @staticmethod
    def is_displayed(player):
        return False


class Lobby(WaitPage):
    # oTree 6: a wait page may have a live method too.
    live_method = live_total


class Last(Page):
    pass


page_sequence = [ByName, Skipped, Lobby, Last]
