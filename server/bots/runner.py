"""Running bots through the real HTTP page flow, in process (ASGI), on a scratch database.

Each participant's bot is stepped in turn: the runner fetches the participant's current page
as a browser would, checks that the bot's next submission is for that page and that its
fields are in the form, posts it, follows the answer's redirect, and checks the outcome. Wait
pages pass by themselves. Requests go straight to the ASGI app in this thread's event loop
(``server.bots.browser``), with the app's lifespan running as in a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from starlette.applications import Starlette

from server import flow
from server.app import create_app
from server.bots.bot import Bot, BotError, Submission, as_submission
from server.bots.browser import Browser
from server.bots.html_form import (
    FormFillError,
    HtmlForm,
    has_any_submit_button,
    page_form,
    pairs_to_dict,
)
from server.config import Settings
from server.db import Database
from server.errors import GroveError
from server.fields import choice_form_value
from server.models.core import Participant
from server.project import load_project
from server.sessions import create_session
from server.templating import bytecode_cache

# What the page renders beside each error (server/forms.py, the layout's form error).
ERROR_FIELD = re.compile(r'data-grove-error-field="([^"]*)"')
FIELD_ERROR = re.compile(r'data-grove-error-field="([^"]*)"[^>]*>([^<]*)<')
FORM_ERROR = re.compile(r'class="grove-error[^"]*"[^>]*>([^<]+)<')
PAGE_URL = re.compile(r"^/p/(?P<code>\w+)/(?P<app>[^/]+)/(?P<page>[^/]+)/(?P<index>\d+)$")
MAX_IDLE_ROUNDS = 200
T = TypeVar("T")


@dataclass
class BotRunResult:
    """The outcome of one config's bot run."""

    config_name: str
    num_participants: int
    pages: int = 0
    seconds: float = 0.0
    error: str | None = None
    failed_page: str | None = None
    failed_where: str | None = None  # "on page X (app round n)" or "at the end of the session"
    session_code: str | None = None
    case_label: str = ""
    stopped_early: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


class BotFileError(GroveError):
    """A bot file that cannot be used: it fails to import, or defines no ``PlayerBot``."""


class MissingBotFile(BotError):
    """A bot reached a page of an app that has no ``tests.py`` (``load_player_bot`` found
    none). Reported as its message alone: the traceback would only show Grove's runner."""


def load_player_bot(settings: Settings, app_name: str) -> type[Bot] | None:
    """The ``PlayerBot`` class of the app's ``tests.py`` (``<app>/tests.py`` or
    ``apps/<app>/tests.py``), or None if the app has no bots.

    Raises BotFileError naming the file (and the line) when it cannot be imported.
    """
    # Loading (or finding in the cache) the project makes ``<app>`` its app for the import.
    app = load_project(settings).apps[app_name]
    path = app.directory / "tests.py"
    shown = f"{app.location}/tests.py"
    if not path.is_file():
        return None
    try:
        module = importlib.import_module(f"{app_name}.tests")
    except Exception as exc:
        raise BotFileError(_import_failure(path, shown, exc)) from exc
    bot_class = getattr(module, "PlayerBot", None)
    if not (isinstance(bot_class, type) and issubclass(bot_class, Bot)):
        raise BotFileError(f"{shown} must define class PlayerBot(Bot)")
    return bot_class


