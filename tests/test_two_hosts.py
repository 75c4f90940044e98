"""Two Grove hosts on one PostgreSQL database, behind a load balancer that sends each
participant's consecutive requests to alternate hosts.

Two ``prodserver --workers 2`` processes share one fresh database and one configuration
(secret key, REST key, admin password, production mode), as two machines of one deployment
would. Each participant is a small browser: its own cookies, sent to both hosts (one domain);
redirects followed by hand so that each hop alternates too; wait pages long-polled as grove.js
does, the room's waiting page polled as grove-room.js does. The database is then read directly.

The project is the sample project, copied, with three additions: the
``after_all_players_arrive`` hooks of public_goods and trust also count their runs in their
players' participant.vars (so "exactly once per group" is read from the database); a room with
40 labels and signed links (the sample room econ101 has only 8 labels); and an app, slow_hook,
whose first group's hook takes a second, so that two groups' completions commit in the other
order than they were claimed.
"""

from __future__ import annotations

import html
import itertools
import re
import shutil
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from server.bots.html_form import HtmlForm, parse_forms
from server.db import Database
from tests.live_server import REPO_ROOT, live_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET_KEY = "two-hosts-shared-secret-of-both-hosts-0123"
REST_KEY = "two-hosts-rest-key"
ADMIN_PASSWORD = "two-hosts-admin"
REST_HEADERS = {"otree-rest-key": REST_KEY}
ROOM = "two_hosts"
LABELS = [f"student{i:02d}" for i in range(1, 41)]
# A wait page completed on one host must wake a long poll held on the other within this.
WAKE_BOUND_SECONDS = 3.0
# Every phase of a test (all its participants) must end within this.
PHASE_SECONDS = 60.0

Answers = Callable[[str], dict[str, str]]

_HOOK_COUNTER = """

# Added by tests/test_two_hosts.py: each run of after_all_players_arrive counts itself in
# the participant.vars of the group's players, so the test can read the number of runs.
def _count_runs(hook):
    def counted(group):
        key = "hook_runs_" + C.NAME_IN_URL
        for player in group.get_players():
            player.participant.vars[key] = player.participant.vars.get(key, 0) + 1
        return hook(group)

    return counted
"""

# A third app, for wake-ups: the first group's hook is slow (a long computation, a call to
# another service), so its completion row is claimed before the second group's but committed
# after it.
SLOW_HOOK_SECONDS = 1.0
_SLOW_HOOK_APP = f"""
import time

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "slow_hook"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


def after_sync(group):
    if group.id_in_subsession == 1:
        time.sleep({SLOW_HOOK_SECONDS})


class Decide(Page):
    pass


class Sync(WaitPage):
    after_all_players_arrive = after_sync


class Done(Page):
    pass


page_sequence = [Decide, Sync, Done]
"""


