# A test app: one participant's page posted twice at once (two tabs, a double click);
# before_next_page counts its runs, in a field and in participant.vars.
import time

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "double"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField(min=0, max=10)
    hook_runs = models.IntegerField(initial=0)


class Submit(Page):
    form_model = "player"
    form_fields = ["answer"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.hook_runs += 1
        seen = player.participant.vars.get("answers_seen_by_hook", [])
        player.participant.vars["answers_seen_by_hook"] = [*seen, player.answer]
        time.sleep(0.05)  # holds the unit of work open while the other tab's request arrives


class Next(Page):
    pass


page_sequence = [Submit, Next]
