# The no-self format of oTree 5.4+ with the rest of oTree's documented API: an ExtraModel with
# links, custom_export, group.set_players, roles, get_template_name, another app imported,
# templates next to the app's code and participant._is_bot.
from otree.api import *

import intro
from intro import Constants as IntroConstants

doc = """
Pairs bargain over three rounds: the seller names a price, the buyer accepts or not. The
seller's role alternates between the two participants (group.set_players).
"""


class C(BaseConstants):
    NAME_IN_URL = 'bargain'
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 3
    SELLER_ROLE = 'Verkäufer'
    BUYER_ROLE = 'Käufer'
    VALUE = cu(100)
    INSTRUCTIONS_TEMPLATE = __name__ + '/instructions.html'


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    price = models.CurrencyField(initial=0)
    accepted = models.BooleanField(initial=False)


class Player(BasePlayer):
    price = models.CurrencyField(min=0, max=C.VALUE, label="Ihr Preis")
    accept = models.BooleanField(label="Nehmen Sie den Preis an?")
    is_bot = models.BooleanField(initial=False)


class Offer(ExtraModel):
    player = models.Link(Player)
    group = models.Link(Group)
    amount = models.CurrencyField()
    round_number = models.IntegerField()
    withdrawn = models.BooleanField(initial=False)


def creating_session(subsession: Subsession):
    # The seller is player 1 of the group; in even rounds the pair is reversed, so each
    # participant alternates between the roles.
    if subsession.round_number % 2 == 0:
        for group in subsession.get_groups():
            group.set_players(list(reversed(group.get_players())))


def set_payoffs(group: Group):
    seller = group.get_player_by_role(C.SELLER_ROLE)
    buyer = group.get_player_by_role(C.BUYER_ROLE)
    for draft in Offer.filter(group=group, withdrawn=True):
        draft.delete()
    group.price = seller.price
    group.accepted = buyer.accept
    if buyer.accept:
        seller.payoff = seller.price
        buyer.payoff = C.VALUE - seller.price
    else:
        seller.payoff = 0
        buyer.payoff = 0


def custom_export(players):
    yield ['session', 'participant', 'round_number', 'role', 'amount', 'withdrawn']
    for offer in Offer.filter():
        player = offer.player
        yield [
            player.session.code,
            player.participant.code,
            offer.round_number,
            player.role,
            offer.amount,
            offer.withdrawn,
        ]


# PAGES
class Propose(Page):
    form_model = 'player'
    form_fields = ['price']

    @staticmethod
    def is_displayed(player: Player):
        return player.role == C.SELLER_ROLE

    @staticmethod
    def vars_for_template(player: Player):
        return dict(min_age=IntroConstants.min_age, intro_name=intro.__name__)

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        # A withdrawn draft (deleted once both have decided) and the real offer.
        Offer.create(
            player=player,
            group=player.group,
            amount=0,
            round_number=player.round_number,
            withdrawn=True,
        )
        Offer.create(
            player=player,
            group=player.group,
            amount=player.price,
            round_number=player.round_number,
        )
        player.is_bot = player.participant._is_bot


class WaitForSeller(WaitPage):
    title_text = "Einen Moment"
    body_text = "Der Verkäufer denkt nach."


class Respond(Page):
    form_model = 'player'
    form_fields = ['accept']

    @staticmethod
    def is_displayed(player: Player):
        return player.role == C.BUYER_ROLE

    @staticmethod
    def vars_for_template(player: Player):
        offers = Offer.filter(
            group=player.group, round_number=player.round_number, withdrawn=False
        )
        return dict(offers=offers, offer_count=len(Offer.values_dicts(group=player.group)))


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    def get_template_name(self):
        return 'bargain/Outcome.html'


page_sequence = [Propose, WaitForSeller, Respond, ResultsWaitPage, Results]