def build_project(root: Path) -> Path:
    """The sample project copied to ``root``, with counted hooks, a 40-label secure room and
    the slow_hook app."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "apps", root / "apps", ignore=ignore)
    shutil.copytree(REPO_ROOT / "rooms", root / "rooms", ignore=ignore)
    for name in ("settings.py", "session_configs.py", "shared_out.py"):
        shutil.copy(REPO_ROOT / name, root / name)
    (root / "rooms" / f"{ROOM}.txt").write_text("\n".join(LABELS) + "\n", encoding="utf-8")
    with open(root / "settings.py", "a", encoding="utf-8") as settings:
        settings.write(
            f"\nROOMS.append(dict(name={ROOM!r}, display_name='Two hosts', "
            f"participant_label_file='rooms/{ROOM}.txt', use_secure_urls=True))\n"
        )
    with open(root / "apps" / "public_goods" / "__init__.py", "a", encoding="utf-8") as app:
        app.write(
            _HOOK_COUNTER
            + "\n\nResultsWaitPage.after_all_players_arrive = _count_runs(set_payoffs)\n"
        )
    with open(root / "apps" / "trust" / "__init__.py", "a", encoding="utf-8") as app:
        # Its ResultsWaitPage names the hook ("set_payoffs"): rebinding the name counts it.
        app.write(_HOOK_COUNTER + "\n\nset_payoffs = _count_runs(set_payoffs)\n")
    slow = root / "apps" / "slow_hook"
    slow.mkdir()
    (slow / "__init__.py").write_text(_SLOW_HOOK_APP, encoding="utf-8")
    (slow / "Decide.html").write_text("{{ block content }}{{ next_button }}{{ endblock }}\n")
    (slow / "Done.html").write_text("{{ block content }}Done.{{ endblock }}\n")
    with open(root / "session_configs.py", "a", encoding="utf-8") as configs:
        configs.write(
            "\nSESSION_CONFIGS.append(dict(name='slow_hook', app_sequence=['slow_hook'], "
            "num_demo_participants=2))\n"
        )
    return root


@dataclass
class Hosts:
    """The two servers of the deployment, their logs, and the shared database."""

    urls: list[str]
    logs: list[Path]
    database_url: str

    def log_text(self) -> str:
        parts = []
        for url, path in zip(self.urls, self.logs, strict=True):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"===== log of host {url} ({path}) =====\n{text[-20000:]}")
        return "\n".join(parts)

    def assert_no_server_errors(self) -> None:
        """Neither host logged a traceback (a 5xx, or a failing background task)."""
        text = self.log_text()
        assert "Traceback" not in text, text

    def read(self, sql: str, **params: Any) -> list[Any]:
        """Rows of a query on the shared database, read directly."""
        database = Database(self.database_url)
        try:
            with database.engine.connect() as connection:
                return list(connection.execute(sa.text(sql), params).mappings())
        finally:
            database.dispose()


@contextmanager
def logs_on_failure(hosts: Hosts) -> Iterator[None]:
    """Print both servers' logs when the block fails (pytest shows them with the failure)."""
    try:
        yield
    except BaseException:
        print(hosts.log_text())
        raise


