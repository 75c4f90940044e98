"""ExtraModels of every kind of link, custom_export reading them, and set_players."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "market"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1
    BUYER_ROLE = "buyer"
    SELLER_ROLE = "seller"


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    num_bids = models.IntegerField(min=0, max=5, label="How many bids?")
    amount = models.CurrencyField(min=0, max=100, label="Each bid's amount")
    first_role = models.StringField(blank=True)
    was_bot = models.BooleanField(blank=True)


class Bid(ExtraModel):
    player = models.Link(Player)
    amount = models.CurrencyField()
    note = models.StringField(initial="none")


class Offer(ExtraModel):
    sender = models.Link(Player)
    receiver = models.Link(Player)
    group = models.Link(Group)
    amount = models.CurrencyField()
    accepted = models.BooleanField()


class Reply(ExtraModel):
    bid = models.Link(Bid)
    text = models.LongStringField()


class Product(ExtraModel):
    name = models.StringField()
    price = models.FloatField()


def creating_session(subsession):
    for player in subsession.get_players():
        player.first_role = player.role


class Bidding(Page):
    form_model = "player"
    form_fields = ["num_bids", "amount"]

    @staticmethod
    def error_message(player, values):
        if values["num_bids"] == 0 and values["amount"] > 0:
            return "No bids, no amount."

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.was_bot = player.participant._is_bot
        for number in range(player.num_bids):
            bid = Bid.create(player=player, amount=player.amount + number)
            Reply.create(bid=bid, text=f"reply to {bid.id}")
        partner = player.get_others_in_group()[0]
        Offer.create(
            sender=player, receiver=partner, group=player.group, amount=1, accepted=False
        )


class Swap(WaitPage):
    @staticmethod
    def after_all_players_arrive(group):
        group.set_players(list(reversed(group.get_players())))


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(
            bids=Bid.filter(player=player),
            offers_in=Offer.filter(receiver=player),
        )


page_sequence = [Bidding, Swap, Results]


def custom_export(players):
    yield ["participant_code", "id_in_group", "bid_id", "amount", "note"]
    for player in players:
        for bid in Bid.filter(player=player):
            yield [player.participant.code, player.id_in_group, bid.id, bid.amount, bid.note]


def custom_export_all_bids(players):
    yield ["bid_id", "player_id", "amount"]
    for bid in Bid.filter():
        yield [bid.id, bid.player.id, bid.amount]
