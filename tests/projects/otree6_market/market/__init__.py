from otree.api import *

doc = """
Pairs trade one good per round: the seller names a price, the buyer buys or not. Each round's
results list the prices so far, as amounts, and the last page marks the participant done with
oTree 6's participant.status.
"""


class C(BaseConstants):
    NAME_IN_URL = 'market'
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2
    SELLER_ROLE = 'Seller'
    BUYER_ROLE = 'Buyer'
    VALUE = cu(10)


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    price = models.CurrencyField(initial=0)


class Player(BasePlayer):
    price = models.CurrencyField(min=0, max=C.VALUE, label="Your price")
    accept = models.BooleanField(label="Do you buy at this price?")


def creating_session(subsession: Subsession):
    if subsession.round_number == 1:
        for player in subsession.get_players():
            player.participant.market_earnings = cu(0)


def set_payoffs(group: Group):
    seller = group.get_player_by_role(C.SELLER_ROLE)
    buyer = group.get_player_by_role(C.BUYER_ROLE)
    group.price = seller.price
    if buyer.accept:
        seller.payoff = seller.price
        buyer.payoff = C.VALUE - seller.price
    for player in group.get_players():
        player.participant.market_earnings += player.payoff


class Offer(Page):
    form_model = 'player'
    form_fields = ['price']
    timeout_seconds = 120

    @staticmethod
    def is_displayed(player: Player):
        return player.role == C.SELLER_ROLE


class OfferWaitPage(WaitPage):
    pass


class Decide(Page):
    form_model = 'player'
    form_fields = ['accept']

    @staticmethod
    def is_displayed(player: Player):
        return player.role == C.BUYER_ROLE


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    @staticmethod
    def vars_for_template(player: Player):
        return dict(
            prices=[p.group.price for p in player.in_all_rounds()],
            shares=[C.VALUE / 4, -C.VALUE / 5],
        )

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        if player.round_number == C.NUM_ROUNDS:
            player.participant.status = 'done'


page_sequence = [Offer, OfferWaitPage, Decide, ResultsWaitPage, Results]
