"""Every sample app played to its end in headless Chromium, the way people play it.

Each participant has a browser context of their own, and all of a session's participants are
in it at once, taking turns page by page as people at separate computers would; a wait page
moves on by itself (long polling). They type into the boxes the page shows, click radio
buttons and tick boxes by the label they read, pick drop-down options by their text and click
Next. Afterwards the values are read back from the database (``<app>_player``/``<app>_group``)
and must equal what was entered, with the Python type oTree stores. Across the runs every
option of every radio button and drop-down and both states of every checkbox are chosen; no
page may raise a JavaScript error or fail to load a script, style or fetch; and everyone
reaches the last page within PLAY_TIMEOUT.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import sqlalchemy as sa

from server.config import load_settings
from server.currency import Currency
from server.models.core import Participant
from server.project import Project, load_project
from tests import databases
from tests.live_server import REPO_ROOT, live_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Seconds a whole session may take until every participant is on the last page.
PLAY_TIMEOUT = 45.0
# Milliseconds a click on Next may take to load the next page.
SUBMIT_TIMEOUT = 10_000

# What each choice field offers, written from the apps' declarations: the label a participant
# reads -> the value oTree stores. Kept here (not taken from Grove) so the test is independent.
CHOICES: dict[tuple[str, str], dict[str, Any]] = {
    ("survey", "gender"): {
        "Male": "Male",
        "Female": "Female",
        "Other / prefer not to say": "Other",
    },
    ("survey", "year_in_school"): {
        name: name
        for name in ("Freshman", "Sophomore", "Junior", "Senior", "Graduate", "Not a student")
    },
    ("survey", "satisfaction"): {
        "Very unhappy": 1,
        "Unhappy": 2,
        "Neutral": 3,
        "Happy": 4,
        "Very happy": 5,
    },
    ("survey", "likes_experiments"): {"Yes": True, "No": False},
    ("prisoner", "cooperate"): {"Cooperate": True, "Defect": False},
}
# A checkbox's two states; both must be submitted at least once.
CHECKBOX_STATES = {True, False}


@dataclass(frozen=True)
class Type:
    """Type ``text`` into the field's box; oTree stores ``expected``."""

    text: str
    expected: Any


@dataclass(frozen=True)
class Choose:
    """Click the radio button, or pick the drop-down option, whose visible text is ``label``."""

    label: str


@dataclass(frozen=True)
class Tick:
    """Leave the checkbox ticked (True) or unticked (False)."""

    checked: bool


Action = Type | Choose | Tick


@dataclass(frozen=True)
class Attempt:
    """One submission of a page: the fields changed, and the error it must be refused with."""

    answers: dict[str, Action]
    refused_with: str | None = None


# (app, page name, round) -> the submissions of that page, in order; the last is accepted.
Plan = dict[tuple[str, str, int], list[Attempt]]

# What the page shows: its fields (named controls), whether it is a wait page, whether it has
# a Next button. Read as a person sees it: labels and option texts, not values.
READ_PAGE_JS = """() => {
  const text = (node) => (node ? node.innerText.trim() : null);
  const fields = {};
  for (const el of document.querySelectorAll("input[name], select[name], textarea[name]")) {
    if (el.type === "hidden" || el.type === "submit" || el.type === "button") continue;
    const kind = el.tagName === "INPUT" ? el.type : el.tagName.toLowerCase();
    if (!fields[el.name]) {
      fields[el.name] = {name: el.name, kind: kind, label: null, options: []};
    }
    const field = fields[el.name];
    if (kind === "radio") {
      field.options.push(text(el.labels[0]));
    } else {
      field.label = text(el.labels[0]);
    }
    if (kind === "select") {
      for (const option of el.options) {
        if (option.value !== "") field.options.push(option.innerText.trim());
      }
    }
  }
  const buttons = Array.from(document.querySelectorAll("button"));
  return {
    ready: document.readyState === "complete",
    waiting: document.getElementById("grove-wait") !== null,
    next: buttons.some((b) => b.innerText.trim() === "Next"),
    fields: Object.values(fields),
  };
}"""