def _import_failure(path: Path, shown: str, exc: BaseException) -> str:
    """One line: the bot file, the line of it that failed, and the error."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    where = f"{shown}, line {line}" if line else shown
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    return f"{where}: {type(exc).__name__}: {message}"


class BotRunner:
    """Plays one session with one bot per participant."""

    # How many participants may be in a step (fetch, bot, submit) at once; None: all. A
    # subclass that compares the database before and after a request of its own sets 1.
    max_concurrent_steps: int | None = None

    def __init__(
        self,
        settings: Settings,
        config_name: str,
        num_participants: int | None,
        progress: Callable[[int, int], None] | None = None,
        case_index: int = 0,
        database_url: str | None = None,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.case_index = case_index
        self.config_name = config_name
        self.requested = num_participants
        self.progress = progress
        self.last_html: dict[str, str] = {}
        # The page a SubmissionMustFail got back (the form with its errors): what the bot's
        # self.html is until its next submission, as in oTree.
        self._rejected_html: dict[str, str] = {}
        # Each participant's bots, round after round and app after app, as one stream of
        # submissions (oTree chains the play_round generators the same way).
        self._streams: dict[str, Iterator[tuple[Bot, Submission] | str]] = {}
        self._running: dict[str, tuple[str, int]] = {}
        self._last_submitted: dict[str, str] = {}
        self._bot_classes: dict[str, type[Bot] | None] = {}
        self._app_sequence: list[str] = []
        # (app, round, group id, page) whose bots' call_live_method has run (once per group).
        self._live_called: set[tuple[str, int, int, str]] = set()
        # Each participant's URL: the page it is on, or where its last answer redirected.
        self._urls: dict[str, str] = {}
        # Where each participant's bot is, for the failure message: (page, "on page ...").
        self._place: dict[str, tuple[str | None, str]] = {}

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
        """Create the session and play it to the end on an app of its own; never raises for a
        bot failure."""
        with bot_app(self.settings, self.database_url) as app:
            return asyncio.run(serve(app, lambda client: self.play(app, client)))

    async def play(self, app: Starlette, client: Browser) -> BotRunResult:
        """Create the session in ``app`` and play it to the end through ``client`` (which
        sends to ``app``); never raises for a bot failure."""
        started = time.perf_counter()
        result = BotRunResult(self.config_name, 0)
        grove = app.state.grove
        self._project = grove.project
        self._database = grove.db
        try:
            config = grove.project.session_config(self.config_name)
            count = self.requested or config["num_demo_participants"]
            with grove.db.transaction() as db:
                session = create_session(db, grove.project, self.config_name, count, for_bots=True)
                codes = [p.code for p in session.get_participants()]
                result.session_code = session.code
            result.num_participants = len(codes)
            self._app_sequence = list(config["app_sequence"])
            for app_name in config["app_sequence"]:
                self._bot_classes[app_name] = load_player_bot(self.settings, app_name)
            with grove.db.read() as bot_db:
                self._db = bot_db
                await self._play(client, codes, result)
        except MissingBotFile as exc:
            result.error = str(exc)
        except Exception as exc:
            result.error = "".join(traceback.format_exception(exc)).rstrip()
        result.seconds = time.perf_counter() - started
        return result

    async def _play(self, client: Browser, codes: list[str], result: BotRunResult) -> None:
        """Play every participant at once, each in its own task, as participants in their own
        browsers do: while one participant's request is served, the others' bots run.

        A participant on a wait page is asked again once another has moved (submitted a page
        or reached a new URL, which may have released it), or after 10 ms (a wait page may be
        released by time). When every participant left is waiting and nobody moved for
        MAX_IDLE_ROUNDS such waits, the bots are stuck. The first failure stops the others
        at their next step; it is the one reported.
        """
        self._urls = {code: f"/InitializeParticipant/{code}" for code in codes}
        self._moved = asyncio.Condition()
        self._moves = 0
        self._waiting = 0
        self._unfinished = len(codes)
        self._stopping = False
        self._done: set[str] = set()
        self._result = result
        self._failure: Exception | None = None
        self._step_slots = asyncio.Semaphore(self.max_concurrent_steps or len(codes) or 1)
        tasks = [asyncio.create_task(self._play_one(client, code, result)) for code in codes]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        if any(task.done() and task.exception() is not None for task in tasks):
            self._stopping = True
            async with self._moved:
                self._moved.notify_all()
            await asyncio.wait(tasks)
            for task in tasks:
                # Others may have failed in the same moment: read their errors too, so that
                # asyncio does not log each as "never retrieved" after the run's report.
                task.exception()
            assert self._failure is not None
            raise self._failure

    async def _play_one(self, client: Browser, code: str, result: BotRunResult) -> None:
        """One participant's bot, from the start URL to the end of the session."""
        idle = 0  # times in a row everyone left waited 10 ms and nobody moved
        while not self._stopping:
            before = self._urls[code]
            seen = self._moves  # a move during the step may already have released this page
            try:
                async with self._step_slots:
                    status = await self._step(client, code, result)
            except Exception as exc:
                if self._failure is None:
                    self._failure = exc
                    result.failed_page, result.failed_where = self._place.get(code, (None, None))
                self._stopping = True
                raise
            if status == "finished":
                self._done.add(code)
                self._unfinished -= 1
                await self._note_move()
                return
            if status != "waiting" or self._urls[code] != before:
                await self._note_move()
                seen += 1
            if status == "waiting":
                idle = await self._wait_for_a_move(seen, idle)
            else:
                idle = 0

    async def _note_move(self) -> None:
        async with self._moved:
            self._moves += 1
            self._moved.notify_all()

    async def _wait_for_a_move(self, seen: int, idle: int) -> int:
        """Until a move after the ``seen``-th, or 10 ms; returns the new count of idle waits.

        Raises BotError when everyone left has waited MAX_IDLE_ROUNDS times in a row with no
        move (a page only time could release is asked again after each wait)."""
        async with self._moved:
            self._waiting += 1
            try:
                while self._moves == seen and not self._stopping:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._moved.wait(), 0.01)
                        continue
                    if self._waiting < self._unfinished:
                        continue  # someone is still playing: their move may come
                    idle += 1
                    if idle > MAX_IDLE_ROUNDS and self._failure is None:
                        self._stopping = True
                        stuck = ", ".join(
                            url for c, url in self._urls.items() if c not in self._done
                        )
                        stopped = "; ".join(self._result.stopped_early)
                        self._failure = BotError(
                            f"the bots are stuck (wait pages never released): {stuck}"
                            + (f"; these bots stopped early: {stopped}" if stopped else "")
                        )
                        raise self._failure
                    return idle
                return 0
            finally:
                self._waiting -= 1

    async def _fetch(self, client: Browser, url: str) -> tuple[str, str]:
        for _ in range(50):
            response = await client.get(url)
            if response.status_code in (301, 302, 303, 307):
                url = response.headers["location"]
                continue
            if response.status_code != 200:
                raise BotError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
            return url, response.text
        raise BotError(f"too many redirects from {url}")

    async def _step(self, client: Browser, code: str, result: BotRunResult) -> str:
        url, html = await self._fetch(client, self._urls[code])
        self._urls[code] = url
        if url.endswith("/finished"):
            self._finish_stream(code, result)
            return "finished"
        match = PAGE_URL.match(url)
        if match is None:
            raise BotError(f"participant {code} landed on an unexpected URL {url}")
        if 'id="grove-wait"' in html:
            return "waiting"
        self.last_html[code] = self._rejected_html.pop(code, html)
        page_name = match.group("page")
        # The page's app and round, from its place in the session's page sequence (the URL's
        # index); a database read only if the URL does not name that page.
        pages = self._project.page_sequence(self._app_sequence)
        index = int(match.group("index"))
        if 1 <= index <= len(pages) and pages[index - 1].page_name == page_name:
            app_name, round_number = pages[index - 1].app_name, pages[index - 1].round_number
        else:
            participant = self.participant(code)
            app_name, round_number = participant.current_app, participant.current_round
        if app_name is None or round_number is None:
            raise BotError(f"participant {code} is on a page but in no app")
        place = f"page {page_name} ({app_name} round {round_number})"
        self._place[code] = (page_name, f"on {place}")
        step = self._next_submission(code, place, result)
        if step is None:
            self._place.pop(code, None)
            if "grove-next" not in html and "<form" in html:
                return "finished"  # the last page of the session shows no Next button
            # oTree's rule: a bot whose play_round returns early is done, wherever it is.
            result.stopped_early.append(f"participant {code} on {place}")
            result.log.append(f"{code}: the bot stopped on {place}")
            return "finished"
        if isinstance(step, str):
            location = self._project.apps[step].location
            raise MissingBotFile(
                f"{location}/tests.py does not exist: `otree test` needs a PlayerBot for every "
                "app of the session config that shows a page"
            )
        bot, submission = step
        self._check_page(bot, submission, page_name, app_name, round_number)
        self._call_live_method(bot, submission, code)
        await self._submit(client, code, url, html, page_name, submission, result)
        self._last_submitted[code] = page_name
        self._place.pop(code, None)
        return "submitted"

    def _bot_stream(self, code: str) -> Iterator[tuple[Bot, Submission] | str]:
        """The participant's bots, one per app and round, run one after the other.

        Yields (bot, submission), or the app's name where an app has no PlayerBot. Each
        ``play_round`` runs to its end: statements after its last ``yield`` run before the
        next round's first submission is asked for (or at the end of the session).
        """
        for app_name in self._app_sequence:
            bot_class = self._bot_classes.get(app_name)
            for round_number in range(1, self._project.apps[app_name].num_rounds + 1):
                self._running[code] = (app_name, round_number)
                if bot_class is None:
                    yield app_name
                    continue
                cases = list(getattr(bot_class, "cases", []) or [])
                case = cases[self.case_index % len(cases)] if cases else None
                bot = bot_class(self, code, app_name, round_number, case)
                for item in bot.play_round() or ():
                    yield bot, as_submission(item)

    def _next_submission(
        self, code: str, place: str, result: BotRunResult
    ) -> tuple[Bot, Submission] | str | None:
        """The participant's next submission; None when its bots are done.

        Any exception a bot raises (a false ``expect``, an ``assert``, an AttributeError)
        fails the run, named with where the participant is and the bot's app and round.
        """
        stream = self._streams.setdefault(code, self._bot_stream(code))
        try:
            return next(stream)
        except StopIteration:
            return None
        except Exception as exc:
            app_name, round_number = self._running.get(code, ("?", 0))
            last = self._last_submitted.get(code)
            after = f"after the bot submitted {last}" if last else "before its first submission"
            detail = str(exc) if isinstance(exc, BotError) else type(exc).__name__
            if str(exc) and not isinstance(exc, BotError):
                detail += f": {exc}"
            raise BotError(
                f"{place}: {detail} (in the bot of {app_name} round {round_number}, {after})"
            ) from exc

    def _finish_stream(self, code: str, result: BotRunResult) -> None:
        """The session is over for this participant: run the rest of its bots to their end."""
        place = "the end of the session"
        self._place[code] = (None, f"at {place}")
        while (step := self._next_submission(code, place, result)) is not None:
            if isinstance(step, str):
                continue  # an app without bots that showed this participant no page
            bot, submission = step
            raise BotError(
                f"the bot of {bot._app_name} round {bot.round_number} submitted "
                f"{submission.page_class.__name__} but the participant has finished the session"
            )
        self._place.pop(code, None)

    def _call_live_method(self, bot: Bot, submission: Submission, code: str) -> None:
        """oTree's rule for live pages: when the first bot of a group reaches a page with a
        ``live_method``, its ``tests.py``'s top-level ``call_live_method(method, **kwargs)``
        runs, once per group and page. ``method(id_in_group, data)`` runs the live method for
        that member (whichever page they are on, as in oTree) in its own unit of work and
        returns what it returned."""
        from server.live_pages import call_live_method, group_member_codes

        page_cls = submission.page_class
        if not getattr(page_cls, "live_method", None):
            return
        function = getattr(sys.modules.get(type(bot).__module__), "call_live_method", None)
        if not callable(function):
            return
        record = (bot._app_name, bot.round_number, bot.player.group_id, page_cls.__name__)
        if record in self._live_called:
            return
        self._live_called.add(record)
        entry = flow.current_entry(self._project, self.participant(code))
        assert entry is not None  # the bot is on this live page
        group = bot.group
        members = group_member_codes(bot.player)

        def method(id_in_group: int, data: Any) -> Any:
            if id_in_group not in members:
                raise BotError(
                    f"call_live_method: method({id_in_group!r}, ...) names no player of the group "
                    f"(its id_in_group are {sorted(members)})"
                )
            answer = call_live_method(
                self._database, self._project, members[id_in_group], entry, data
            )
            # the live method wrote in a unit of work of its own: expire what the bots' session
            # holds, so `group` (and any player read before) shows its writes, as in oTree
            self._db.rollback()
            return answer

        function(
            method=method,
            case=bot.case,
            round_number=bot.round_number,
            page_class=page_cls,
            group=group,
        )

    def _check_page(
        self, bot: Bot, submission: Submission, page_name: str, app_name: str, round_number: int
    ) -> None:
        """The submission must be for the participant's page, in the bot's own app and round."""
        if submission.page_class.__name__ != page_name:
            raise BotError(
                f"the bot submitted {submission.page_class.__name__} but the participant is "
                f"on page {page_name} ({app_name} round {round_number})"
            )
        if (bot._app_name, bot.round_number) != (app_name, round_number):
            raise BotError(
                f"the bot of {bot._app_name} round {bot.round_number} submitted {page_name}, "
                f"but the participant is on {page_name} of {app_name} round {round_number} "
                "(did an earlier round's play_round return early?)"
            )

    async def _submit(
        self,
        client: Browser,
        code: str,
        url: str,
        html: str,
        page_name: str,
        submission: Submission,
        result: BotRunResult,
    ) -> None:
        data = self._form_data(html, page_name, submission)
        if submission.timeout_happened:
            self._expire_page(code)
            data["timeout_happened"] = "1"
        response = await client.post(url, data=data)
        if submission.must_fail:
            if response.status_code != 200 or 'class="grove-error' not in response.text:
                raise BotError(
                    f"page {page_name}: SubmissionMustFail, but the page accepted "
                    f"{submission.post_data}"
                )
            _check_error_fields(page_name, submission, response.text)
            self._rejected_html[code] = response.text
            result.log.append(f"{code} {page_name}: rejected as expected")
            return
        if response.status_code != 303:
            errors = page_errors(response.text)
            raise BotError(
                f"page {page_name}: the submission {submission.post_data} was "
                f"rejected: {errors or response.status_code}"
            )
        # As a browser does, the next request is for the page the answer redirects to.
        self._urls[code] = response.headers["location"]
        result.pages += 1
        if self.progress:
            self.progress(result.pages, 0)

    def _form_data(self, html: str, page_name: str, submission: Submission) -> dict[str, str]:
        """What a browser would send after a participant entered the bot's values.

        The page's own form is filled: a radio button or option is clicked by the value it
        submits, a check box ticked for True. A value the page offers no way to enter is a
        BotError, unless the submission must fail (then it is posted as given, like oTree's
        ``SubmissionMustFail``) or the HTML is not checked. A page with no submit button,
        in its form or anywhere else on it, is a BotError too, as in oTree
        (MissingHtmlButtonError): a participant could not leave it. The HTML is checked
        unless the submission says ``check_html=False`` or, saying nothing, the project's
        ``settings.py`` sets ``BOTS_CHECK_HTML = False``.
        """
        raw = {key: _form_value(value) for key, value in submission.post_data.items()}
        check_html = submission.check_html
        if check_html is None:
            check_html = self.settings.bots_check_html
        if not check_html:
            return raw
        try:
            form = page_form(html)
            if not form.has_submit_button() and not has_any_submit_button(html):
                raise BotError(
                    f"page {page_name}: the page has no submit button, so a participant could "
                    "not submit it (a button added by JavaScript is not seen: yield "
                    f"Submission({page_name}, ..., check_html=False) to submit it anyway)"
                )
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
        # The read's engine: its session may be bound to a kept connection of it (a SQLite
        # file's reads, server.db._KeptReaders), which is not where to begin another.
        bind = self._db.get_bind()
        engine = bind.engine if isinstance(bind, sa.Connection) else bind
        with engine.begin() as connection:
            connection.execute(
                sa.update(Participant)
                .where(Participant.id == participant_id)
                .values(page_deadline=time.time() - 60)
            )


