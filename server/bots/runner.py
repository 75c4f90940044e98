"""Running bots through the real HTTP page flow, in process (ASGI), on a scratch database.

Each participant's bot is stepped in turn: the runner fetches the participant's current page
as a browser would, checks that the bot's next submission is for that page and that its
fields are in the form, posts it, and checks the outcome. Wait pages pass by themselves.
"""

from __future__ import annotations

import importlib
import re
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.bot import Bot, BotError, Submission, as_submission
from server.bots.html_form import FormFillError, HtmlForm, page_form, pairs_to_dict
from server.config import Settings
from server.fields import choice_form_value
from server.models.core import Participant
from server.project import _apps_package
from server.sessions import create_session

PAGE_URL = re.compile(r"^/p/(?P<code>\w+)/(?P<app>[^/]+)/(?P<page>[^/]+)/(?P<index>\d+)$")
MAX_IDLE_ROUNDS = 200


@dataclass
class BotRunResult:
    """The outcome of one config's bot run."""

    config_name: str
    num_participants: int
    pages: int = 0
    seconds: float = 0.0
    error: str | None = None
    failed_page: str | None = None
    session_code: str | None = None
    log: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def load_player_bot(settings: Settings, app_name: str) -> type[Bot] | None:
    """The ``PlayerBot`` class of ``apps/<app>/tests.py``, or None if the app has no bots."""
    if not (settings.root / "apps" / app_name / "tests.py").is_file():
        return None
    module = importlib.import_module(f"{_apps_package(settings.root)}.{app_name}.tests")
    bot_class = getattr(module, "PlayerBot", None)
    if not (isinstance(bot_class, type) and issubclass(bot_class, Bot)):
        raise BotError(f"apps/{app_name}/tests.py must define class PlayerBot(Bot)")
    return bot_class


