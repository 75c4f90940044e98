"""Two participants, each alone in a group, each writes their own player row and then the
other's, as a hook that keeps a tally on the other players may: the second write of each
waits for the other's unit (PostgreSQL detects a deadlock and aborts one). The second write
is flushed by an ExtraModel creation inside a ``try`` that swallows any failure (a log entry
must not stop the page)."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "guarded_peers"
    PLAYERS_PER_GROUP = 1
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    mine = models.IntegerField(initial=0)
    theirs = models.IntegerField(initial=0)


class PeerVisit(ExtraModel):
    player = models.Link(Player)


class Count(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        player.mine += 1
        PeerVisit.create(player=player)  # the own row's UPDATE goes out (and holds it)
        time.sleep(0.5)
        for other in player.subsession.get_players():
            if other.id != player.id:
                other.theirs += 1
        try:
            PeerVisit.create(player=player)
        except Exception:
            pass  # logging is best effort


class Done(Page):
    pass


page_sequence = [Count, Done]
