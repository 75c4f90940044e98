from otree.api import *

doc = """
Two bidders bid live; the highest bid wins the endowment minus the bid.
"""


class C(BaseConstants):
    NAME_IN_URL = 'auction'
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1
    ENDOWMENT = cu(100)


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    top_bid = models.CurrencyField(initial=0)
    top_bidder = models.IntegerField(initial=0)


class Player(BasePlayer):
    last_bid = models.CurrencyField(initial=0)


class Market(Page):
    timeout_seconds = 60

    @staticmethod
    def vars_for_template(player: Player):
        return dict(prices=dict(start=cu(player.session.config['start_price']), step=2.5))

    @staticmethod
    def js_vars(player: Player):
        return dict(
            start_price=cu(player.session.config['start_price']),
            endowment=C.ENDOWMENT,
            payout=player.participant.payoff_plus_participation_fee(),
            step=2.5,
        )

    @staticmethod
    def live_method(player: Player, data):
        group = player.group
        amount = cu(data['amount'])
        if amount <= group.top_bid:
            return {player.id_in_group: dict(type='error', top=group.top_bid)}
        group.top_bid = amount
        group.top_bidder = player.id_in_group
        player.last_bid = amount
        player.participant.best_bid = amount
        player.session.high_bid = amount
        return {0: dict(type='top', top=group.top_bid, bidder=player.id_in_group)}

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        if player.id_in_group == player.group.top_bidder:
            player.payoff = C.ENDOWMENT - player.group.top_bid


page_sequence = [Market]