# Why the browser would not submit: the fields failing its own (HTML5) validation.
INVALID_FIELDS_JS = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => !el.checkValidity()).map((el) => el.name + ": " + el.validationMessage)"""


class BrowserParticipant:
    """One participant in a browser context of their own, playing by a plan."""

    def __init__(self, browser: Any, start_url: str, name: str, plan: Plan) -> None:
        self.name = name
        self.plan = plan
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: {error}"))
        self.page.on("console", self.on_console)
        self.page.on("response", self.on_response)
        self.code = ""
        # (app, page) -> how many times it was submitted and accepted: the round it is in.
        self.rounds: Counter[tuple[str, str]] = Counter()
        self.attempt = 0
        self.pages_submitted: list[str] = []
        # (app, page, round) -> the answers of the accepted submission, attempts merged.
        self.submitted: dict[tuple[str, str, int], dict[str, Action]] = {}
        self.page_texts: dict[tuple[str, str, int], str] = {}
        # (app, field) -> the options the page showed, and what was chosen and accepted.
        self.shown: dict[tuple[str, str], list[str]] = {}
        self.chosen: dict[tuple[str, str], set[Any]] = defaultdict(set)
        self.end_page = ""  # "<app>/<Page>" of the page without a Next button, once there
        self.end_text = ""
        self.page.goto(start_url)

    def on_console(self, message: Any) -> None:
        # A resource that failed to load is reported with its URL by on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def on_response(self, response: Any) -> None:
        # Scripts, styles, fetches and the icon must load (the layouts give an empty inline
        # icon, so Chromium asks for no /favicon.ico).
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            self.problems.append(f"{self.page.url}: {response.status} for {response.url}")

    @property
    def done(self) -> bool:
        return bool(self.end_page)

    def where(self) -> tuple[str, str, str]:
        """(participant code, app, page name) from the page URL /p/<code>/<app>/<Page>/<n>."""
        parts = urlparse(self.page.url).path.strip("/").split("/")
        assert len(parts) == 5, f"{self.name}: not a participant page: {self.page.url}"
        assert parts[0] == "p", f"{self.name}: not a participant page: {self.page.url}"
        return parts[1], parts[2], parts[3]

    def step(self) -> bool:
        """Act on the current page if it is ready and not a wait page; True if it acted."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            state = self.page.evaluate(READ_PAGE_JS)
        except PlaywrightError:
            return False  # the page is navigating by itself (a wait page moving on)
        if not state["ready"] or state["waiting"]:
            return False
        self.code, app, page_name = self.where()
        if not state["next"]:
            self.end_text = self.page.inner_text("body")
            self.end_page = f"{app}/{page_name}"
            return True
        self.submit(app, page_name, state["fields"])
        return True

    def submit(self, app: str, page_name: str, fields: list[dict[str, Any]]) -> None:
        """Fill the page by the plan's next attempt and click Next."""
        round_number = self.rounds[(app, page_name)] + 1
        key = (app, page_name, round_number)
        attempts = self.plan.get(key, [Attempt({})])
        assert self.attempt < len(attempts), f"{self.name}: {key} refused too often"
        attempt = attempts[self.attempt]
        by_name = {f["name"]: f for f in fields}
        planned = {name for a in attempts for name in a.answers}
        assert set(by_name) == planned, (
            f"{self.name} on {self.page.url}: the page shows fields {sorted(by_name)}, "
            f"the plan fills {sorted(planned)}"
        )
        entered = self.submitted.get(key, {})
        if self.attempt:
            self.assert_kept(by_name, entered)
        for name, action in attempt.answers.items():
            self.enter(by_name[name], action)
        entered = {**entered, **attempt.answers}
        self.page_texts[key] = self.page.inner_text("body")
        for name, choices in by_name.items():
            if choices["kind"] in ("radio", "select"):
                self.shown[(app, name)] = choices["options"]
        path = urlparse(self.page.url).path
        self.click_next()
        refused = urlparse(self.page.url).path == path
        if attempt.refused_with is not None:
            assert refused, f"{self.name}: {key} was accepted; expected {attempt.refused_with!r}"
            shown = self.page.inner_text("body")
            assert attempt.refused_with in shown, f"{self.name}: {key} refused with:\n{shown}"
            self.submitted[key] = entered
            self.attempt += 1
            return
        assert not refused, (
            f"{self.name}: {key} was refused after entering {entered}:\n"
            + self.page.inner_text("body")
        )
        self.submitted[key] = entered
        self.pages_submitted.append(f"{app}/{page_name}")
        self.rounds[(app, page_name)] += 1
        self.attempt = 0
        for name, action in entered.items():
            if isinstance(action, Choose):
                self.chosen[(app, name)].add(action.label)
            elif isinstance(action, Tick):
                self.chosen[(app, name)].add(action.checked)

    def enter(self, form_field: dict[str, Any], action: Action) -> None:
        """Do what a person does to give this field this answer."""
        page, kind = self.page, form_field["kind"]
        if isinstance(action, Type):
            assert kind in ("number", "text", "textarea"), f"cannot type into a {kind}"
            page.get_by_label(form_field["label"], exact=True).fill(action.text)
        elif isinstance(action, Choose) and kind == "select":
            page.get_by_label(form_field["label"], exact=True).select_option(label=action.label)
        elif isinstance(action, Choose):
            assert kind == "radio", f"cannot click an option of a {kind}"
            radio = page.get_by_label(action.label, exact=True)
            radio.and_(page.locator(f'[name="{form_field["name"]}"]')).check()
        else:
            assert kind == "checkbox", f"cannot tick a {kind}"
            page.get_by_label(form_field["label"], exact=True).set_checked(action.checked)

    def assert_kept(self, by_name: dict[str, dict[str, Any]], entered: dict[str, Action]) -> None:
        """A refused page comes back showing what the participant had entered."""
        page = self.page
        for name, action in entered.items():
            form_field = by_name[name]
            if isinstance(action, Type):
                box = page.get_by_label(form_field["label"], exact=True)
                shows: Any = box.input_value()
                expected: Any = action.text
            elif isinstance(action, Choose) and form_field["kind"] == "select":
                select = page.get_by_label(form_field["label"], exact=True)
                shows = select.evaluate("s => s.selectedOptions[0].innerText.trim()")
                expected = action.label
            elif isinstance(action, Choose):
                radio = page.get_by_label(action.label, exact=True)
                shows = radio.and_(page.locator(f'[name="{name}"]')).is_checked()
                expected = True
            else:
                shows = page.get_by_label(form_field["label"], exact=True).is_checked()
                expected = action.checked
            assert shows == expected, f"{self.name}: refused page lost {name}: {shows!r}"

    def click_next(self) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        url = self.page.url
        try:
            with self.page.expect_navigation(timeout=SUBMIT_TIMEOUT):
                self.page.get_by_role("button", name="Next", exact=True).click()
        except PlaywrightTimeout:
            invalid = self.page.evaluate(INVALID_FIELDS_JS)
            raise AssertionError(
                f"{self.name}: clicking Next on {url} submitted nothing "
                f"(fields the browser finds invalid: {invalid}; page problems: {self.problems})"
            ) from None


