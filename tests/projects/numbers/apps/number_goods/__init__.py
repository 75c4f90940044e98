# A public goods game of two whose share is a tie for rounding: contributions of 2 and 3
# points make a pot of 5 and a share of 2.5 points, which oTree rounds half up to 3.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "number_goods"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1
    ENDOWMENT = cu(10)
    MULTIPLIER = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total_contribution = models.CurrencyField()
    individual_share = models.CurrencyField()


class Player(BasePlayer):
    contribution = models.CurrencyField(min=0, max=C.ENDOWMENT)


def set_payoffs(group):
    players = group.get_players()
    group.total_contribution = sum(p.contribution for p in players)
    group.individual_share = group.total_contribution * C.MULTIPLIER / C.PLAYERS_PER_GROUP
    for player in players:
        player.payoff = C.ENDOWMENT - player.contribution + group.individual_share


class Contribute(Page):
    form_model = "player"
    form_fields = ["contribution"]


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    pass


page_sequence = [Contribute, ResultsWaitPage, Results]