def fields_with_errors(html: str) -> set[str]:
    """The fields a rendered page shows an error for (``__all__``: the whole form's error)."""
    return {unescape(name) for name in ERROR_FIELD.findall(html)}


def page_errors(html: str) -> list[str]:
    """The errors a rejected page shows: the whole form's, then ``field: message`` for each
    field (as oTree's bots name them: ``a_none: ['Number must be at least 0.']``)."""
    errors = [unescape(message) for message in FORM_ERROR.findall(html)]
    errors.extend(
        f"{unescape(name)}: {unescape(message)}" for name, message in FIELD_ERROR.findall(html)
    )
    return errors


def _check_error_fields(page_name: str, submission: Submission, html: str) -> None:
    """oTree's rule: with ``error_fields``, the fields with errors are exactly those."""
    expected = set(getattr(submission, "error_fields", None) or [])
    if not expected:
        return
    actual = fields_with_errors(html)
    if actual != expected:
        raise BotError(
            f"page {page_name}: SubmissionMustFail expected errors in the fields "
            f"{sorted(expected)}, but the page shows errors in {sorted(actual)} (submitted "
            f"{submission.post_data})"
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
    if wanted in offered or (wanted == "" and form.has_empty_option(name)):
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


def _case_label(bot_classes: list[type[Bot]], index: int, runs: int) -> str:
    """How a run is named: ``case 2 of 2 ('selfish')``, or "" when the bots have no cases."""
    if runs <= 1 and not any(getattr(b, "cases", None) for b in bot_classes):
        return ""
    values = []
    for bot_class in bot_classes:
        cases = list(getattr(bot_class, "cases", []) or [])
        if cases:
            shown = repr(cases[index % len(cases)])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            if shown not in values:
                values.append(shown)
    return f"case {index + 1} of {runs}" + (f" ({', '.join(values)})" if values else "")


@contextmanager
def bot_app(settings: Settings, database_url: str | None = None) -> Iterator[Starlette]:
    """The app bots play on: in the database at ``database_url``, or on a scratch SQLite file
    deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="grove-bots-") as folder:
        scratch = None
        if database_url is None:
            scratch = Database(
                f"sqlite:///{Path(folder) / 'bots.sqlite3'}",
                lock_timeout=settings.db_lock_timeout_seconds,
            )
            sa.event.listen(scratch.engine, "connect", _skip_fsync)
            database_url = scratch.url
        try:
            app = create_app(settings.with_changes(database_url=database_url), database=scratch)
        except BaseException:
            if scratch is not None:
                scratch.dispose()
            raise
        # A run's templates do not change while it plays: no stat of each template file at
        # every render (a development server's reload).
        app.state.grove.templates.auto_reload = False
        # Nor is each template compiled again at every run.
        app.state.grove.templates.bytecode_cache = bytecode_cache(settings.root)
        app.state.grove.blocking_on_loop = True
        try:
            yield app
        finally:
            app.state.grove.db.dispose()


def _skip_fsync(dbapi_connection: Any, _record: Any) -> None:
    """No fsync at each commit of the scratch database (after server.db's own PRAGMAs): it is
    deleted when the bots are done, so a commit need not survive a power loss."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.close()


async def serve(app: Starlette, play: Callable[[Browser], Awaitable[T]]) -> T:
    """Run ``play`` with a browser that sends to ``app``, the app's lifespan (its background
    work) running around it."""
    async with app.router.lifespan_context(app):
        return await play(Browser(app))


def run_bots(
    settings: Settings,
    config_name: str,
    num_participants: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    export_dir: Path | None = None,
    database_url: str | None = None,
) -> list[BotRunResult]:
    """Play a session config with its bots, once per case; each result says if it passed.

    The cases play on a scratch SQLite file, or in the database at ``database_url`` (the
    test suite's PostgreSQL pass), where their sessions sit side by side. With
    ``export_dir``, the data is written there as oTree's bots export writes it (every
    session in the database: ``<app>.csv``, ``<app>_custom.csv``, ``all_apps_wide.csv``).
    Raises BotFileError when a bot file cannot be imported.
    """
    return run_configs(
        settings,
        [config_name],
        num_participants,
        (lambda _name: progress) if progress else None,
        export_dir,
        database_url,
    )


def run_configs(
    settings: Settings,
    config_names: list[str],
    num_participants: int | None = None,
    progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
    export_dir: Path | None = None,
    database_url: str | None = None,
    on_result: Callable[[BotRunResult], None] | None = None,
) -> list[BotRunResult]:
    """Play each config with its bots, once per case, one after the other, as ``run_bots``
    does, but all on one app and one database (the sessions side by side), so the app is
    built and the database prepared once. ``on_result`` is called with each result as soon
    as it is known. Raises BotFileError, before any run, when a bot file cannot be imported.
    """
    project = load_project(settings)
    plans = []
    for name in config_names:
        config = project.session_config(name)
        bot_classes = [
            bot_class
            for app_name in config["app_sequence"]
            if (bot_class := load_player_bot(settings, app_name)) is not None
        ]
        runs = max([1, *(len(getattr(b, "cases", []) or []) for b in bot_classes)])
        plans.append((name, bot_classes, runs))

    async def play_all(client: Browser) -> list[BotRunResult]:
        results = []
        for name, bot_classes, runs in plans:
            progress = progress_for(name) if progress_for else None
            for case in range(runs):
                runner = BotRunner(settings, name, num_participants, progress, case, database_url)
                result = await runner.play(app, client)
                result.case_label = _case_label(bot_classes, case, runs)
                results.append(result)
                if on_result is not None:
                    on_result(result)
        return results

    with bot_app(settings, database_url) as app:
        results = asyncio.run(serve(app, play_all))
        if export_dir is not None:
            from server.data_export.files import write_otree_files

            grove = app.state.grove
            played = {
                a for name in config_names for a in project.session_config(name)["app_sequence"]
            }
            write_otree_files(grove.db, grove.project, played, export_dir)
        return results
