"""The sample live apps (apps/live_auction, apps/live_counting) played in headless Chromium.

The double auction: four traders, each in a browser context of their own, on a server with two
workers, so a message sent through one worker reaches pages the other serves. An offer typed on
one page shows on the others' within seconds; a refused offer is shown to its sender only; an
offer that meets the best one on the other side is a trade, and the two traders' pages move on
by themselves; a page reloaded mid-market gets the book back; when nobody is left to trade,
everyone reaches the results. The trades, offers and payoffs stored are the ones typed. When
nobody trades, the market's time limit moves every page on by itself and withdraws the offers.

The counting task: the participant types counts and presses Enter or clicks Submit; the page
says at once whether each was right, and the score, the answers and the payoff stored are
those typed. Expected values come from the apps' rules (their comments), not from Grove.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests import databases
from tests.live_server import live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Milliseconds a live message may take to show on another page, or a page to move on.
LIVE_TIMEOUT = 10_000
# Seconds the market stays open when the test lets its time run out.
MARKET_SECONDS = 8
# Seconds the counting task lasts in the test (session config counting_seconds): long enough to
# type a few counts on a busy machine, short enough to wait for its end.
COUNTING_SECONDS = 20


@dataclass
class Server:
    base_url: str
    engine: sa.Engine

    def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of a SELECT; a list parameter fills ``IN :name``."""
        statement = sa.text(query).bindparams(
            *(
                sa.bindparam(name, expanding=True)
                for name, v in params.items()
                if isinstance(v, list)
            )
        )
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(statement, params)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One prodserver with two workers for the module; each test has its own session."""
    database_url = databases.database_url(tmp_path_factory.mktemp("live_samples"), "db")
    with live_server(database_url, workers=2) as base_url:
        engine = databases.engine(database_url)
        yield Server(base_url, engine)
        engine.dispose()


def create_session(server: Server, config: str, count: int, **config_fields: Any) -> list[str]:
    """A session made over the REST API; its participants' start links by id_in_session."""
    created = httpx.post(
        f"{server.base_url}/api/sessions/",
        json={
            "session_config_name": config,
            "num_participants": count,
            "modified_session_config_fields": config_fields,
        },
    )
    assert created.status_code == 200, created.text
    detail = httpx.get(f"{server.base_url}/api/sessions/{created.json()['code']}")
    people = sorted(detail.json()["participants"], key=lambda p: p["id_in_session"])
    return [f"{server.base_url}/InitializeParticipant/{p['code']}" for p in people]


