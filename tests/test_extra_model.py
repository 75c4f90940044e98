"""ExtraModel (oTree's documented API, behaviour measured with oTree 6.0.15's ``otree test`` on
the same app): real tables with foreign keys, ``create``/``filter``/``values_dicts``/``delete``
in the page's unit of work, custom_export reading them, their own export, session deletion.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import create_app
from server.config import load_settings
from server.models.core import ExperimentSession, Participant
from server.session_admin import delete_session
from tests import databases
from tests.conftest import create_demo_session

EXTRAS = Path(__file__).resolve().parent / "projects" / "extras"


@pytest.fixture
def market(tmp_path: Path) -> Iterator[tuple[Starlette, TestClient]]:
    app = create_app(load_settings(EXTRAS, {"DATABASE_URL": databases.database_url(tmp_path)}))
    with TestClient(app) as client:
        yield app, client
    app.state.grove.db.dispose()


def _models(app: Starlette) -> Any:
    return app.state.grove.project.apps["market"].module


def _play(client: TestClient, bids: list[int]) -> tuple[str, list[str]]:
    """Each participant submits the Bidding page with bids[i] bids of 10, 11, ... points."""
    code, links = create_demo_session(client, "market")
    urls = [client.get(link, follow_redirects=False).headers["location"] for link in links]
    for url, count in zip(urls, bids, strict=True):
        response = client.post(url, data={"num_bids": str(count), "amount": "10"})
        assert response.status_code == 200, response.text
    return code, links


def test_each_extra_model_is_a_real_table_with_foreign_keys(market):
    app, _client = market
    inspector = sa.inspect(app.state.grove.db.engine)
    tables = set(inspector.get_table_names())
    assert {"market_bid", "market_offer", "market_reply", "market_product"} <= tables
    columns = {c["name"]: c for c in inspector.get_columns("market_bid")}
    assert list(columns) == ["id", "session_id", "player_id", "amount", "note"]
    foreign = {
        fk["constrained_columns"][0]: (fk["referred_table"], fk["options"].get("ondelete"))
        for fk in inspector.get_foreign_keys("market_bid")
    }
    assert foreign == {
        "session_id": ("grove_session", "CASCADE"),
        "player_id": ("market_player", "CASCADE"),
    }
    offer_links = {
        fk["constrained_columns"][0] for fk in inspector.get_foreign_keys("market_offer")
    }
    assert offer_links == {"session_id", "sender_id", "receiver_id", "group_id"}
    reply = {
        fk["constrained_columns"][0]: fk["referred_table"]
        for fk in inspector.get_foreign_keys("market_reply")
    }
    assert reply["bid_id"] == "market_bid"


def test_pages_create_rows_that_filter_and_values_dicts_read_back(market):
    app, client = market
    code, _links = _play(client, [1, 2, 3, 0])
    m = _models(app)
    with app.state.grove.db.transaction() as db:
        session_id = db.scalar(
            sa.select(ExperimentSession.id).where(ExperimentSession.code == code)
        )
        players = db.scalars(sa.select(m.Player).order_by(m.Player.participant_id)).all()
        third = players[2]
        bids = m.Bid.filter(player=third)
        # By id, as oTree; the field's initial is stored; Currency comes back as Currency.
        assert [(b.amount, b.note) for b in bids] == [(10, "none"), (11, "none"), (12, "none")]
        assert [b.id for b in bids] == sorted(b.id for b in bids)
        assert all(b.player.id == third.id and b.session_id == session_id for b in bids)
        assert type(bids[0].amount).__name__ == "Currency"
        assert bids[0].player.participant.code == third.participant.code
        assert m.Bid.values_dicts(player=third) == [
            {"id": b.id, "amount": b.amount, "note": "none", "player_id": third.id} for b in bids
        ]
        assert [d["amount"] for d in m.Bid.values_dicts(player=third, order_by="amount")] == [
            10,
            11,
            12,
        ]
        # Several links; a filter by any of them, and by a field with a row.
        partner = third.get_others_in_group()[0]
        [offer] = m.Offer.filter(receiver=partner)
        assert (offer.sender.id, offer.group.id, offer.accepted) == (
            third.id,
            third.group.id,
            False,
        )
        assert m.Offer.filter(group=third.group, accepted=True) == []
        # A link to another ExtraModel.
        [reply] = m.Reply.filter(bid=bids[0])
        assert reply.text == f"reply to {bids[0].id}"
        assert reply.bid.amount == 10
        # Every row, with no arguments (custom_export's use).
        assert len(m.Bid.filter()) == 6
        assert len(m.Reply.filter()) == 6


def test_create_and_filter_refuse_what_the_model_does_not_declare(market):
    app, client = market
    _play(client, [1, 1, 1, 1])
    m = _models(app)
    with app.state.grove.db.transaction() as db:
        player = db.scalars(sa.select(m.Player)).first()
        group = player.group
        with pytest.raises(TypeError, match=r"Bid.create\(\): no field or link named 'colour'"):
            m.Bid.create(player=player, colour=3)
        with pytest.raises(TypeError, match=r"Bid.filter\(\): no field or link named 'colour'"):
            m.Bid.filter(player=player, colour=3)
        # oTree: at least one argument must be a row, so a query stays in its session.
        with pytest.raises(ValueError, match="at least one argument must be a row"):
            m.Bid.filter(amount=10)
        with pytest.raises(TypeError, match=r"Bid\.player links to Player, not to Group"):
            m.Bid.create(player=group, amount=1)
        with pytest.raises(TypeError, match="the id is given by the database"):
            m.Bid.create(player=player, id=99)
        with pytest.raises(TypeError, match="order by"):
            m.Bid.values_dicts(player=player, order_by="colour")
        with pytest.raises(TypeError, match="must be a Currency"):
            m.Bid.create(player=player, amount="ten")


def test_create_returns_the_row_with_its_id_and_delete_removes_it_and_what_links_to_it(market):
    app, client = market
    _play(client, [1, 1, 1, 1])
    m = _models(app)
    with app.state.grove.db.transaction() as db:
        player = db.scalars(sa.select(m.Player)).first()
        bid = m.Bid.create(player=player, amount=7)
        assert isinstance(bid.id, int)
        assert bid.note == "none"
        assert bid.amount == 7
        reply = m.Reply.create(bid=bid, text="hello")
        assert reply.session_id == player.session_id
        product = m.Product.create(name="Apple", price=0.99)  # no link: the current unit of work
        assert product.session_id is None
        assert product.id is not None
        assert m.Product.values_dicts() == [{"id": product.id, "name": "Apple", "price": 0.99}]
        bid_id = bid.id
        bid.delete()
        assert [b.id for b in m.Bid.filter(player=player) if b.id == bid_id] == []
        assert m.Reply.filter(bid=bid) == []  # deleted with the row it links to (CASCADE)
    with app.state.grove.db.read() as db:
        assert db.get(m.Bid, bid_id) is None


def test_a_row_cannot_link_rows_of_two_sessions(market):
    app, client = market
    _play(client, [1, 1, 1, 1])
    _play(client, [1, 1, 1, 1])
    m = _models(app)
    with app.state.grove.db.transaction() as db:
        players = db.scalars(sa.select(m.Player).order_by(m.Player.id)).all()
        first, other = players[0], players[-1]
        assert first.session_id != other.session_id
        with pytest.raises(ValueError, match="different sessions"):
            m.Offer.create(sender=first, receiver=other, amount=1)


def test_deleting_a_session_deletes_its_extra_model_rows_only(market):
    app, client = market
    doomed, _ = _play(client, [2, 2, 2, 2])
    kept, _ = _play(client, [1, 1, 1, 1])
    grove = app.state.grove
    delete_session(grove.db, grove.project, doomed, who="test")
    engine = grove.db.engine
    with engine.connect() as connection:
        for table, expected in (("market_bid", 4), ("market_reply", 4), ("market_offer", 4)):
            rows = connection.execute(sa.text(f"SELECT session_id FROM {table}")).all()
            assert len(rows) == expected, table
            assert {row.session_id for row in rows} == {
                connection.scalar(sa.text(f"SELECT id FROM grove_session WHERE code = '{kept}'"))
            }


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def test_custom_export_reads_extra_model_rows(market):
    _app, client = market
    code, _links = _play(client, [1, 2, 0, 0])
    rows = _csv(client.get("/api/export/market/custom_export", params={"session": code}))
    assert rows[0] == ["participant_code", "id_in_group", "bid_id", "amount", "note"]
    assert [row[3:] for row in rows[1:]] == [["10.0", "none"], ["10.0", "none"], ["11.0", "none"]]
    # Bid.filter() without arguments, in a streamed answer.
    every = _csv(client.get("/api/export/market/custom_export_all_bids"))
    assert every[0] == ["bid_id", "player_id", "amount"]
    assert len(every) == 4


def test_each_extra_model_is_an_export_of_its_own(market):
    _app, client = market
    first, _ = _play(client, [1, 0, 0, 0])
    second, _ = _play(client, [2, 0, 0, 0])
    rows = _csv(client.get("/api/export/market/Bid", params={"session": second}))
    assert rows[0] == ["session_code", "id", "amount", "note", "player_id"]
    assert [(r[0], r[2], r[3]) for r in rows[1:]] == [
        (second, "10.0", "none"),
        (second, "11.0", "none"),
    ]
    everything = _csv(client.get("/api/export/market/Bid"))
    assert [r[0] for r in everything[1:]] == [first, second, second]
    as_json = client.get("/api/export/market/Offer", params={"format": "json"})
    assert as_json.status_code == 200
    # ?since= applies (tests/test_export_since_extra_model.py); a bad value is refused.
    assert len(_csv(client.get("/api/export/market/Bid", params={"since": "0"}))) == 4
    refused = client.get("/api/export/market/Bid", params={"since": "soon"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "since"
    missing = client.get("/api/export/market/Nothing")
    assert missing.status_code == 404
    assert "its ExtraModels: Bid, Offer, Reply, Product" in (missing.json()["error"])


def test_participant_is_bot_is_false_for_people(market):
    app, client = market
    code, _links = _play(client, [1, 1, 1, 1])
    m = _models(app)
    with app.state.grove.db.transaction() as db:
        assert {p.was_bot for p in db.scalars(sa.select(m.Player))} == {False}
        assert {p._is_bot for p in db.scalars(sa.select(Participant))} == {False}
    rows = _csv(client.get("/api/export/market", params={"session": code}))
    assert {row[rows[0].index("participant._is_bot")] for row in rows[1:]} == {"0"}


def test_results_show_the_players_rows_read_in_vars_for_template(market):
    _app, client = market
    _code, links = _play(client, [2, 2, 2, 2])
    html = client.get(links[0]).text
    assert re.findall(r'class="bid">([^<]*)', html) == ["10 points", "11 points"]


def test_the_data_export_page_offers_each_extra_model(tmp_path):
    from tests.admin_pages import log_in

    settings = load_settings(
        EXTRAS,
        {"DATABASE_URL": databases.database_url(tmp_path), "OTREE_ADMIN_PASSWORD": "x-s3cret"},
    )
    app = create_app(settings)
    with TestClient(app) as admin:
        _play(admin, [1, 1, 1, 1])
        log_in(admin, "x-s3cret")
        page = admin.get("/export").text
        assert "App market: ExtraModel Bid" in page
        links = re.findall(r'href="(/export/[^"]+)"', page)
        for model in ("Bid", "Offer", "Reply", "Product"):
            assert f"/export/market/{model}?format=csv" in links
        rows = _csv(admin.get("/export/market/Reply?format=csv"))
        assert len(rows) == 5
    app.state.grove.db.dispose()


SHOP = """\
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "shop"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Bid(ExtraModel):
{bid}
{more}

