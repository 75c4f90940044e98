# A test app: records when the participant moves on to the lobby (oTree's recipe).
import time

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "intro"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Intro(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        player.participant.vars["wait_page_arrival"] = time.time()


page_sequence = [Intro]
