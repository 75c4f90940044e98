"""Every participant adds one to session.vars["n"] when leaving the first page; all are one
group, so their own submissions take turns (the group is locked), and only the REST API's
session vars posts (by room, as Qualtrics does, and by session code) write the session's
vars beside them."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "notes"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Count(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        n = player.session.vars.get("n", 0)
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        player.session.vars["n"] = n + 1


class Done(Page):
    pass


page_sequence = [Count, Done]
