"""Every participant, leaving the first page, counts themselves in the participant.vars of
every other participant of the round (other groups' too), and marks their own: rows of other
groups' participants written while those participants submit their own page."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "peers"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Greet(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        others = [p.participant for p in player.subsession.get_players() if p.id != player.id]
        seen = [other.vars.get("seen", 0) for other in others]
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        for other, count in zip(others, seen):
            other.vars["seen"] = count + 1
        player.participant.vars["greeted"] = True


class Done(Page):
    pass


page_sequence = [Greet, Done]
