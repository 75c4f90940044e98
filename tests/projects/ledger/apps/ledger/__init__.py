# A test app for the reliability suite: one page per round, each submission writing a field
# and, in the same unit of work, a participant var, so a half-applied submission shows.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "ledger"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 30


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    entry = models.IntegerField()


class Entry(Page):
    form_model = "player"
    form_fields = ["entry"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.participant.vars[f"round_{player.round_number}"] = player.entry


page_sequence = [Entry]
