# Bots for the double auction. oTree's bots cannot run a page's JavaScript, so the market is
# played by call_live_method below: it calls the Market page's live_method as each player, as
# liveSend on their pages would. It runs once per group, when the first bot reaches Market.
# Two cases: "trade" (both pairs trade) and "no_trade" (nobody trades before the time is up).
import asyncio
import inspect

from server.api import Bot, Submission, cu, expect

from . import C, Introduction, Market, Offer, Results

# Players 1 and 2 are the buyers, 3 and 4 the sellers (roles follow id_in_group). Values are at
# least C.VALUE_MIN (60) and costs at most C.COST_MAX (50): every bid below is at most 60 and
# every ask at least 50, so each is allowed whatever the values and costs drawn.
BUYER1, BUYER2, SELLER1, SELLER2 = 1, 2, 3, 4


def live(method, id_in_group, data):
    """Send data as player id_in_group; returns what the live method returned."""
    result = method(id_in_group, data)
    # oTree 6.0.15's bots hand back the live method's call unrun (an async generator, as its
    # live methods may be async); running it runs the live method once.
    if inspect.isasyncgen(result):
        (result,) = asyncio.run(_collect(result))
    return result


async def _collect(messages):
    return [message async for message in messages]


def call_live_method(method, **kwargs):
    if kwargs["case"] == "trade":
        trade(method)
    else:
        no_trade(method)


def trade(method):
    # Loading the page sends {}: the book, to that player only, empty so far.
    state = live(method, SELLER1, {})
    expect(list(state), [SELLER1])
    expect(state[SELLER1]["bids"], [])
    expect(state[SELLER1]["done"], False)

    # Offers outside what a player may post are refused, to the sender only.
    refused = live(method, BUYER1, {"price": C.VALUE_MAX + 1})
    expect(list(refused), [BUYER1])
    expect("more than your value" in refused[BUYER1]["error"], True)
    refused = live(method, SELLER1, {"price": C.COST_MIN - 1})
    expect("less than your cost" in refused[SELLER1]["error"], True)
    for bad in ["55", 55.5, None, True, -1, C.MAX_PRICE + 1]:
        refused = live(method, SELLER2, {"price": bad})
        expect("whole number" in refused[SELLER2]["error"], True)

    # Bids and asks that do not cross stand in the book, which the whole group sees.
    live(method, BUYER1, {"price": 52})
    live(method, SELLER1, {"price": 59})
    book = live(method, BUYER2, {"price": 55})
    expect(sorted(book), [BUYER1, BUYER2, SELLER1, SELLER2])
    for state in book.values():
        expect([bid["price"] for bid in state["bids"]], [55, 52])
        expect(state["best_bid"], 55)
        expect(state["best_ask"], 59)
        expect(state["trades"], [])
    expect([bid["mine"] for bid in book[BUYER2]["bids"]], [True, False])

    # Seller 2 asks 54, below the best bid: a trade at 55 (buyer 2's bid was standing first).
    book = live(method, SELLER2, {"price": 54})
    expect(book[SELLER2]["trades"], [dict(price=55, buyer=C.BUYER2_ROLE, seller=C.SELLER2_ROLE)])
    expect(book[BUYER2]["done"], True)
    expect(book[SELLER2]["done"], True)
    expect(book[BUYER1]["done"], False)
    expect(book[BUYER1]["best_bid"], 52)

    # Traders are out of the market.
    refused = live(method, BUYER2, {"price": 56})
    expect(refused[BUYER2]["error"], "You have already traded.")

    # Seller 1 lowers the ask (replacing the old one); buyer 1 bids above it: a trade at 57.
    book = live(method, SELLER1, {"price": 57})
    expect([ask["price"] for ask in book[SELLER1]["asks"]], [57])
    book = live(method, BUYER1, {"price": 58})
    expect(len(book[BUYER1]["trades"]), 2)
    expect(book[BUYER1]["trades"][1], dict(price=57, buyer=C.BUYER1_ROLE, seller=C.SELLER1_ROLE))
    # Nobody is left to trade: the market has closed for everyone.
    for state in book.values():
        expect(state["done"], True)
        expect(state["bids"], [])
        expect(state["asks"], [])


def no_trade(method):
    live(method, BUYER1, {"price": 20})
    live(method, SELLER2, {"price": 90})
    book = live(method, BUYER1, {"price": 25})
    # The new bid replaced the old one.
    expect([bid["price"] for bid in book[SELLER1]["bids"]], [25])
    expect(book[SELLER1]["best_ask"], 90)


# What each player paid or was paid in the "trade" case.
TRADE_PRICES = {BUYER1: 57, BUYER2: 55, SELLER1: 57, SELLER2: 55}


class PlayerBot(Bot):
    cases = ["trade", "no_trade"]

    def play_round(self):
        yield Introduction
        player = self.player
        if self.case == "trade":
            # The page moved on after the trade (no Next button: check_html=False).
            yield Submission(Market, check_html=False)
            price = TRADE_PRICES[player.id_in_group]
            expect(player.traded, True)
            expect(player.trade_price, price)
            if player.id_in_group in (BUYER1, BUYER2):
                expect(player.payoff, cu(player.value - price))
            else:
                expect(player.payoff, cu(price - player.cost))
        else:
            yield Submission(Market, timeout_happened=True, check_html=False)
            expect(player.traded, False)
            expect(player.payoff, cu(0))
        # Whatever stood in the book was withdrawn when the player left the market.
        expect([offer.price for offer in Offer.filter(player=player, active=True)], [])
        yield Results