@pytest.fixture(scope="module")
def hosts(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """Two prodservers (2 workers each) on one fresh PostgreSQL database, one configuration."""
    from tests.postgres import create_database

    workdir = tmp_path_factory.mktemp("two_hosts")
    project = build_project(workdir / "project")
    database_url = create_database(postgres_server_url)
    env = {
        "GROVE_PROJECT_ROOT": str(project),
        "OTREE_SECRET_KEY": SECRET_KEY,
        "OTREE_REST_KEY": REST_KEY,
        "OTREE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "OTREE_PRODUCTION": "1",
    }
    logs = [workdir / "host_a.log", workdir / "host_b.log"]
    with ExitStack() as stack:
        # One after the other, as a deployment rolls out: the first creates the tables.
        urls = [
            stack.enter_context(live_server(database_url, workers=2, extra_env=env, log_path=log))
            for log in logs
        ]
        yield Hosts(urls, logs, database_url)


class ServerError(AssertionError):
    """A host answered 5xx, or did not answer."""


@dataclass
class Browser:
    """One participant's browser behind the load balancer: its n-th request goes to host n % 2.

    Its cookies are its own and go to both hosts, as a browser sends them to one domain (the
    balancer's, which ends TLS: the admin cookie is ``Secure`` in production and is sent too);
    ``hops`` lists every request as (host, method, path, status).
    """

    hosts: Hosts
    next_host: int = 0
    cookies: dict[str, str] = field(default_factory=dict)
    hops: list[tuple[int, str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._clients = [httpx.Client(base_url=url, timeout=40) for url in self.hosts.urls]

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def request(
        self,
        method: str,
        path: str,
        form: list[tuple[str, str]] | None = None,
        *,
        host: int | None = None,
    ) -> httpx.Response:
        """One request, to ``host`` or else to the next host in turn; redirects not followed.

        Raises ServerError on a 5xx or no answer, naming the request and the host.
        """
        if host is None:
            host = self.next_host
            self.next_host = 1 - self.next_host
        client = self._clients[host]
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        content = urlencode(form) if form is not None else None
        try:
            response = client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ServerError(
                f"{method} {path} on host {host} ({self.hosts.urls[host]}): no answer, {exc!r}"
            ) from exc
        finally:
            client.cookies.clear()  # the browser's cookies live in self.cookies only
        self.hops.append((host, method, path, response.status_code))
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.status_code >= 500:
            raise ServerError(
                f"{method} {path} on host {host} ({self.hosts.urls[host]}) answered "
                f"{response.status_code}:\n{response.text[:2000]}"
            )
        return response

    def go(
        self, method: str, path: str, form: list[tuple[str, str]] | None = None
    ) -> tuple[httpx.Response, str]:
        """Request, then follow redirects with GETs, each to the next host; the end and its path."""
        response = self.request(method, path, form)
        for _ in range(10):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response, path
            path = path_of(response.headers["location"])
            response = self.request("GET", path)
        raise AssertionError(f"more than 10 redirects after {method} {path}")


def path_of(url: str) -> str:
    """The path and query of a URL (absolute or not)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_with_id(page: str, form_id: str) -> HtmlForm | None:
    return next((f for f in parse_forms(page) if f.attributes.get("id") == form_id), None)


STATUS_URL = re.compile(r'data-status-url="([^"]+)"')


@dataclass
class Waited:
    """One wait page as a participant lived it (times are time.time())."""

    page_path: str
    started: float
    answered: float
    polls: int


def wait_on_page(browser: Browser, page: str, page_path: str, deadline: float) -> Waited:
    """Long-poll the wait page's status URL with ``?wait=1`` until ready, as grove.js does."""
    found = STATUS_URL.search(page)
    assert found is not None, f"{page_path}: a wait page without a status URL"
    status_url = html.unescape(found.group(1))
    started, polls = time.time(), 0
    while time.monotonic() < deadline:
        polls += 1
        answer = browser.request("GET", status_url + "?wait=1")
        assert answer.status_code == 200, (page_path, answer.status_code, answer.text)
        if answer.json()["ready"]:
            return Waited(page_path, started, time.time(), polls)
    raise AssertionError(f"{page_path}: still waiting at the time limit")


@dataclass
class Run:
    """What one participant went through."""

    code: str
    pages: list[str] = field(default_factory=list)
    waits: list[Waited] = field(default_factory=list)
    last_page: str = ""


def play(browser: Browser, code: str, answers: Answers, deadline: float) -> Run:
    """Play from the participant's start link to the page without a Next button.

    ``answers(page_name)`` is what the participant types on that page.
    """
    run = Run(code)
    response, path = browser.go("GET", f"/InitializeParticipant/{code}")
    while time.monotonic() < deadline:
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        run.pages.append(path)
        if 'id="grove-wait"' in response.text:
            run.waits.append(wait_on_page(browser, response.text, path, deadline))
            response, path = browser.go("GET", path)  # grove.js reloads the page
            continue
        form = form_with_id(response.text, "form")
        if form is None or not form.has_submit_button():
            run.last_page = path
            return run
        pairs = form.submission(answers(path.split("/")[4]))
        response, path = browser.go("POST", form.action or path, pairs)
    raise AssertionError(f"participant {code} did not finish in time; pages: {run.pages}")


def play_all(hosts: Hosts, players: list[tuple[str, Answers]]) -> list[Run]:
    """Play every participant in its own thread, all starting at once; every one must finish."""
    deadline = time.monotonic() + PHASE_SECONDS
    barrier = threading.Barrier(len(players))
    browsers = [Browser(hosts, next_host=i % 2) for i in range(len(players))]

    def one(index: int) -> Run:
        code, answers = players[index]
        barrier.wait(timeout=30)
        return play(browsers[index], code, answers, deadline)

    try:
        with ThreadPoolExecutor(len(players)) as pool:
            runs = list(pool.map(one, range(len(players))))
    finally:
        for browser in browsers:
            browser.close()
    assert_alternated(browsers)
    return runs


def assert_alternated(browsers: list[Browser]) -> None:
    """Every browser's consecutive requests went to different hosts."""
    for browser in browsers:
        used = [hop[0] for hop in browser.hops]
        assert len(set(used)) == 2, browser.hops
        assert all(a != b for a, b in itertools.pairwise(used)), browser.hops


def create_session(hosts: Hosts, host: int, **body: Any) -> str:
    """Create a session over the REST API on one host; its code."""
    response = httpx.post(
        f"{hosts.urls[host]}/api/sessions/", json=body, headers=REST_HEADERS, timeout=60
    )
    assert response.status_code in (200, 201), response.text
    return response.json()["code"]


def session_detail(hosts: Hosts, host: int, session_code: str) -> dict[str, Any]:
    response = httpx.get(
        f"{hosts.urls[host]}/api/sessions/{session_code}", headers=REST_HEADERS, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def participant_codes(hosts: Hosts, host: int, session_code: str) -> list[str]:
    people = session_detail(hosts, host, session_code)["participants"]
    return [p["code"] for p in sorted(people, key=lambda p: p["id_in_session"])]


def wake_lags(hosts: Hosts, app: str, runs: list[Run]) -> list[float]:
    """Per wait: seconds from its group's completion (the completion row's time, or the first
    poll if later) to the waiter's ready answer."""
    groups = {
        row["code"]: (row["session_id"], f"group:{row['group_id']}")
        for row in hosts.read(
            f"SELECT gp.code, gp.session_id, p.group_id FROM {app}_player p "
            "JOIN grove_participant gp ON gp.id = p.participant_id"
        )
    }
    completed = {
        (row["session_id"], row["page_index"], row["scope"]): row["completed_at"].timestamp()
        for row in hosts.read(
            "SELECT session_id, page_index, scope, completed_at FROM grove_wait_done"
        )
    }
    lags = []
    for run in runs:
        session_id, scope = groups[run.code]
        for waited in run.waits:
            index = int(waited.page_path.rsplit("/", 1)[1])
            at = completed[(session_id, index, scope)]
            lags.append(waited.answered - max(at, waited.started))
    return lags


def _public_goods_answers(contribution: int) -> Answers:
    return lambda page: {"contribution": str(contribution)} if page == "Contribute" else {}


def _trust_answers(sent: int, sent_back: int) -> Answers:
    def answers(page: str) -> dict[str, str]:
        if page == "Send":
            return {"sent_amount": str(sent)}
        if page == "SendBack":
            return {"sent_back_amount": str(sent_back)}
        return {}

    return answers


def test_multiplayer_sessions_played_to_the_end_across_two_hosts(hosts: Hosts) -> None:
    """Public goods (5 groups of 3) and trust (5 pairs) at once, every request alternating."""
    with logs_on_failure(hosts):
        goods = create_session(hosts, 0, session_config_name="public_goods", num_participants=15)
        trust = create_session(hosts, 1, session_config_name="trust", num_participants=10)
        goods_codes = participant_codes(hosts, 1, goods)
        trust_codes = participant_codes(hosts, 0, trust)
        # Each participant's own choices; the role decides which of the two a trust player uses.
        contribution = {code: [0, 25, 40, 85, 100, 15][i % 6] for i, code in enumerate(goods_codes)}
        sent = {code: 10 + 10 * i for i, code in enumerate(trust_codes)}  # if trustor: 10..100
        sent_back = {code: 3 * i for i, code in enumerate(trust_codes)}  # if trustee: at most 27
        players = [(code, _public_goods_answers(contribution[code])) for code in goods_codes]
        players += [(code, _trust_answers(sent[code], sent_back[code])) for code in trust_codes]

        started = time.monotonic()
        runs = play_all(hosts, players)
        elapsed = time.monotonic() - started

        for run in runs:
            assert "/payment_info/PaymentInfo/" in run.last_page, run.pages
            assert any("/Results/" in page for page in run.pages), run.pages

        goods_rows = hosts.read(
            "SELECT gp.code, gp.payoff AS participant_payoff, gp.vars, gp.current_page_name, "
            "p.contribution, p.payoff, p.group_id, g.total_contribution, g.individual_share "
            "FROM public_goods_player p JOIN grove_participant gp ON gp.id = p.participant_id "
            "JOIN public_goods_group g ON g.id = p.group_id"
        )
        assert sorted(r["code"] for r in goods_rows) == sorted(goods_codes)
        by_group: dict[int, list[Any]] = {}
        for row in goods_rows:
            by_group.setdefault(row["group_id"], []).append(row)
        assert len(by_group) == 5
        for members in by_group.values():
            assert len(members) == 3
            total = sum(contribution[m["code"]] for m in members)
            share = round(total * 1.8 / 3)  # the totals are multiples of 5: whole points
            for m in members:
                assert m["contribution"] == contribution[m["code"]]
                assert (m["total_contribution"], m["individual_share"]) == (total, share)
                assert m["payoff"] == 100 - contribution[m["code"]] + share
                assert m["participant_payoff"] == m["payoff"]
                assert m["vars"].get("hook_runs_public_goods") == 1, m
                assert m["current_page_name"] == "PaymentInfo"

        trust_rows = hosts.read(
            "SELECT gp.code, gp.payoff AS participant_payoff, gp.vars, gp.current_page_name, "
            "p.id_in_group, p.payoff, p.group_id, g.sent_amount, g.sent_back_amount "
            "FROM trust_player p JOIN grove_participant gp ON gp.id = p.participant_id "
            "JOIN trust_group g ON g.id = p.group_id"
        )
        pairs: dict[int, dict[int, Any]] = {}
        for row in trust_rows:
            pairs.setdefault(row["group_id"], {})[row["id_in_group"]] = row
        assert len(pairs) == 5
        for pair in pairs.values():
            trustor, trustee = pair[1], pair[2]
            amount, back = sent[trustor["code"]], sent_back[trustee["code"]]
            for member in (trustor, trustee):
                assert (member["sent_amount"], member["sent_back_amount"]) == (amount, back)
                assert member["vars"].get("hook_runs_trust") == 1, member
                assert member["participant_payoff"] == member["payoff"]
                assert member["current_page_name"] == "PaymentInfo"
            assert trustor["payoff"] == 100 - amount + back
            assert trustee["payoff"] == 3 * amount - back

        # One completion row per group and wait page: public goods 5, trust 2 x 5.
        counts = hosts.read(
            "SELECT s.code, count(*) AS n FROM grove_wait_done d "
            "JOIN grove_session s ON s.id = d.session_id GROUP BY s.code"
        )
        assert {r["code"]: r["n"] for r in counts} == {goods: 5, trust: 10}

        lags = wake_lags(hosts, "public_goods", runs[:15]) + wake_lags(hosts, "trust", runs[15:])
        print(
            f"25 participants played in {elapsed:.1f} s; {len(lags)} waits woke "
            f"{statistics.median(lags):.3f} s (median), {max(lags):.3f} s (max) after completion"
        )
        assert max(lags) < WAKE_BOUND_SECONDS, (
            "a waiter was answered long after its group's wait page completed (seconds): "
            f"{sorted(round(lag, 2) for lag in lags)}"
        )
        hosts.assert_no_server_errors()


def test_completion_on_one_host_wakes_long_polls_on_the_other(hosts: Hosts) -> None:
    """8 trustees long-poll WaitForTrustor on one host; their trustors, all at once, send on
    the other. Every waiter must be answered within WAKE_BOUND_SECONDS of its trustor's send
    being acknowledged, and then move on to SendBack."""
    with logs_on_failure(hosts):
        groups = 8
        session = create_session(hosts, 0, session_config_name="trust", num_participants=2 * groups)
        codes = participant_codes(hosts, 1, session)
        trustors = [Browser(hosts) for _ in range(groups)]
        trustees = [Browser(hosts) for _ in range(groups)]
        try:
            send_pages, wait_pages = [], []
            for g in range(groups):
                _, path = trustors[g].go("GET", f"/InitializeParticipant/{codes[2 * g]}")
                assert "/trust/Send/" in path, path
                send_pages.append(path)
                page, path = trustees[g].go("GET", f"/InitializeParticipant/{codes[2 * g + 1]}")
                assert "/trust/WaitForTrustor/" in path, path
                found = STATUS_URL.search(page.text)
                assert found is not None
                wait_pages.append((path, html.unescape(found.group(1))))

            polled: dict[int, tuple[float, float, dict[str, Any]]] = {}
            sent_at: dict[int, float] = {}
            barrier = threading.Barrier(groups)

            def wait(g: int) -> None:
                started = time.monotonic()
                # Pinned: the waiter on host g % 2, its trustor on the other one.
                answer = trustees[g].request("GET", wait_pages[g][1] + "?wait=1", host=g % 2)
                polled[g] = (started, time.monotonic(), answer.json())

            def send(g: int) -> None:
                form = form_with_id(trustors[g].request("GET", send_pages[g]).text, "form")
                assert form is not None
                pairs = form.submission({"sent_amount": str(5 * (g + 1))})
                barrier.wait(timeout=30)
                answer = trustors[g].request("POST", send_pages[g], pairs, host=1 - g % 2)
                assert answer.status_code == 303, answer.text
                sent_at[g] = time.monotonic()

            with ThreadPoolExecutor(2 * groups) as pool:
                waiting = [pool.submit(wait, g) for g in range(groups)]
                time.sleep(1.5)  # every long poll is held by now
                assert not any(w.done() for w in waiting), "a long poll answered too early"
                sending = [pool.submit(send, g) for g in range(groups)]
                for future in [*sending, *waiting]:
                    future.result(timeout=PHASE_SECONDS)

            lags = []
            for g in range(groups):
                started, answered, body = polled[g]
                assert body["ready"] is True, (g, body)
                assert "/trust/SendBack/" in body["url"], (g, body)  # moved on by the poll
                assert answered - started > 1.0  # it really was held until the send
                lags.append(answered - sent_at[g])
                _, path = trustees[g].go("GET", wait_pages[g][0])
                assert "/trust/SendBack/" in path, path
            print(
                f"cross-host wake-ups: median {statistics.median(lags):.3f} s, "
                f"max {max(lags):.3f} s after the send was acknowledged"
            )
            assert max(lags) < WAKE_BOUND_SECONDS, (
                "a trustee long-polling on one host was answered long after its trustor's send "
                "on the other was acknowledged (seconds, by group; trustee on host group % 2): "
                f"{[round(lag, 2) for lag in lags]}"
            )
        finally:
            for browser in trustors + trustees:
                browser.close()
        hosts.assert_no_server_errors()


def test_forty_room_arrivals_across_two_hosts(hosts: Hosts) -> None:
    """40 labelled participants arrive in a secure room at once, spread over both hosts, while
    a session is created in the room over the REST API on one host; all 40 move on into it
    (those who came before the session from the room's waiting page)."""
    with logs_on_failure(hosts):
        # The admin logs in on one host; the signed cookie works on the other one.
        admin = Browser(hosts)
        login = admin.request(
            "POST",
            "/login",
            [("username", "admin"), ("password", ADMIN_PASSWORD), ("next", "/rooms")],
            host=0,
        )
        assert login.status_code == 303, login.text
        rooms_page = admin.request("GET", "/rooms", host=1)
        admin.close()
        assert rooms_page.status_code == 200, rooms_page.text[:500]
        links = sorted(
            {
                path_of(html.unescape(link))
                for link in re.findall(
                    r"<code>([^<]*/room/two_hosts/\?[^<]*)</code>", rooms_page.text
                )
            }
        )
        assert len(links) == 40, links  # signed by one host, checked by both below

        barrier = threading.Barrier(len(links) + 1)  # the arrivals and the session's creation
        deadline = time.monotonic() + PHASE_SECONDS
        browsers = [Browser(hosts, next_host=i % 2) for i in range(len(links))]
        created: dict[str, str] = {}

        def arrive(index: int) -> tuple[str, str, bool]:
            browser = browsers[index]
            start = browser.request("GET", links[index])
            assert start.status_code == 200, start.text[:500]
            form = form_with_id(start.text, "grove-room-form")
            assert form is not None, start.text[:500]
            pairs = form.submission({})
            barrier.wait(timeout=30)
            response, path = browser.go("POST", form.action or links[index], pairs)
            waited = False
            while 'id="grove-room-form"' in response.text:  # the room's waiting page
                waited = True
                found = STATUS_URL.search(response.text)
                assert found is not None, response.text[:500]
                while time.monotonic() < deadline:  # as grove-room.js: a poll a second
                    time.sleep(1.0)
                    status = browser.request("GET", html.unescape(found.group(1)))
                    assert status.status_code == 200, status.text
                    if status.json()["ready"]:
                        break
                else:
                    raise AssertionError(f"{links[index]}: never moved on from the room")
                response, path = browser.go("POST", form.action or links[index], pairs)
            assert response.status_code == 200, (path, response.text[:500])
            assert re.fullmatch(r"/p/\w+/survey/\w+/1", path), path
            label = parse_qs(urlsplit(links[index]).query)["participant_label"][0]
            return path.split("/")[2], label, waited

        def create_session_in_the_room() -> None:
            barrier.wait(timeout=30)
            created["code"] = create_session(
                hosts, 0, session_config_name="survey", num_participants=40, room_name=ROOM
            )

        try:
            with ThreadPoolExecutor(len(links) + 1) as pool:
                creator = pool.submit(create_session_in_the_room)
                results = list(pool.map(arrive, range(len(links))))
                creator.result(timeout=PHASE_SECONDS)
        finally:
            for browser in browsers:
                browser.close()
        assert_alternated(browsers)

        codes = [code for code, _label, _waited in results]
        assert len(set(codes)) == 40
        assert sorted(label for _code, label, _waited in results) == LABELS
        waited = sum(1 for *_rest, w in results if w)
        print(f"room: {waited} of 40 waited for the session, {40 - waited} joined it directly")

        detail = session_detail(hosts, 1, created["code"])
        by_code = {p["code"]: p for p in detail["participants"]}
        assert sorted(by_code) == sorted(codes)
        assert sorted(p["label"] for p in by_code.values()) == LABELS
        for code, label, _waited in results:
            assert by_code[code]["label"] == label
        rows = hosts.read(
            "SELECT p.label, p.visited, p.current_app FROM grove_participant p "
            "JOIN grove_session s ON s.id = p.session_id WHERE s.code = :code",
            code=created["code"],
        )
        assert sorted(r["label"] for r in rows) == LABELS
        assert all(r["visited"] and r["current_app"] == "survey" for r in rows), rows
        hosts.assert_no_server_errors()


def test_a_completion_committed_after_a_later_one_still_wakes_its_waiters(hosts: Hosts) -> None:
    """Two groups complete their wait page almost together: group 1's completion is claimed
    first, but its slow hook makes it commit after group 2's. Both waiters, long-polling on
    the other host, must be answered within WAKE_BOUND_SECONDS of their group's completion."""
    with logs_on_failure(hosts):
        session = create_session(hosts, 0, session_config_name="slow_hook", num_participants=4)
        codes = participant_codes(hosts, 1, session)
        browsers = [Browser(hosts, next_host=i % 2) for i in range(4)]
        try:
            decide_pages, forms = [], []
            for browser, code in zip(browsers, codes, strict=True):
                page, path = browser.go("GET", f"/InitializeParticipant/{code}")
                assert "/slow_hook/Decide/" in path, path
                form = form_with_id(page.text, "form")
                assert form is not None
                decide_pages.append(path)
                forms.append(form.submission({}))
            # Player 1 of each group reaches the wait page first.
            status_urls = []
            for i in (0, 2):
                page, path = browsers[i].go("POST", decide_pages[i], forms[i])
                assert "/slow_hook/Sync/" in path, path
                found = STATUS_URL.search(page.text)
                assert found is not None
                status_urls.append(html.unescape(found.group(1)))
            answered: dict[int, tuple[float, Any]] = {}
            completed: dict[int, float] = {}

            def wait(group: int) -> None:  # player 1 of the group, on host B
                response = browsers[2 * group].request(
                    "GET", status_urls[group] + "?wait=1", host=1
                )
                answered[group] = (time.monotonic(), response.json())

            def complete(group: int) -> None:  # player 2 of the group, on host A
                i = 2 * group + 1
                response = browsers[i].request("POST", decide_pages[i], forms[i], host=0)
                assert response.status_code == 303, response.text
                completed[group] = time.monotonic()

            with ThreadPoolExecutor(4) as pool:
                waiting = [pool.submit(wait, group) for group in (0, 1)]
                time.sleep(1.0)  # both long polls are held by now
                first = pool.submit(complete, 0)  # its hook takes SLOW_HOOK_SECONDS
                time.sleep(SLOW_HOOK_SECONDS / 3)
                second = pool.submit(complete, 1)
                for future in [first, second, *waiting]:
                    future.result(timeout=PHASE_SECONDS)
            assert completed[1] < completed[0], "group 2 was meant to commit first"
            outcome = {
                f"group {group + 1}": (
                    answered[group][1],
                    f"{answered[group][0] - completed[group]:.2f} s after its completion",
                )
                for group in (0, 1)
            }
            print(f"waiters on host B after out-of-order commits on host A: {outcome}")
            woken = [
                answered[group][1].get("ready") is True
                and answered[group][0] - completed[group] < WAKE_BOUND_SECONDS
                for group in (0, 1)
            ]
            assert all(woken), (
                f"a waiter long-polling on host B was not answered within {WAKE_BOUND_SECONDS} s "
                f"of its group's completion on host A (group 2 committed first; the server "
                f"answers a long poll after 20 s at the latest): {outcome}"
            )
        finally:
            for browser in browsers:
                browser.close()
        hosts.assert_no_server_errors()