@dataclass
class Person:
    """One participant in a browser context of their own; collects the page's errors."""

    page: Any
    code: str
    problems: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, browser: Any, link: str) -> Person:
        page = browser.new_context().new_page()
        person = cls(page, link.rsplit("/", 1)[-1])
        page.on("pageerror", lambda error: person.problems.append(f"{page.url}: {error}"))
        page.on("console", person._on_console)
        page.goto(link)
        return person

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def click_next(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Next", exact=True).click()

    def shows(self, selector: str, text: str, *, prefix: bool = False) -> None:
        """Wait until the element's text is ``text`` (with ``prefix``: starts with it)."""
        self.page.wait_for_function(
            """([selector, text, prefix]) => {
                const shown = document.querySelector(selector)?.innerText.trim();
                return prefix ? shown?.startsWith(text) : shown === text;
            }""",
            arg=[selector, text, prefix],
            timeout=LIVE_TIMEOUT,
        )

    def moves_to(self, page_name: str) -> None:
        self.page.wait_for_url(re.compile(f"/{page_name}/"), timeout=LIVE_TIMEOUT)

    def close(self) -> None:
        self.page.context.close()


def enter_offer(trader: Person, price: str, *, press_enter: bool = False) -> None:
    trader.page.get_by_label(re.compile("^Your (bid|ask)$")).fill(price)
    if press_enter:
        trader.page.get_by_label(re.compile("^Your (bid|ask)$")).press("Enter")
    else:
        trader.page.get_by_role("button", name="Post", exact=True).click()


def test_four_traders_trade_in_the_live_auction(browser, server):
    links = create_session(server, "live_auction", 4)
    people = [Person.start(browser, link) for link in links]
    for person in people:
        person.click_next()
    # The wait page lets the group into the market together.
    for person in people:
        person.moves_to("Market")
        person.shows("#best-bid", "none")
    by_role = {}
    for person in people:
        role = re.search(r"You are (\w+ \d)\.", person.page.inner_text("main"))
        assert role, person.page.inner_text("main")
        by_role[role.group(1)] = person
    buyer1, buyer2 = by_role["Buyer 1"], by_role["Buyer 2"]
    seller1, seller2 = by_role["Seller 1"], by_role["Seller 2"]

    # Values are from 60 to 100, costs from 10 to 50: a bid of 150 is refused, to its sender.
    enter_offer(buyer1, "150")
    buyer1.shows("#error", "You cannot bid more than your value (", prefix=True)
    # Buyer 1 bids 52 (pressing Enter); seller 1 asks 59: everyone's book shows both.
    enter_offer(buyer1, "52", press_enter=True)
    for person in people:
        person.shows("#best-bid", "52")
    enter_offer(seller1, "59")
    for person in people:
        person.shows("#best-ask", "59")
        person.shows("#bids", "52 (Buyer 1" + (", yours)" if person is buyer1 else ")"))
    for person in (buyer2, seller1, seller2):
        assert person.page.inner_text("#error") == ""

    # Buyer 2 buys at the best ask: a trade at 59 with seller 1, whose pages move on.
    buyer2.page.get_by_role("button", name="Buy at the best ask").click()
    buyer2.moves_to("ResultsWaitPage")
    seller1.moves_to("ResultsWaitPage")
    for person in (buyer1, seller2):
        person.shows("#trades", "Buyer 2 bought from Seller 1 at 59")
        person.shows("#best-ask", "none")
    # Seller 2 reloads the page: the book comes back from the server.
    seller2.page.reload()
    seller2.shows("#best-bid", "52")
    seller2.shows("#trades", "Buyer 2 bought from Seller 1 at 59")
    # An ask of 50, below the best bid: a trade at the bid's 52. Nobody is left to trade.
    enter_offer(seller2, "50")
    for person in people:
        person.moves_to("Results")
    for person in people:
        text = person.page.inner_text("main")
        assert "Buyer 2 bought from Seller 1 at 59 points." in text
        assert "Buyer 1 bought from Seller 2 at 52 points." in text
        assert person.problems == [], person.problems
        person.close()

    stored = server.rows(
        "SELECT p.id, p.id_in_group, p.value, p.cost, p.traded, p.trade_price, p.left_market,"
        " p.payoff FROM live_auction_player p JOIN grove_participant g ON g.id = p.participant_id"
        " WHERE g.code IN :codes",
        codes=[person.code for person in people],
    )
    assert len(stored) == 4
    players = {row["id_in_group"]: row for row in stored}
    prices = {1: 52, 2: 59, 3: 59, 4: 52}
    for id_in_group, row in players.items():
        assert bool(row["traded"])
        assert bool(row["left_market"])
        assert row["trade_price"] == prices[id_in_group]
        if id_in_group <= 2:
            assert row["payoff"] == row["value"] - prices[id_in_group]
        else:
            assert row["payoff"] == prices[id_in_group] - row["cost"]
    ids = {row["id"]: row["id_in_group"] for row in stored}
    trades = server.rows(
        "SELECT buyer_id, seller_id, price FROM live_auction_trade WHERE buyer_id IN :ids"
        " ORDER BY id",
        ids=list(ids),
    )
    assert [(ids[t["buyer_id"]], ids[t["seller_id"]], t["price"]) for t in trades] == [
        (2, 3, 59),
        (1, 4, 52),
    ]
    offers = server.rows(
        "SELECT player_id, is_bid, price, active FROM live_auction_offer WHERE player_id IN :ids"
        " ORDER BY id",
        ids=list(ids),
    )
    # The refused bid of 150 was not stored; none of the others is still standing.
    assert [(ids[o["player_id"]], bool(o["is_bid"]), o["price"]) for o in offers] == [
        (1, True, 52),
        (3, False, 59),
        (2, True, 59),
        (4, False, 50),
    ]
    assert not any(o["active"] for o in offers)


def test_counting_task_scores_what_is_typed(browser, server):
    (link,) = create_session(server, "live_counting", 1, counting_seconds=COUNTING_SECONDS)
    person = Person.start(browser, link)
    person.click_next()
    person.moves_to("Counting")
    person.shows("#item-number", "1")
    answer = person.page.get_by_label("Zeros", exact=True)

    def zeros(number: int) -> int:
        """The zeros in grid ``number`` (drawn on a canvas), from the digits the server keeps."""
        (item,) = server.rows(
            "SELECT i.digits FROM live_counting_item i"
            " JOIN live_counting_player p ON p.id = i.player_id"
            " JOIN grove_participant g ON g.id = p.participant_id"
            " WHERE g.code = :code AND i.number = :number",
            code=person.code,
            number=number,
        )
        return item["digits"].count("0")

    # A right count, sent with Enter: the next grid comes at once.
    typed = [str(zeros(1))]
    answer.fill(typed[0])
    answer.press("Enter")
    person.shows("#item-number", "2")
    person.shows("#feedback", "Correct!")
    person.shows("#score", "1")
    # A wrong one, sent with the Submit button.
    typed.append(str(zeros(2) + 1))
    answer.fill(typed[1])
    person.page.get_by_role("button", name="Submit", exact=True).click()
    person.shows("#item-number", "3")
    person.shows("#feedback", "Incorrect.")
    person.shows("#answered", "2")
    # An empty box is not a count: the grid stays.
    answer.fill("")
    answer.press("Enter")
    person.shows("#feedback", "Enter a whole number from 0 to 50.")
    assert person.page.inner_text("#item-number") == "3"
    # A reload shows the same grid and score; then a right count.
    person.page.reload()
    person.shows("#item-number", "3")
    person.shows("#score", "1")
    typed.append(str(zeros(3)))
    answer.fill(typed[2])
    answer.press("Enter")
    person.shows("#score", "2")
    assert person.page.url.endswith("/Counting/2"), "the time ran out before the test typed"

    # The page ends by itself when the time is up.
    person.page.wait_for_url(re.compile("/Results/"), timeout=(COUNTING_SECONDS + 15) * 1000)
    text = person.page.inner_text("main")
    assert "You counted 2 of 3 grids correctly." in text
    assert "Your payoff: 20 points." in text
    assert person.problems == [], person.problems
    person.close()

    (player,) = server.rows(
        "SELECT p.id, p.score, p.num_answered, p.payoff FROM live_counting_player p"
        " JOIN grove_participant g ON g.id = p.participant_id WHERE g.code = :code",
        code=person.code,
    )
    assert (player["score"], player["num_answered"], player["payoff"]) == (2, 3, 20)
    items = server.rows(
        "SELECT number, answer, is_correct FROM live_counting_item WHERE player_id = :player"
        " ORDER BY number",
        player=player["id"],
    )
    answers = [(i["number"], i["answer"], i["is_correct"]) for i in items]
    # The fourth grid was on screen when the time ran out: stored unanswered.
    assert answers == [
        (1, int(typed[0]), True),
        (2, int(typed[1]), False),
        (3, int(typed[2]), True),
        (4, None, None),
    ]


def test_auction_time_limit_ends_the_market_for_everyone(browser, server):
    # Nobody trades: when the market's time is up, each page submits itself, the offers left
    # in the book are withdrawn and everyone earns nothing.
    links = create_session(server, "live_auction", 4, market_seconds=MARKET_SECONDS)
    people = [Person.start(browser, link) for link in links]
    for person in people:
        person.click_next()
    for person in people:
        person.moves_to("Market")
        person.shows("#best-bid", "none")
    # Bids of 11 and asks of 99: no bid meets an ask.
    for person in people:
        enter_offer(person, "11" if "Your bid" in person.page.inner_text("main") else "99")
    for person in people:
        person.shows("#best-bid", "11")
        person.shows("#best-ask", "99")
    for person in people:
        person.page.wait_for_url(re.compile("/Results/"), timeout=(MARKET_SECONDS + 15) * 1000)
        assert "You did not trade." in person.page.inner_text("main")
        assert person.problems == [], person.problems
        person.close()
    stored = server.rows(
        "SELECT p.id, p.traded, p.left_market, p.payoff FROM live_auction_player p"
        " JOIN grove_participant g ON g.id = p.participant_id WHERE g.code IN :codes",
        codes=[person.code for person in people],
    )
    assert [(bool(r["traded"]), bool(r["left_market"]), r["payoff"]) for r in stored] == [
        (False, True, 0)
    ] * 4
    offers = server.rows(
        "SELECT price, active FROM live_auction_offer WHERE player_id IN :ids ORDER BY id",
        ids=[row["id"] for row in stored],
    )
    assert sorted(offer["price"] for offer in offers) == [11, 11, 99, 99]
    assert not any(offer["active"] for offer in offers)
