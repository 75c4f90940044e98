"""A participant adds one to session.vars["n"] when leaving the first page, taking a second
over it (long enough for the experimenter to change the session meanwhile), then logs the
visit in an ExtraModel row inside a ``try`` that swallows any failure (a log entry must not
stop the page): the row's creation flushes the session's change."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "guarded_vars"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


def creating_session(subsession):
    subsession.session.vars["n"] = 0


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class VarsVisit(ExtraModel):
    player = models.Link(Player)


class Count(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        n = player.session.vars.get("n", 0)
        time.sleep(1.0)
        player.session.vars["n"] = n + 1
        try:
            VarsVisit.create(player=player)
        except Exception:
            pass  # logging is best effort


class Done(Page):
    pass


page_sequence = [Count, Done]