def play(participants: list[BrowserParticipant], timeout: float = PLAY_TIMEOUT) -> None:
    """Let everyone play until each is on a page without a Next button, at most ``timeout``."""
    started = time.monotonic()
    while not all(p.done for p in participants):
        acted = False
        for participant in participants:
            if not participant.done:
                acted = participant.step() or acted
        if time.monotonic() - started > timeout:
            stuck = {p.name: (p.page.url, p.problems) for p in participants if not p.done}
            raise AssertionError(f"stuck after {timeout:.0f} s: {stuck}")
        if not acted:
            time.sleep(0.05)
    for participant in participants:
        participant.context.close()


@dataclass
class Server:
    """The running server, its database and the project loaded in this process."""

    base_url: str
    database_url: str
    project: Project
    engine: sa.Engine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = databases.engine(self.database_url)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One prodserver with two workers for the module; each test has its session."""
    database_url = databases.database_url(tmp_path_factory.mktemp("samples"), "db")
    project = load_project(load_settings(REPO_ROOT, {"DATABASE_URL": database_url}))
    with live_server(database_url, workers=2) as base_url:
        running = Server(base_url, database_url, project)
        yield running
        running.engine.dispose()


def create_session(server: Server, config: str, num_participants: int) -> tuple[str, list[str]]:
    """A session made over the REST API: its code and start links, by id_in_session."""
    created = httpx.post(
        f"{server.base_url}/api/sessions/",
        json={"session_config_name": config, "num_participants": num_participants},
    )
    assert created.status_code == 200, created.text
    code = created.json()["code"]
    people = session_detail(server, code)["participants"]
    people.sort(key=lambda p: p["id_in_session"])
    return code, [f"{server.base_url}/InitializeParticipant/{p['code']}" for p in people]


def session_detail(server: Server, code: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/api/sessions/{code}")
    assert response.status_code == 200, response.text
    return response.json()


def start(browser: Any, links: list[str], plans: list[Plan]) -> list[BrowserParticipant]:
    return [
        BrowserParticipant(browser, link, f"P{index + 1}", plan)
        for index, (link, plan) in enumerate(zip(links, plans, strict=True))
    ]


@dataclass
class StoredRound:
    """One participant's rows for one round of an app, with the Python types of the columns."""

    player: dict[str, Any]
    group: dict[str, Any]


