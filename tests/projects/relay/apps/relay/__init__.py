# A test app: a wait page followed by a page with a time limit, then a second wait page, as a
# typical multiplayer oTree app that copes with dropouts by giving every page a timeout.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "relay"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    decide_timed_out = models.BooleanField(initial=False)


class MoveOntoDecide(ExtraModel):
    """One row each time the participant is moved onto Decide (its is_displayed runs then): a
    row inserted, not a counter updated, so two concurrent moves could not hide one another."""

    player = models.Link(Player)


class Intro(Page):
    pass


class Gather(WaitPage):
    pass


class Decide(Page):
    @staticmethod
    def is_displayed(player):
        MoveOntoDecide.create(player=player)
        return True

    @staticmethod
    def get_timeout_seconds(player):
        return player.session.config["decide_seconds"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.decide_timed_out = timeout_happened


class Regroup(WaitPage):
    pass


class Results(Page):
    pass


page_sequence = [Intro, Gather, Decide, Regroup, Results]


def custom_export(players):
    yield ["participant_code", "moves_onto_decide"]
    for player in players:
        yield [player.participant.code, len(MoveOntoDecide.filter(player=player))]
