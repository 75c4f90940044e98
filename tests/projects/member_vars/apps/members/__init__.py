"""Every participant, leaving the first page, counts themselves in their group partner's
participant.vars and marks their own: a participant's row written by a hook of a member of
their group, while the REST API and the admin API write that participant's vars too."""

import time

from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "members"
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
        [partner] = player.get_others_in_group()
        seen = partner.participant.vars.get("seen", 0)
        time.sleep(0.05)  # a hook that takes a moment, as a real one may
        partner.participant.vars["seen"] = seen + 1
        player.participant.vars["greeted"] = True


class Done(Page):
    pass


page_sequence = [Greet, Done]
