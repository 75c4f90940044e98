from otree.api import *

import intro
from intro import C as IntroC

doc = """
Ultimatum bargaining in pairs for three rounds, written in oTree's older style: a Constants
class with lowercase names, and roles.
"""


class Constants(BaseConstants):
    name_in_url = "bargain"
    players_per_group = 2
    num_rounds = 3
    proposer_role = "Proposer"
    responder_role = "Responder"
    endowment = 100


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    offer = models.IntegerField(min=0, max=Constants.endowment, label="Your offer")


class Player(BasePlayer):
    pass


def set_payoffs(group):
    proposer = group.get_player_by_role(Constants.proposer_role)
    responder = group.get_player_by_role(Constants.responder_role)
    proposer.payoff = Constants.endowment - group.offer
    responder.payoff = group.offer


class Offer(Page):
    form_model = "group"
    form_fields = ["offer"]

    @staticmethod
    def is_displayed(player):
        return player.role == Constants.proposer_role

    def get_template_name(self):
        # The last round has its own wording.
        if self.round_number == Constants.num_rounds:
            return "game/LastOffer.html"
        return "game/Offer.html"


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(
            module_name=__name__,
            intro_module=intro.__name__,
            intro_rounds=IntroC.NUM_ROUNDS,
            rounds_left=Constants.num_rounds - player.round_number,
        )


page_sequence = [Offer, ResultsWaitPage, Results]