def stored(server: Server, app: str) -> dict[tuple[str, int], StoredRound]:
    """(participant code, round) -> their player and group rows in ``<app>_player/_group``."""
    tables = server.project.metadata.tables
    player, group = tables[f"{app}_player"], tables[f"{app}_group"]
    participant = Participant.__table__
    with server.engine.connect() as connection:
        groups = {row.id: dict(row._mapping) for row in connection.execute(sa.select(group))}
        rows = connection.execute(
            sa.select(participant.c.code, player).join(
                participant, participant.c.id == player.c.participant_id
            )
        )
        return {
            (row.code, row.round_number): StoredRound(dict(row._mapping), groups[row.group_id])
            for row in rows
        }


def expected_value(app: str, name: str, action: Action) -> Any:
    if isinstance(action, Type):
        return action.expected
    if isinstance(action, Choose):
        return CHOICES[(app, name)][action.label]
    return action.checked


def typed(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {name: (type(value).__name__, value) for name, value in values.items()}


def assert_stored_as_entered(server: Server, participants: list[BrowserParticipant]) -> None:
    """Every accepted page's answers are in the database, value and type, on the form model."""
    rows_by_app: dict[str, dict[tuple[str, int], StoredRound]] = {}
    for participant in participants:
        for (app, page_name, round_number), answers in participant.submitted.items():
            if not answers:
                continue
            if app not in rows_by_app:
                rows_by_app[app] = stored(server, app)
            page_cls = next(
                p for p in server.project.apps[app].page_sequence if p.__name__ == page_name
            )
            row = rows_by_app[app][(participant.code, round_number)]
            table = row.group if page_cls.form_model == "group" else row.player
            entered = {name: expected_value(app, name, a) for name, a in answers.items()}
            assert typed({name: table[name] for name in answers}) == typed(entered), (
                f"{participant.name}: {app}/{page_name} round {round_number}: clicked {answers}"
            )


def assert_played_cleanly(
    participants: list[BrowserParticipant], pages: list[list[str]], end_page: str
) -> None:
    """Each saw the pages expected, in order, reached the end page, and had no JS error."""
    for participant, expected_pages in zip(participants, pages, strict=True):
        assert participant.pages_submitted == expected_pages, participant.name
        assert participant.end_page == end_page, f"{participant.name}:\n{participant.end_text}"
        assert participant.problems == [], participant.name


def assert_every_option_chosen(server: Server, participants: list[BrowserParticipant]) -> None:
    """Every choice field of the apps played showed all its options, and each was chosen."""
    apps = {app for p in participants for (app, _, _) in p.submitted}
    declared = set()
    for app in apps:
        spec = server.project.apps[app]
        for page_cls in spec.page_sequence:
            for name in getattr(page_cls, "form_fields", []):
                model = spec.model_for(page_cls.form_model)
                declared_field = spec.fields_of(model)[name]
                if declared_field.choices is not None or declared_field.kind == "boolean":
                    declared.add((app, name))
    shown: dict[tuple[str, str], list[str]] = {}
    chosen: dict[tuple[str, str], set[Any]] = defaultdict(set)
    for participant in participants:
        shown.update(participant.shown)
        for key, values in participant.chosen.items():
            chosen[key] |= values
    assert set(chosen) == declared
    for key in declared:
        if key in CHOICES:
            assert shown[key] == list(CHOICES[key]), key
            assert chosen[key] == set(CHOICES[key]), key
        else:
            assert key not in shown, f"{key}: a checkbox showed options"
            assert chosen[key] == CHECKBOX_STATES, key


def survey_plan(
    age: str,
    gender: str,
    temperature: str,
    year: str,
    savings: str,
    satisfaction: str,
    likes: str,
    newsletter: bool,
    nickname: str,
    comments: Type,
    refused_with: str | None = None,
    correction: dict[str, Action] | None = None,
) -> Plan:
    """One survey participant's answers; with ``refused_with``, Attitudes is refused first
    and then resubmitted with only ``correction`` changed."""
    attitudes = Attempt(
        {
            "savings": amount(savings),
            "satisfaction": Choose(satisfaction),
            "likes_experiments": Choose(likes),
            "wants_newsletter": Tick(newsletter),
            "nickname": Type(nickname, nickname),
            "comments": comments,
        },
        refused_with=refused_with,
    )
    demographics = Attempt(
        {
            "age": Type(age, int(age)),
            "gender": Choose(gender),
            "temperature": Type(temperature, float(temperature)),
            "year_in_school": Choose(year),
        }
    )
    attempts = [attitudes, Attempt(correction or {})] if refused_with else [attitudes]
    return {("survey", "Demographics", 1): [demographics], ("survey", "Attitudes", 1): attempts}


def amount(text: str) -> Type:
    """Type an amount of points; oTree stores a Currency (points are whole numbers)."""
    return Type(text, Currency(int(text)))


# A text area left empty (blank=True) is stored as "", as oTree 6.0.15 stores it (measured:
# its error_message values and the stored field are both "", though its docs say None).
NO_COMMENT = Type("", "")
# A browser submits a text area's line breaks as CRLF (HTML's form submission rules).
TWO_LINES = Type("Line one\nline two, ça va, Zoë", "Line one\r\nline two, ça va, Zoë")

SURVEY_PLANS = [
    survey_plan("13", "Male", "-90", "Freshman", "0", "Very unhappy", "Yes", True, "Ann",
                NO_COMMENT),
    survey_plan("125", "Female", "60", "Sophomore", "100", "Unhappy", "No", False, "Bob",
                Type("Fine.", "Fine.")),
    survey_plan("34", "Other / prefer not to say", "21.5", "Junior", "37", "Neutral", "Yes",
                True, "Cleo", TWO_LINES),
    survey_plan("58", "Male", "-3.25", "Senior", "50", "Happy", "No", False, "Dev", NO_COMMENT),
    # Very happy but not enjoying experiments: the page's error_message refuses it; the
    # participant then says Yes, and everything else they entered must still be there.
    survey_plan("21", "Female", "0", "Graduate", "1", "Very happy", "No", True, "Eve",
                Type("ok", "ok"), refused_with="You say you are very happy but do not enjoy",
                correction={"likes_experiments": Choose("Yes")}),
    # A nickname with a digit is refused by nickname_error_message; then corrected.
    survey_plan("77", "Other / prefer not to say", "36.6", "Not a student", "99", "Neutral",
                "No", False, "Zed2", NO_COMMENT,
                refused_with="Use letters only.", correction={"nickname": Type("Zed", "Zed")}),
]  # fmt: skip


def test_survey_every_field_and_widget_is_stored_as_clicked(browser, server):
    code, links = create_session(server, "survey", len(SURVEY_PLANS))
    participants = start(browser, links, SURVEY_PLANS)
    play(participants)
    pages = ["survey/Demographics", "survey/Attitudes", "survey/Results"]
    assert_played_cleanly(participants, [pages] * len(participants), "payment_info/PaymentInfo")
    assert_stored_as_entered(server, participants)
    assert_every_option_chosen(server, participants)
    for person in session_detail(server, code)["participants"]:
        assert person["current_page_name"] == "PaymentInfo"


def test_public_goods_contributions_are_stored_as_typed(browser, server):
    contributions = ["0", "100", "45"]
    plans = [
        {("public_goods", "Contribute", 1): [Attempt({"contribution": amount(text)})]}
        for text in contributions
    ]
    _, links = create_session(server, "public_goods", 3)
    participants = start(browser, links, plans)
    play(participants)
    pages = ["public_goods/Contribute", "public_goods/Results"]
    assert_played_cleanly(participants, [pages] * 3, "payment_info/PaymentInfo")
    assert_stored_as_entered(server, participants)
    assert_every_option_chosen(server, participants)  # none offered, none to choose
    rows = stored(server, "public_goods")
    group = rows[(participants[0].code, 1)].group
    assert typed({k: group[k] for k in ("total_contribution", "individual_share")}) == typed(
        {"total_contribution": Currency(145), "individual_share": Currency(87)}
    )
    for participant, payoff in zip(participants, [187, 87, 142], strict=True):
        row = rows[(participant.code, 1)].player
        assert row["timed_out"] is False
        assert row["payoff"] == payoff


def test_trust_amounts_are_stored_on_the_group(browser, server):
    # Players 1 and 2 form the first group, 3 and 4 the second; player 1 of each is the
    # trustor. The first pair sends and returns the most allowed, the second nothing.
    plans: list[Plan] = [
        {("trust", "Send", 1): [Attempt({"sent_amount": amount("100")})]},
        {("trust", "SendBack", 1): [Attempt({"sent_back_amount": amount("300")})]},
        {("trust", "Send", 1): [Attempt({"sent_amount": amount("0")})]},
        {("trust", "SendBack", 1): [Attempt({"sent_back_amount": amount("0")})]},
    ]
    _, links = create_session(server, "trust", 4)
    participants = start(browser, links, plans)
    play(participants)
    trustor, trustee = ["trust/Send", "trust/Results"], ["trust/SendBack", "trust/Results"]
    assert_played_cleanly(participants, [trustor, trustee] * 2, "payment_info/PaymentInfo")
    assert_stored_as_entered(server, participants)
    assert_every_option_chosen(server, participants)  # none offered, none to choose
    # The trustee read what the trustor typed, tripled, in points as oTree prints them.
    send_back_page = participants[1].page_texts[("trust", "SendBack", 1)]
    assert "The trustor sent 100 points; you received 300 points." in send_back_page
    rows = stored(server, "trust")
    for participant, payoff in zip(participants, [300, 0, 100, 0], strict=True):
        assert rows[(participant.code, 1)].player["payoff"] == payoff, participant.name


def prisoner_plan(index: int) -> Plan:
    # Half the players cooperate in each round, and each player switches every round.
    return {
        ("prisoner", "Decision", round_number): [
            Attempt({"cooperate": Choose(("Cooperate", "Defect")[(index + round_number) % 2])})
        ]
        for round_number in (1, 2, 3)
    }


def test_prisoner_choices_are_stored_in_every_round(browser, server):
    _, links = create_session(server, "prisoner", 4)
    participants = start(browser, links, [prisoner_plan(index) for index in range(4)])
    play(participants)
    pages = ["prisoner/Decision", "prisoner/Results"] * 3
    assert_played_cleanly(participants, [pages] * 4, "payment_info/PaymentInfo")
    assert_stored_as_entered(server, participants)
    assert_every_option_chosen(server, participants)
    # Payoffs follow the app's table from the two choices of each (re-matched) pair.
    table = {(True, True): 200, (True, False): 0, (False, True): 300, (False, False): 100}
    rows = stored(server, "prisoner")
    for round_number in (1, 2, 3):
        players = [rows[(p.code, round_number)].player for p in participants]
        for player in players:
            (other,) = [
                o for o in players if o["group_id"] == player["group_id"] and o is not player
            ]
            expected = table[(player["cooperate"], other["cooperate"])]
            assert player["payoff"] == expected, (round_number, player["id"])


def test_randomized_trial_from_the_demo_page(browser, server):
    # The experimenter creates the session by clicking the config on /demo, which also
    # gives every participant mocked factor levels (mock_exogenous_data).
    config = server.project.session_configs["randomized_trial"]
    demo = browser.new_page()
    demo.goto(f"{server.base_url}/demo")
    with demo.expect_navigation():
        demo.get_by_role("button", name=config["display_name"], exact=True).click()
    code = urlparse(demo.url).path.rsplit("/", 1)[-1]
    links = [
        link.get_attribute("href") or ""
        for link in demo.locator('a[href*="/InitializeParticipant/"]').all()
    ]
    demo.close()
    assert len(links) == config["num_demo_participants"] == 4
    plans = [
        {("trial", "Assignment", 1): [Attempt({"wellbeing": Type(text, int(text))})]}
        for text in ("1", "10", "5", "7")
    ]
    participants = start(browser, links, plans)
    play(participants)
    assert_played_cleanly(participants, [["trial/Assignment"]] * 4, "trial/Done")
    assert_stored_as_entered(server, participants)
    assert_every_option_chosen(server, participants)  # none offered, none to choose
    rows = stored(server, "trial")
    people = {p["code"]: p for p in session_detail(server, code)["participants"]}
    for participant in participants:
        treatment = rows[(participant.code, 1)].player["treatment"]
        assert treatment in config["urn"]["treatments"]
        assert people[participant.code]["vars"]["treatment"] == treatment
        shown = participant.page_texts[("trial", "Assignment", 1)]
        assert f"You have been assigned to: {treatment}." in shown
        assert f"Your group was {treatment}." in participant.end_text