class BotRunner:
    """Plays one session with one bot per participant."""

    def __init__(
        self,
        settings: Settings,
        config_name: str,
        num_participants: int | None,
        progress: Callable[[int, int], None] | None = None,
        case_index: int = 0,
        export_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.export_dir = export_dir
        self.case_index = case_index
        self.config_name = config_name
        self.requested = num_participants
        self.progress = progress
        self.last_html: dict[str, str] = {}
        self._iterators: dict[tuple[str, str, int], Iterator[Any]] = {}
        self._bot_classes: dict[str, type[Bot] | None] = {}

    # What bots read: fresh rows from the database.
    def participant(self, code: str) -> Participant:
        self._db.rollback()
        return self._db.scalars(sa.select(Participant).where(Participant.code == code)).one()

    def player(self, code: str, app_name: str, round_number: int) -> Any:
        participant = self.participant(code)
        player_cls = self._project.apps[app_name].player_cls
        return self._db.scalars(
            sa.select(player_cls).where(
                player_cls.participant_id == participant.id, player_cls.round_number == round_number
            )
        ).one()

    def run(self) -> BotRunResult:
        """Create the session and play it to the end; never raises for a bot failure."""
        started = time.perf_counter()
        result = BotRunResult(self.config_name, 0)
        with tempfile.TemporaryDirectory(prefix="grove-bots-") as folder:
            settings = self.settings.with_changes(
                database_url=f"sqlite:///{Path(folder) / 'bots.sqlite3'}"
            )
            app = create_app(settings)
            grove = app.state.grove
            self._project = grove.project
            try:
                config = grove.project.session_config(self.config_name)
                count = self.requested or config["num_demo_participants"]
                with grove.db.transaction() as db:
                    session = create_session(
                        db, grove.project, self.config_name, count, for_bots=True
                    )
                    codes = [p.code for p in session.get_participants()]
                    result.session_code = session.code
                result.num_participants = len(codes)
                for app_name in config["app_sequence"]:
                    self._bot_classes[app_name] = load_player_bot(settings, app_name)
                with TestClient(app) as client, grove.db.read() as bot_db:
                    self._db = bot_db
                    self._play(client, codes, result)
                if self.export_dir is not None:
                    from server.export import export_session

                    with grove.db.read() as db:
                        export_session(db, grove.project, result.session_code, self.export_dir)
            except Exception as exc:
                result.error = "".join(traceback.format_exception(exc)).rstrip()
            finally:
                grove.db.dispose()
        result.seconds = time.perf_counter() - started
        return result

    def _play(self, client: TestClient, codes: list[str], result: BotRunResult) -> None:
        urls = {code: f"/InitializeParticipant/{code}" for code in codes}
        done: set[str] = set()
        idle = 0
        while len(done) < len(codes):
            progressed = False
            for code in codes:
                if code in done:
                    continue
                status = self._step(client, code, urls, result)
                if status == "finished":
                    done.add(code)
                    progressed = True
                elif status == "submitted":
                    progressed = True
            idle = 0 if progressed else idle + 1
            if idle > MAX_IDLE_ROUNDS:
                stuck = ", ".join(urls[c] for c in codes if c not in done)
                raise BotError(f"the bots are stuck (wait pages never released): {stuck}")
            if not progressed:
                time.sleep(0.01)

    def _fetch(self, client: TestClient, url: str) -> tuple[str, str]:
        for _ in range(50):
            response = client.get(url, follow_redirects=False)
            if response.status_code in (301, 302, 303, 307):
                url = response.headers["location"]
                continue
            if response.status_code != 200:
                raise BotError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
            return url, response.text
        raise BotError(f"too many redirects from {url}")

    def _step(
        self, client: TestClient, code: str, urls: dict[str, str], result: BotRunResult
    ) -> str:
        url, html = self._fetch(client, urls[code])
        urls[code] = url
        if url.endswith("/finished"):
            return "finished"
        match = PAGE_URL.match(url)
        if match is None:
            raise BotError(f"participant {code} landed on an unexpected URL {url}")
        if 'id="grove-wait"' in html:
            return "waiting"
        self.last_html[code] = html
        participant = self.participant(code)
        app_name, round_number = participant.current_app, participant.current_round
        if app_name is None or round_number is None:
            raise BotError(f"participant {code} is on a page but in no app")
        page_name = match.group("page")
        submission = self._next_submission(code, app_name, round_number, page_name, result)
        if submission is None:
            if "grove-next" not in html and "<form" in html:
                return "finished"  # the last page of the session shows no Next button
            raise BotError(f"page {page_name}: the bot has no submission for this page")
        self._submit(client, code, url, html, page_name, submission, result)
        return "submitted"

    def _next_submission(
        self, code: str, app_name: str, round_number: int, page_name: str, result: BotRunResult
    ) -> Submission | None:
        key = (code, app_name, round_number)
        if key not in self._iterators:
            bot_class = self._bot_classes.get(app_name)
            if bot_class is None:
                raise BotError(f"page {page_name}: apps/{app_name}/tests.py has no PlayerBot")
            cases = list(getattr(bot_class, "cases", []) or [])
            case = cases[self.case_index % len(cases)] if cases else None
            bot = bot_class(self, code, app_name, round_number, case)
            self._iterators[key] = iter(bot.play_round() or ())
        try:
            item = next(self._iterators[key])
        except StopIteration:
            return None
        except BotError as exc:
            result.failed_page = page_name
            raise BotError(f"page {page_name}: {exc}") from exc
        return as_submission(item)

    def _submit(
        self,
        client: TestClient,
        code: str,
        url: str,
        html: str,
        page_name: str,
        submission: Submission,
        result: BotRunResult,
    ) -> None:
        result.failed_page = page_name
        if submission.page_class.__name__ != page_name:
            raise BotError(
                f"the bot submitted {submission.page_class.__name__} but the "
                f"participant is on page {page_name}"
            )
        data = self._form_data(html, page_name, submission)
        if submission.timeout_happened:
            self._expire_page(code)
            data["timeout_happened"] = "1"
        response = client.post(url, data=data, follow_redirects=False)
        if submission.must_fail:
            if response.status_code != 200 or 'class="grove-error' not in response.text:
                raise BotError(
                    f"page {page_name}: SubmissionMustFail, but the page accepted "
                    f"{submission.post_data}"
                )
            result.log.append(f"{code} {page_name}: rejected as expected")
            return
        if response.status_code != 303:
            errors = re.findall(r'class="grove-error[^"]*"[^>]*>([^<]+)<', response.text)
            raise BotError(
                f"page {page_name}: the submission {submission.post_data} was "
                f"rejected: {errors or response.status_code}"
            )
        result.pages += 1
        result.failed_page = None
        if self.progress:
            self.progress(result.pages, 0)

    def _form_data(self, html: str, page_name: str, submission: Submission) -> dict[str, str]:
        """What a browser would send after a participant entered the bot's values.

        The page's own form is filled: a radio button or option is clicked by the value it
        submits, a check box ticked for True. A value the page offers no way to enter is a
        BotError, unless the submission must fail (then it is posted as given, like oTree's
        ``SubmissionMustFail``) or ``check_html=False``.
        """
        raw = {key: _form_value(value) for key, value in submission.post_data.items()}
        if not submission.check_html:
            return raw
        try:
            form = page_form(html)
            entered = {
                name: _entered_value(form, name, value)
                for name, value in submission.post_data.items()
            }
            return pairs_to_dict(form.submission(entered))
        except FormFillError as exc:
            if submission.must_fail:
                return raw
            raise BotError(f"page {page_name}: {exc}") from exc

    def _expire_page(self, code: str) -> None:
        participant = self.participant(code)
        participant_id = participant.id
        self._db.rollback()
        engine = self._db.get_bind()
        with engine.begin() as connection:
            connection.execute(
                sa.update(Participant)
                .where(Participant.id == participant_id)
                .values(page_deadline=time.time() - 60)
            )


def _entered_value(form: HtmlForm, name: str, value: Any) -> str | bool | None:
    """A bot's Python value as a participant would enter it in the control ``name``."""
    kind = form.kind(name)
    if kind == "checkbox":
        return bool(value)
    if kind not in ("radio", "select") or value is None:
        return _form_value(value)
    offered = [option.value for option in form.choices(name)]
    wanted = choice_form_value(value)
    if wanted in offered:
        return wanted
    if not isinstance(value, bool | str):
        # 5 for a float choice rendered "5.0", cu(5) for "5": the same number.
        for option in offered:
            try:
                if float(option) == float(value):
                    return option
            except ValueError:
                continue
    raise FormFillError(f"{name}: the page offers no choice {value!r} (it offers {offered})")


def _form_value(value: Any) -> str:
    """What a participant would type for a bot's value: True/False, a Currency's bare amount."""
    return "" if value is None else choice_form_value(value)


def number_of_cases(settings: Settings, app_sequence: list[str]) -> int:
    """How many runs the bots' ``cases`` ask for (the longest list; at least one)."""
    counts = [
        len(getattr(load_player_bot(settings, a), "cases", []) or [])
        for a in app_sequence
        if load_player_bot(settings, a) is not None
    ]
    return max([1, *counts])


def run_bots(
    settings: Settings,
    config_name: str,
    num_participants: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    export_dir: Path | None = None,
) -> list[BotRunResult]:
    """Play a session config with its bots, once per case; each result says if it passed."""
    from server.project import load_project

    config = load_project(settings).session_config(config_name)
    runs = number_of_cases(settings, config["app_sequence"])
    return [
        BotRunner(settings, config_name, num_participants, progress, case, export_dir).run()
        for case in range(runs)
    ]