class Buy(Page):
    @staticmethod
    def before_next_page(player, timeout_happened):
        Bid.create(player=player, amount=5)


page_sequence = [Buy, Buy]
"""


def _shop(root: Path, bid: str, more: str = "") -> Path:
    """A project whose ``shop`` app declares ``class Bid(ExtraModel)`` with ``bid``'s lines
    (and ``more`` after it); each of its two pages creates a Bid of 5."""
    app = root / "apps" / "shop"
    app.mkdir(parents=True)
    (root / "settings.py").write_text('SECRET_KEY = "extra-schema-test"\n')
    (root / "session_configs.py").write_text(
        'SESSION_CONFIGS = [dict(name="shop", app_sequence=["shop"], num_demo_participants=1)]\n'
    )
    (app / "__init__.py").write_text(SHOP.format(bid=bid, more=more))
    (app / "Buy.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}\n")
    return root


def _buy(root: Path, url: str) -> None:
    app = create_app(load_settings(root, {"DATABASE_URL": url}))
    with TestClient(app) as client:
        _code, [link] = create_demo_session(client, "shop")
        page = client.get(link, follow_redirects=False).headers["location"]
        assert client.post(page, follow_redirects=False).status_code == 303
    app.state.grove.db.dispose()


def test_a_new_extra_model_field_link_or_model_is_added_at_start(tmp_path):
    from server.db import Database
    from server.errors import SchemaMismatch
    from server.project import load_project
    from server.schema import migrate_database

    url = databases.database_url(tmp_path, "shop")
    player_link = "    player = models.Link(Player)\n"
    _buy(_shop(tmp_path / "v1", player_link + "    amount = models.CurrencyField()"), url)
    v2 = _shop(
        tmp_path / "v2",
        player_link + "    amount = models.CurrencyField()\n"
        "    note = models.StringField()\n    group = models.Link(Group)",
        "\n\nclass Ask(ExtraModel):\n    bid = models.Link(Bid)\n",
    )
    _buy(v2, url)
    engine = databases.engine(url)
    try:
        inspector = sa.inspect(engine)
        assert [c["name"] for c in inspector.get_columns("shop_bid")] == [
            "id",
            "session_id",
            "player_id",
            "amount",
            "group_id",
            "note",
        ]
        assert "shop_ask" in inspector.get_table_names()
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT amount, note FROM shop_bid")).all()
        assert rows == [(5.0, None), (5.0, None)]  # the old row is kept, its new field None
    finally:
        engine.dispose()

    # A field or link the model no longer declares is refused, named as the experimenter
    # wrote it, until migrate --allow-destructive drops it (on SQLite a link's column is
    # dropped by copying the table: SQLite cannot drop a column a foreign key uses).
    v3 = _shop(tmp_path / "v3", player_link + "    amount = models.CurrencyField()")
    v3_settings = load_settings(v3, {"DATABASE_URL": url})
    with pytest.raises(SchemaMismatch, match=r"app shop, Bid\.note"):
        create_app(v3_settings)
    database = Database(url)
    try:
        done = migrate_database(database, load_project(v3_settings), allow_destructive=True)
    finally:
        database.dispose()
    assert sorted(done) == [
        "app shop, Bid.group_id: dropped column shop_bid.group_id and its values",
        "app shop, Bid.note: dropped column shop_bid.note and its values",
    ]
    _buy(v3, url)
    engine = databases.engine(url)
    try:
        inspector = sa.inspect(engine)
        assert [c["name"] for c in inspector.get_columns("shop_bid")] == [
            "id",
            "session_id",
            "player_id",
            "amount",
        ]
        assert {k["referred_table"] for k in inspector.get_foreign_keys("shop_bid")} == {
            "grove_session",
            "shop_player",
        }
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM shop_bid")).scalar_one() == 3
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("bid", "message"),
    [
        ("    id = models.IntegerField()", r"Bid\.id uses a name Grove reserves"),
        ("    session = models.StringField()", r"Bid\.session uses a name Grove reserves"),
        (
            "    player = models.Link(Player)\n    player_id = models.IntegerField()",
            r"Bid\.player_id: the link 'player' is stored in a column of that name",
        ),
        ("    later = models.Link(int)", r"Bid\.later links to int, which is not a model"),
    ],
)
def test_an_extra_model_that_cannot_be_stored_is_refused_at_start(tmp_path, bid, message):
    from server.errors import ConfigurationError

    root = _shop(tmp_path / "bad", bid)
    with pytest.raises(ConfigurationError, match=message):
        create_app(load_settings(root, {"DATABASE_URL": databases.database_url(tmp_path)}))


def test_read_csv_types_the_columns_by_an_extra_models_fields(market, tmp_path):
    from server.api import read_csv

    app, client = market
    _play(client, [1, 1, 1, 1])
    path = tmp_path / "products.csv"
    path.write_text("name,price\nApple,0.99\nMango,3.79\n", encoding="utf-8")
    m = _models(app)
    rows = read_csv(path, m.Product)
    assert rows == [dict(name="Apple", price=0.99), dict(name="Mango", price=3.79)]
    with app.state.grove.db.transaction() as db:
        player = db.scalars(sa.select(m.Player)).first()
        made = [m.Product.create(**row) for row in rows]
        assert [p.name for p in made] == ["Apple", "Mango"]
        assert m.Bid.create(player=player, amount=rows[1]["price"]).amount == 4
