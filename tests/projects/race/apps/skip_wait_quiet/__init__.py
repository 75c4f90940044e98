# A test app: a group wait page that one member skips (is_displayed False for id_in_group 2),
# with no after_all_players_arrive: its completion changes no group or subsession field.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "skip_wait_quiet"
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


class Gather(WaitPage):
    @staticmethod
    def is_displayed(player):
        return player.id_in_group == 1


class Results(Page):
    pass


page_sequence = [Intro, Gather, Results]
