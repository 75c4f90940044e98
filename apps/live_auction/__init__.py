# A continuous double auction on a live page. Each group has two buyers and two sellers. A
# buyer values one unit of a good at a private value; a seller can supply one unit at a private
# cost. While the market is open, buyers post bids and sellers post asks, and everyone in the
# group sees the order book (the bids and asks standing, the best of each) change as it
# happens. A bid at or above the lowest ask, or an ask at or below the highest bid, is a trade
# at the price of the offer that was standing first; the two traders leave the market. The
# market closes after a time limit, or when no buyer or no seller is left to trade with.
#
# How a live page works (oTree's live pages): the page's JavaScript calls liveSend(data); the
# server runs the page's live_method(player, data); whatever that returns, a dict
# {id_in_group: message} (or {0: message} for the whole group), is delivered to those players'
# open pages, where the page's JavaScript function liveRecv(message) draws it. Every offer and
# every trade is also a row of an ExtraModel (Offer, Trade), so the data has the whole market.
import random
import time

from server.api import *

doc = """
Continuous double auction on a live page: 2 buyers and 2 sellers per group post bids and asks,
see a live order book, and trade when a bid meets an ask. With a time limit.
"""


class C(BaseConstants):
    NAME_IN_URL = "live_auction"
    PLAYERS_PER_GROUP = 4
    NUM_ROUNDS = 1
    # Roles follow id_in_group: players 1 and 2 buy, players 3 and 4 sell.
    BUYER1_ROLE = "Buyer 1"
    BUYER2_ROLE = "Buyer 2"
    SELLER1_ROLE = "Seller 1"
    SELLER2_ROLE = "Seller 2"
    BUYER_ROLES = [BUYER1_ROLE, BUYER2_ROLE]
    # Private values and costs are drawn from these ranges (whole points). Every value is above
    # every cost, so any buyer and any seller can both gain from a trade.
    VALUE_MIN = 60
    VALUE_MAX = 100
    COST_MIN = 10
    COST_MAX = 50
    # No bid or ask may be above this.
    MAX_PRICE = 200
    # The market's time limit when the session config does not set market_seconds.
    DEFAULT_MARKET_SECONDS = 60


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    # A buyer's value (empty for sellers) and a seller's cost (empty for buyers), in points.
    value = models.IntegerField()
    cost = models.IntegerField()
    # Set when this player trades: the price of the trade.
    traded = models.BooleanField(initial=False)
    trade_price = models.IntegerField()
    # Set when this player's market page is submitted (a trade, the market closing, or the
    # time limit): their offers are withdrawn and nobody can trade with them any more.
    left_market = models.BooleanField(initial=False)


# One row per bid or ask posted (ExtraModel: many rows per player). Prices are whole numbers of
# points: the live method checks that what the page sent is one.
class Offer(ExtraModel):
    group = models.Link(Group)
    player = models.Link(Player)
    is_bid = models.BooleanField()
    price = models.IntegerField()
    # When it was posted (seconds since 1970, time.time()), to order and time the market.
    posted_at = models.FloatField()
    # True while the offer stands in the order book: it ends when it trades, when the player
    # posts a new offer (which replaces it) or when the player leaves the market.
    active = models.BooleanField()


# One row per trade.
class Trade(ExtraModel):
    group = models.Link(Group)
    buyer = models.Link(Player)
    seller = models.Link(Player)
    price = models.IntegerField()
    traded_at = models.FloatField()


# Runs when the session is created: each buyer draws a value, each seller a cost.
def creating_session(subsession):
    for player in subsession.get_players():
        if is_buyer(player):
            player.value = random.randint(C.VALUE_MIN, C.VALUE_MAX)
        else:
            player.cost = random.randint(C.COST_MIN, C.COST_MAX)


def is_buyer(player):
    return player.role in C.BUYER_ROLES


# The group's standing offers, best first: bids from the highest, asks from the lowest; at the
# same price the earlier offer comes first (offer ids grow as offers are posted).
def standing_bids(group):
    bids = Offer.filter(group=group, is_bid=True, active=True)
    return sorted(bids, key=lambda offer: (-offer.price, offer.id))


def standing_asks(group):
    asks = Offer.filter(group=group, is_bid=False, active=True)
    return sorted(asks, key=lambda offer: (offer.price, offer.id))


# The market is open while at least one buyer and one seller are still in it.
def market_is_open(group):
    in_market = [p for p in group.get_players() if not p.traded and not p.left_market]
    return any(is_buyer(p) for p in in_market) and any(not is_buyer(p) for p in in_market)


def withdraw_offers(player):
    for offer in Offer.filter(player=player, active=True):
        offer.active = False


