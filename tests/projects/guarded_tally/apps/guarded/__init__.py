"""Every participant adds one to a subsession field when leaving the first page, then logs
the visit in an ExtraModel row inside a ``try`` that swallows any failure (a log entry must not
stop the page): the row's creation flushes the subsession's change."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "guarded"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    n = models.IntegerField(initial=0)


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Visit(ExtraModel):
    player = models.Link(Player)


class Count(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        subsession = player.subsession
        n = subsession.n
        # A hook that takes a moment, as a real one may; with the config's slow_first, the
        # first participant's a second (another one's unit reads and commits meanwhile).
        slow = player.session.config.get("slow_first") and player.id_in_subsession == 1
        time.sleep(1.0 if slow else 0.05)
        subsession.n = n + 1
        try:
            Visit.create(player=player)
        except Exception:
            pass  # logging is best effort


class Done(Page):
    pass


page_sequence = [Count, Done]
