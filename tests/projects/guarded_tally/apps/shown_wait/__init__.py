"""A group wait page without hooks, then a page whose is_displayed adds one to a subsession
field for each player, once: run by the group's last arrival for every member as it moves
them on (in a savepoint), by last arrivals of different groups at once."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "shown_wait"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    n = models.IntegerField(initial=0)


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    counted = models.BooleanField(initial=False)


class Start(Page):
    pass


class Together(WaitPage):
    pass


class Shown(Page):
    @staticmethod
    def is_displayed(player):
        if not player.counted:
            subsession = player.subsession
            n = subsession.n
            time.sleep(0.05)  # a hook that takes a moment, as a real one may
            subsession.n = n + 1
            player.counted = True
        return True


page_sequence = [Start, Together, Shown]
