from otree.api import *

doc = """Everyone picks a number; the group's wait page sums what was picked."""


class C(BaseConstants):
    NAME_IN_URL = "game"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1
    # An amount in C: it rounds as the project's currency does (0.75 in money, 1 in points).
    BONUS = cu(0.75)


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total = models.IntegerField()
    pickers = models.IntegerField()


class Player(BasePlayer):
    number = models.IntegerField(min=0, max=10, label="Pick a number")


def set_total(group: Group):
    numbers = [
        p.field_maybe_none("number")
        for p in group.get_players()
        if p.field_maybe_none("number") is not None
    ]
    group.total = sum(numbers)
    group.pickers = len(numbers)
    for p in group.get_players():
        if p.field_maybe_none("number") is not None:
            p.payoff = C.BONUS


class Pick(Page):
    form_model = "player"
    form_fields = ["number"]


class SumWaitPage(WaitPage):
    after_all_players_arrive = set_total


class Results(Page):
    pass


page_sequence = [Pick, SumWaitPage, Results]