# Checks and stores one bid or ask, and trades it if it meets the best offer on the other side.
# Returns an error message for the player, or None when the offer was accepted.
def post_offer(player, price):
    group = player.group
    if player.traded:
        return "You have already traded."
    if player.left_market or not market_is_open(group):
        return "The market is closed."
    # JSON has one kind of number: 55.0 and True are not whole prices, 55 is.
    if type(price) is not int or not 0 <= price <= C.MAX_PRICE:
        return f"Enter a whole number of points from 0 to {C.MAX_PRICE}."
    if is_buyer(player) and price > player.value:
        return f"You cannot bid more than your value ({player.value})."
    if not is_buyer(player) and price < player.cost:
        return f"You cannot ask less than your cost ({player.cost})."

    # A new offer replaces the player's standing one.
    withdraw_offers(player)
    offer = Offer.create(
        group=group,
        player=player,
        is_bid=is_buyer(player),
        price=price,
        posted_at=time.time(),
        active=True,
    )
    if is_buyer(player):
        best = standing_asks(group)
        crosses = bool(best) and price >= best[0].price
    else:
        best = standing_bids(group)
        crosses = bool(best) and price <= best[0].price
    if crosses:
        # The trade is at the price of the offer that was standing first.
        other = best[0]
        buyer, seller = (player, other.player) if offer.is_bid else (other.player, player)
        make_trade(group, buyer, seller, other.price)
    return None


def make_trade(group, buyer, seller, price):
    Trade.create(group=group, buyer=buyer, seller=seller, price=price, traded_at=time.time())
    for trader in (buyer, seller):
        trader.traded = True
        trader.trade_price = price
        withdraw_offers(trader)
    buyer.payoff = buyer.value - price
    seller.payoff = price - seller.cost


def group_trades(group):
    trades = sorted(Trade.filter(group=group), key=lambda trade: trade.id)
    return [
        dict(price=trade.price, buyer=trade.buyer.role, seller=trade.seller.role)
        for trade in trades
    ]


# What one player's page shows: the order book, the trades so far, and whether this player
# is done (traded, or the market has closed). The page draws it as it is; it keeps no state.
def market_state(player):
    group = player.group

    def book_entry(offer):
        return dict(
            price=offer.price,
            who=offer.player.role,
            mine=offer.player.id_in_group == player.id_in_group,
        )

    bids = [book_entry(offer) for offer in standing_bids(group)]
    asks = [book_entry(offer) for offer in standing_asks(group)]
    return dict(
        bids=bids,
        asks=asks,
        best_bid=bids[0]["price"] if bids else None,
        best_ask=asks[0]["price"] if asks else None,
        trades=group_trades(group),
        done=player.traded or player.left_market or not market_is_open(group),
    )


class Introduction(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(is_buyer=is_buyer(player))


# Everyone enters the market together.
class MarketWaitPage(WaitPage):
    body_text = "Waiting for the other traders in your group."


class Market(Page):
    timer_text = "Time left in the market:"

    # The time limit comes from the session config (market_seconds), so a session can change
    # it; when it runs out the page is submitted and the player leaves the market untraded.
    @staticmethod
    def get_timeout_seconds(player):
        return player.session.config.get("market_seconds", C.DEFAULT_MARKET_SECONDS)

    @staticmethod
    def vars_for_template(player):
        return dict(is_buyer=is_buyer(player))

    # The page sends {"price": 55} to post a bid (buyers) or an ask (sellers), and {} when it
    # loads (or reloads), to get the order book.
    @staticmethod
    def live_method(player, data):
        if isinstance(data, dict) and "price" in data:
            error = post_offer(player, data["price"])
            if error:
                # Only the sender hears about a refused offer; the book has not changed.
                return {player.id_in_group: dict(market_state(player), error=error)}
            # The book changed: every member of the group gets it, each with their own "done".
            return {p.id_in_group: market_state(p) for p in player.group.get_players()}
        return {player.id_in_group: market_state(player)}

    # However the page ends (a trade, the market closing, the time limit), what this player
    # still has in the book is withdrawn.
    @staticmethod
    def before_next_page(player, timeout_happened):
        withdraw_offers(player)
        player.left_market = True


class ResultsWaitPage(WaitPage):
    body_text = "Waiting for the market to close."


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(is_buyer=is_buyer(player), trades=group_trades(player.group))


# A custom data export (oTree's custom_export): one row per bid or ask posted.
def custom_export(players):
    yield ["session", "group", "participant_code", "role", "kind", "price", "posted_at"]
    for player in players:
        for offer in sorted(Offer.filter(player=player), key=lambda offer: offer.id):
            yield [
                player.session.code,
                player.group.id_in_subsession,
                player.participant.code,
                player.role,
                "bid" if offer.is_bid else "ask",
                offer.price,
                offer.posted_at,
            ]


page_sequence = [Introduction, MarketWaitPage, Market, ResultsWaitPage, Results]
