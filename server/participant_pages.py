"""What a participant does with their pages: one function per use case, each its unit of work.

- ``start_participant``: the participant's start link (``/InitializeParticipant/<code>``);
- ``show_page``: a GET of a page or wait page (a wait page GET is an arrival);
- ``submit_page``: a POST of a page's form (and the timeout sweep's automatic submission);
- ``wait_page_status``: a wait page's status poll (read only);
- ``leave_wait_page``: a released wait page's held status request moves the participant on;
- ``regroup_by_arrival``: ``group_by_arrival_time`` run again for a waiting participant;
- ``join_session``: the session-wide link.

A use case that writes runs in ``Database.run`` and takes its row locks in the LOCK ORDER of
``server/db.py`` through ``lock_participant``: the group (or subsession) of the page the
participant is on, then the participant (a page submission on PostgreSQL takes the same locks
without a look before them while the participant is on the page its URL names:
``_lock_on_page``). The app's hooks (``vars_for_template``, ``js_vars``,
``before_next_page``, ``after_all_players_arrive``, ``error_message``, ``is_displayed``) run
inside the unit of work; the template renders after the commit, in a read transaction, from
what the hooks returned. A template may read (call methods, walk groups) but not write: a
write during rendering raises TemplateWroteError instead of being silently lost.

Nothing here knows HTTP: a use case returns a ``Redirect`` or a ``Rendered`` page.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server import change_sequence, flow, player_cache
from server.browser_tokens import new_browser_token
from server.db import Database, flushed_in_read, lock_ids_in_order, note_rows_held
from server.errors import DatabaseBusy, GroveError, ParticipantNotFound, SessionNotFound
from server.forms import PageForm
from server.i18n import gettext
from server.models.base import flag_changed_json
from server.models.core import ExperimentSession, Participant
from server.participant_lookup import participant_with_label
from server.participant_presence import note_seen_in_unit, seen_is_due
from server.project import AppSpec, PageEntry, Project
from server.sessions import get_participant

# Renders a page: (the page's entry, every name its template sees) -> HTML.
PageRenderer = Callable[[PageEntry, dict[str, Any]], str]

# How often lock_participant re-reads when the participant moved on between its look and its
# lock (the group it locked may then be the wrong one).
_LOCK_ATTEMPTS = 3

_PARTICIPANT_TABLE: sa.Table = Participant.__table__  # type: ignore[assignment]


class TemplateWroteError(RuntimeError):
    """A page's template changed the database while rendering (templates may only read)."""


@dataclass(frozen=True)
class Redirect:
    """The participant belongs on another URL (their current page, or the finished page)."""

    url: str


@dataclass(frozen=True)
class Rendered:
    """A page's HTML and its status (200, or 200 with a refused form's errors)."""

    html: str
    status_code: int = 200
    # A page shown from a read of the participant's row: whether their ``last_seen`` is due
    # (``participant_presence.seen_is_due``); None when not known.
    seen_due: bool | None = None


@dataclass(frozen=True)
class Joined:
    """The session-wide link gave this browser a participant (``code``), with its token."""

    participant_code: str
    browser_token: str


@dataclass(frozen=True)
class JoinPage:
    """The session-wide link's GET: a start button (link previews never take a place)."""


class SessionIsFull(GroveError):
    """Every participant of the session has been taken."""


@dataclass
class _PageToRender:
    """A page chosen inside the unit of work, to render after the commit."""

    entry: PageEntry
    hook_context: dict[str, Any]
    form: PageForm | None
    status_code: int = 200


# --- locking -------------------------------------------------------------------------------


def _scope_of_current_page(db: Session, project: Project, participant: Participant) -> Any:
    """(model, id) of the group or subsession the participant's current page counts in."""
    entry = flow.current_entry(project, participant)
    if entry is None:
        return None
    return flow.scope_row(project, entry, flow.player_for(db, project, participant, entry))


def lock_participant(
    db: Session,
    project: Project,
    code: str,
    *,
    skip_locked: bool = False,
    player_cls: Any = None,
) -> Participant | None:
    """Lock, in LOCK ORDER, what a unit of work on this participant decides on; return them.

    The group (or subsession) of the participant's current page first, then the participant's
    row; then every object loaded before is expired, so what is read next is what the last
    committed transaction left. With ``skip_locked``, None when another transaction holds the
    participant or has just moved them to another page (the timeout sweep moves on). Raises
    ParticipantNotFound. ``player_cls`` (an app's Player class: the app the request's URL
    names): the participant's player of that app in their current round comes in the read of
    the participant, for ``flow.player_for``; on PostgreSQL in the look before the locks
    (the player whose group is locked), on SQLite, where the transaction's write lock holds
    everything already, in the one read.
    """
    if db.get_bind().dialect.name == "sqlite":
        return _read_under_sqlite_write_lock(db, code, player_cls)
    participant: Participant | None = None
    for attempt in range(_LOCK_ATTEMPTS):
        peek = _peek(db, code, player_cls)
        peek_id, position = peek.id, peek.index_in_pages
        scope = _scope_of_current_page(db, project, peek)
        if scope is not None:
            lock_ids_in_order(db, scope[0], [scope[1]])
        # Expired before the locked read, which reads the participant and its session
        # afresh: they are not read a second time on their first use.
        db.expire_all()
        player_cache.forget(db)
        # The participant's row is locked only if they are still on the page whose scope is
        # held: one moved on meanwhile (a wait page's completion moves its waiting members) is
        # looked at again without their row held, since another unit of work may hold the
        # next page's scope and want that row (LOCK ORDER: 2 before 3).
        still_there = attempt < _LOCK_ATTEMPTS - 1
        participant = _locked_read(
            db,
            _locked_participant_query(skip_locked, still_there),
            {"id": peek_id, "position": position},
        )
        if participant is not None or skip_locked or not still_there:
            return participant
    return participant


def _peek(db: Session, code: str, player_cls: Any) -> Participant:
    """The participant with their session, read without a lock (on PostgreSQL the look that
    finds the scope to lock); with ``player_cls``, their player of that app in their current
    round comes in the same read, read afresh and kept for ``flow.player_for`` (which finds
    the scope's id on it): one statement, not two. Raises ParticipantNotFound."""
    if player_cls is None:
        return get_participant(db, code)
    return _read_participant_and_player(db, _participant_with_player_query(player_cls), code)


def _read_participant_and_player(db: Session, query: sa.Select[Any], code: str) -> Participant:
    """Run ``query`` (a participant and their player, ``_participant_and_player``) for
    ``code``; the player, if any, is kept for ``flow.player_for``. ParticipantNotFound if
    there is no such participant."""
    row = db.execute(query, {"code": code}).first()
    if row is None:
        raise ParticipantNotFound(f"no participant with code {code!r}")
    participant, player = row
    if player is not None:
        player_cache.remember(db, [player])
    return participant


def lock_participant_in_scope(
    db: Session, project: Project, code: str, scope: tuple[Any, int]
) -> Participant | None:
    """lock_participant for a caller that knows ``scope``, the (model, id) of the group or
    subsession the participant's current page counted in when it last looked (a live page's
    socket, from its previous message): that row, then the participant's, with no look before
    the locks (two statements fewer on PostgreSQL). The caller must check that ``scope`` is
    still ``flow.scope_row`` of the page the participant is on, and else give up this unit of
    work's writes and lock again with ``lock_participant``. None when there is no such
    participant. On SQLite, as lock_participant."""
    if db.get_bind().dialect.name == "sqlite":
        return _read_under_sqlite_write_lock(db, code)
    lock_ids_in_order(db, scope[0], [scope[1]])
    db.expire_all()
    player_cache.forget(db)
    return _locked_read(db, _locked_participant_by_code_query(), {"code": code})


def _locked_read(db: Session, query: sa.Select[Any], params: dict[str, Any]) -> Participant | None:
    """Run a locked read of the participant (``_locked_participant_query``): the participant,
    or None (no row); the transaction's id it answers is noted for the change stamp."""
    row = db.execute(query, params).first()
    if row is None:
        return None
    participant, transaction_id = row
    change_sequence.note_transaction_id(db, transaction_id)
    note_rows_held(db, _PARTICIPANT_TABLE, (participant.id,))
    return participant


@functools.cache
def _locked_participant_by_code_query() -> sa.Select[Any]:
    """_locked_participant_query's statement, the participant found by code."""
    return (
        sa.select(Participant, change_sequence.transaction_id_column())
        .where(Participant.code == sa.bindparam("code"))
        .options(joinedload(Participant.session, innerjoin=True))
        .with_for_update(of=Participant)
        .execution_options(populate_existing=True)
    )


@functools.cache
def _locked_participant_query(skip_locked: bool, still_there: bool) -> sa.Select[Any]:
    """The participant by id with its session, locked (the participant's row only: every
    participant of the session would queue on a lock of the session's row); with
    ``still_there``, only while they are on page ``:position`` (else no row, none locked).
    Each row also answers the transaction's id, which the change stamp of the unit of work's
    writes needs (``change_sequence.note_transaction_id``): one round trip fewer."""
    query = sa.select(Participant, change_sequence.transaction_id_column()).where(
        Participant.id == sa.bindparam("id")
    )
    if still_there:
        query = query.where(Participant.index_in_pages == sa.bindparam("position"))
    return (
        query.options(joinedload(Participant.session, innerjoin=True))
        .with_for_update(skip_locked=skip_locked, of=Participant)
        .execution_options(populate_existing=True)
    )


def _read_under_sqlite_write_lock(db: Session, code: str, player_cls: Any = None) -> Participant:
    """lock_participant on SQLite: the unit of work's BEGIN IMMEDIATE took the database's
    write lock before its first read, so nothing can change what it reads and one read of
    the participant is the lock. Objects a reused session kept from an earlier unit of work
    are expired first, so they too are read afresh.

    The group's and the participant's row locks would be SELECTs without FOR UPDATE here, and
    the look before the lock a third read of the participant: three statements of a page
    submission, all while every worker's writes wait for the lock.

    With ``player_cls``, the participant's player of that app in their current round comes
    in the same read (none if they are in another app or round: then it is one of that app's
    players all the same, kept for ``flow.player_for`` as any player it loaded): a page
    request's second statement, the player's SELECT, is then not sent."""
    if db.identity_map:
        db.expire_all()
    player_cache.forget(db)
    if player_cls is None:
        return get_participant(db, code, afresh=True)
    return _peek(db, code, player_cls)


@functools.lru_cache(maxsize=256)
def _participant_with_player_query(player_cls: Any) -> sa.Select[Any]:
    """The participant by ``:code`` with their session and, if there is one, their player of
    ``player_cls`` in the round they are in (``current_round``), read afresh; built once per
    Player class."""
    return _participant_and_player(player_cls).execution_options(populate_existing=True)


def _participant_and_player(player_cls: Any) -> sa.Select[Any]:
    """The participant by ``:code``, their session, and their player of ``player_cls`` in the
    round they are in (``current_round``), if there is one."""
    in_round = sa.and_(
        player_cls.participant_id == Participant.id,
        player_cls.round_number == Participant.current_round,
    )
    return (
        sa.select(Participant, player_cls)
        .outerjoin(player_cls, in_round)
        .where(Participant.code == sa.bindparam("code"))
        .options(joinedload(Participant.session, innerjoin=True))
    )


def _lock_on_page(
    db: Session, project: Project, code: str, app: AppSpec, page_name: str, index: int
) -> Participant | None:
    """lock_participant for a request whose URL names the page the participant should be on
    (page ``index``, of ``app``, called ``page_name``: a page submission), on PostgreSQL.

    The same locks in the same order, with no look before them (one statement fewer): the
    scope row of that page (``flow.scope_of_page``) is found from the participant's player in
    the locking statement itself, then the participant's row is locked if they are still on
    that page (as lock_participant's check of the page it looked at). None, with nothing
    locked but perhaps that scope row, when they are not on it or this is SQLite: the caller
    then locks with lock_participant.
    """
    if db.get_bind().dialect.name == "sqlite":
        return None
    page_cls = next((cls for cls in app.page_sequence if cls.__name__ == page_name), None)
    if page_cls is None:
        return None
    model, column = flow.scope_of_page(app, page_cls)
    player_cls: Any = app.player_cls
    on_page = {"code": code, "index": index, "app": app.name, "page": page_name}
    if db.scalar(_scope_lock_query(player_cls, model, column), on_page) is None:
        return None
    if db.identity_map:
        db.expire_all()
    player_cache.forget(db)
    return _locked_read(db, _locked_participant_on_page_query(), on_page)


def _on_page(player_cls: Any | None = None) -> sa.ColumnElement[bool]:
    """The participant ``:code`` on page ``:index`` of app ``:app``, called ``:page`` (and,
    with ``player_cls``, that app's player of the round they are in)."""
    condition = sa.and_(
        Participant.code == sa.bindparam("code"),
        Participant.index_in_pages == sa.bindparam("index"),
        Participant.current_app == sa.bindparam("app"),
        Participant.current_page_name == sa.bindparam("page"),
    )
    if player_cls is None:
        return condition
    return sa.and_(
        condition,
        player_cls.participant_id == Participant.id,
        player_cls.round_number == Participant.current_round,
    )


@functools.lru_cache(maxsize=256)
def _scope_lock_query(player_cls: Any, model: Any, column: str) -> sa.Select[Any]:
    """Lock the row of ``model`` (a group or subsession) whose id is in ``column`` of the
    player of the participant on the page ``_on_page`` names (no row when they are not)."""
    scope_id = sa.select(getattr(player_cls, column)).where(_on_page(player_cls)).scalar_subquery()
    return sa.select(model.id).where(model.id == scope_id).with_for_update(of=model)


@functools.cache
def _locked_participant_on_page_query() -> sa.Select[Any]:
    """_locked_participant_query's statement, the participant found by ``_on_page``."""
    return (
        sa.select(Participant, change_sequence.transaction_id_column())
        .where(_on_page())
        .options(joinedload(Participant.session, innerjoin=True))
        .with_for_update(of=Participant)
        .execution_options(populate_existing=True)
    )


def _locked(db: Session, project: Project, code: str, player_cls: Any = None) -> Participant:
    participant = lock_participant(db, project, code, player_cls=player_cls)
    if participant is None:
        raise ParticipantNotFound(f"no participant with code {code!r}")
    return participant


def _participant_with_page_rows(db: Session, code: str, player_cls: Any) -> Participant:
    """The participant by code with their session and, in the same statement, their player
    of ``player_cls`` in the round they are in, with the player's group and subsession (what
    a page's template gets), kept for ``flow.player_for``; ParticipantNotFound if there is no
    such participant. For a read transaction: nothing is read afresh.

    The five rows come as five entities of one plain join, each then set as its
    relationship's loaded value (``set_committed_value``, what a joined load does for each
    row): SQLAlchemy's joined eager loads build their aliased row processors again at every
    execution, a tenth of a page GET's CPU."""
    row = db.execute(_participant_with_page_rows_query(player_cls), {"code": code}).first()
    if row is None:
        raise ParticipantNotFound(f"no participant with code {code!r}")
    participant, session, player, group, subsession = row
    set_committed_value(participant, "session", session)
    if player is not None:
        set_committed_value(player, "group", group)
        set_committed_value(player, "subsession", subsession)
        player_cache.remember(db, [player])
    return participant


@functools.lru_cache(maxsize=256)
def _participant_with_page_rows_query(player_cls: Any) -> sa.Select[Any]:
    """_participant_with_page_rows's statement, built once per Player class: the participant
    by ``:code``, their session, and their player of ``player_cls`` in the round they are in
    (``current_round``) with the player's group and subsession, if there is such a player."""
    relationships = sa.inspect(player_cls).relationships
    group_cls = relationships["group"].mapper.class_
    subsession_cls = relationships["subsession"].mapper.class_
    in_round = sa.and_(
        player_cls.participant_id == Participant.id,
        player_cls.round_number == Participant.current_round,
    )
    return (
        sa.select(Participant, ExperimentSession, player_cls, group_cls, subsession_cls)
        .join(ExperimentSession, ExperimentSession.id == Participant.session_id)
        .outerjoin(player_cls, in_round)
        .outerjoin(group_cls, group_cls.id == player_cls.group_id)
        .outerjoin(subsession_cls, subsession_cls.id == player_cls.subsession_id)
        .where(Participant.code == sa.bindparam("code"))
    )


def _url_names_other_page(
    project: Project,
    entry: PageEntry | None,
    app_in_url: str | None,
    page_in_url: str | None,
) -> bool:
    """Whether a page URL naming app ``app_in_url`` (its ``C.NAME_IN_URL``) and page
    ``page_in_url`` names another page than ``entry``, the one at the URL's index the
    participant is on (False when the caller gave no URL: the timeout sweep). oTree 6.0.15
    answers a request whose path is not the current page's URL with a redirect to it,
    whatever the method (``Page.dispatch``), so such a URL neither submits nor shows the
    current page, nor counts an arrival at it."""
    if entry is None or (app_in_url is None and page_in_url is None):
        return False
    app = project.apps[entry.app_name]
    return (app_in_url is not None and app_in_url != app.name_in_url) or (
        page_in_url is not None and page_in_url != entry.page_name
    )


# --- use cases -----------------------------------------------------------------------------


def start_participant(
    database: Database, project: Project, code: str, label: str | None = None
) -> Redirect:
    """The start link: put the participant on their first page (once); where they belong.

    ``label`` (oTree's ``?participant_label=``, normalized) becomes the participant's label
    when they start and have none, unless another participant of the session has it."""

    def work(db: Session) -> Redirect:
        participant = _locked(db, project, code)
        if label is not None and participant.index_in_pages == 0 and participant.label is None:
            _take_label(db, participant, label)
        flow.start(db, project, participant)
        return Redirect(flow.current_url(project, participant))

    return database.run(work)


def _take_label(db: Session, participant: Participant, label: str) -> None:
    """Give ``participant`` the label, unless another participant of its session has it (a
    label names one participant of a session)."""
    if participant_with_label(db, participant.session_id, label) is None:
        participant.label = label


def show_page(
    database: Database,
    project: Project,
    code: str,
    index: int,
    render: PageRenderer,
    *,
    app_in_url: str | None = None,
    page_in_url: str | None = None,
) -> Redirect | Rendered:
    """A GET of page ``index``: the page, or a Redirect to where the participant belongs.

    Showing a page normally changes nothing, so it runs in a read transaction and takes no
    write lock. A page that must record something (the first page, a wait page arrival, a
    countdown's start) or whose hooks change a row goes through a write unit of work.
    ``app_in_url``: the app the URL names (``C.NAME_IN_URL``); its player, with their group
    and subsession, comes in the participant's read (one statement for the page).
    ``page_in_url``: the page the URL names; a URL naming another app or page than the one
    at ``index`` is a Redirect (``_url_names_other_page``).
    """
    app = project.app_in_url(app_in_url) if app_in_url is not None else None
    player_cls = app.player_cls if app is not None else None
    in_url = (app_in_url, page_in_url)
    try:
        shown = _show_without_writing(database, project, code, index, render, player_cls, in_url)
    except DatabaseBusy:
        # A hook wrote while the page was read (participant.randomize() in vars_for_template
        # flushes its draw): SQLite cannot turn a read into a write while another connection
        # writes, and says "locked" at once. The write unit of work below shows the page.
        shown = None
    if shown is not None:
        return shown

    def work(db: Session) -> Redirect | _PageToRender:
        participant = _locked(db, project, code)
        if participant.index_in_pages == 0:
            flow.start(db, project, participant)
        entry = flow.current_entry(project, participant)
        if _url_names_other_page(project, entry, *in_url):
            return Redirect(flow.current_url(project, participant))
        if entry is not None and entry.is_wait_page and entry.index == index:
            if not flow.arrive_at_wait_page(db, project, participant):
                return _page_to_render(db, project, participant, entry)
            entry = flow.current_entry(project, participant)
        if entry is None or entry.index != index:
            return Redirect(flow.current_url(project, participant))
        player = flow.player_for(db, project, participant, entry)
        flow.ensure_deadline(participant, entry, player)
        return _page_to_render(db, project, participant, entry)

    outcome = database.run(work)
    if isinstance(outcome, Redirect):
        return outcome
    return _render_after_commit(database, project, code, outcome, render)


def submit_page(
    database: Database,
    project: Project,
    code: str,
    index: int,
    form: Mapping[str, str],
    render: PageRenderer | None,
    *,
    timeout_happened: bool = False,
    seen: bool = False,
    app_in_url: str | None = None,
    page_in_url: str | None = None,
) -> Redirect | Rendered:
    """A POST of page ``index``'s form: stored and moved on (a Redirect), or refused.

    A refused form comes back Rendered with its errors (nothing of the form is stored). A
    submission for any page but the current one changes nothing and redirects. The timeout
    sweep calls this with ``timeout_happened`` (and no renderer). ``seen``: the participant's
    browser sent it, so their ``last_seen`` is noted in the same unit of work
    (``participant_presence.note_seen_in_unit``). ``app_in_url``: the app the POST's URL
    names (``C.NAME_IN_URL``); on SQLite its player comes in the participant's read.
    ``page_in_url``: the page the URL names; on PostgreSQL, while the participant is on it,
    the locks need no look before them (``_lock_on_page``). A URL naming another app or page
    than the one at ``index`` changes nothing (``_url_names_other_page``): a Redirect.
    """
    app = project.app_in_url(app_in_url) if app_in_url is not None else None
    player_cls = app.player_cls if app is not None else None

    def work(db: Session) -> Redirect | _PageToRender:
        participant = None
        if app is not None and page_in_url is not None:
            participant = _lock_on_page(db, project, code, app, page_in_url, index)
        if participant is None:
            participant = _locked(db, project, code, player_cls)
        if participant.index_in_pages == 0:
            flow.start(db, project, participant)
        entry = flow.current_entry(project, participant)
        other_page = _url_names_other_page(project, entry, app_in_url, page_in_url)
        if other_page and entry is not None and entry.index == index:
            if seen:
                note_seen_in_unit(participant)
            return Redirect(flow.current_url(project, participant))
        result = flow.submit_page(
            db,
            project,
            participant,
            index,
            dict(form),
            timeout_happened=timeout_happened,
            arriving=seen,
        )
        if seen:  # last, so it goes out in the UPDATE of the participant's new position
            note_seen_in_unit(participant)
        if not result.accepted and not result.stale:
            entry = flow.current_entry(project, participant)
            assert entry is not None  # a refused submission leaves the participant on it
            return _page_to_render(db, project, participant, entry, form=result.form)
        return Redirect(flow.current_url(project, participant))

    outcome = database.run(work)
    if isinstance(outcome, Redirect):
        return outcome
    if render is None:
        return Rendered("", 200)  # the timeout sweep shows nothing
    return _render_after_commit(database, project, code, outcome, render)


def regroup_by_arrival(database: Database, project: Project, code: str, index: int) -> bool:
    """Run ``group_by_arrival_time`` again for a participant waiting on wait page ``index``
    (the background sweep's call, as oTree's periodic wait page reload); True if they passed.

    Locks as an arrival does (the subsession, then the participant); a participant another
    transaction holds is skipped (False).
    """

    def work(db: Session) -> bool:
        participant = lock_participant(db, project, code, skip_locked=True)
        if participant is None:
            return False
        entry = flow.current_entry(project, participant)
        if entry is None or entry.index != index or not entry.is_wait_page:
            return False
        # Picked as the first arrival not grouped yet, perhaps long gone: not present by it.
        return flow.arrive_at_wait_page(db, project, participant, arriving=False)

    return database.run(work)


@dataclass(frozen=True)
class WaitStatus:
    """A wait page's status: may the participant move on (``ready``), and when they are no
    longer on it (the unit of work that completed it moved them on), where they are now
    (``url``; None while they are on it)."""

    ready: bool
    url: str | None = None


def wait_page_status(database: Database, project: Project, code: str, index: int) -> WaitStatus:
    """A wait page's status poll of page ``index``: one read. Raises ParticipantNotFound."""
    with database.read() as db:
        participant = get_participant(db, code)
        entry = flow.current_entry(project, participant)
        if entry is None or entry.index != index or not entry.is_wait_page:
            return WaitStatus(True, flow.current_url(project, participant))
        player = flow.player_for(db, project, participant, entry)
        if not entry.page_cls.is_displayed(player):
            return WaitStatus(True)
        scope = flow.wait_scope_key(entry, player)
        return WaitStatus(flow.wait_page_is_complete(db, participant, entry, scope))


def leave_wait_page(database: Database, project: Project, code: str, index: int) -> str | None:
    """A wait page's held status request, once released: move the participant past wait page
    ``index`` as the page's reload would (the same unit of work as show_page's) and return the
    URL of the page they now belong on, so their browser loads it in one request; None when
    they may not move on yet. Their ``last_seen`` is noted in the same unit of work. Raises
    ParticipantNotFound."""

    def work(db: Session) -> str | None:
        participant = _locked(db, project, code)
        entry = flow.current_entry(project, participant)
        if (
            entry is not None
            and entry.is_wait_page
            and entry.index == index
            and not flow.arrive_at_wait_page(db, project, participant)
        ):
            return None
        note_seen_in_unit(participant)
        return flow.current_url(project, participant)

    return database.run(work)


def has_finished(database: Database, project: Project, code: str) -> Redirect | None:
    """None when the participant has finished the session; else a Redirect to their page."""
    with database.read() as db:
        participant = get_participant(db, code)
        if participant.finished:
            return None
        return Redirect(flow.current_url(project, participant))


def join_session(
    database: Database,
    join_code: str,
    browser_token: str | None,
    *,
    claim: bool,
    label: str | None = None,
) -> Joined | JoinPage:
    """The session-wide link: this browser's participant, or (``claim``) the next free one.

    The same browser (``browser_token``) always gets its participant back. Without ``claim``
    (a GET) a browser that has none gets a JoinPage: link-preview robots never take a place.
    With ``label`` (oTree's ``?participant_label=``, normalized) the participant with that
    label comes first, whichever browser asks, and a claimed participant gets the label.
    Raises SessionNotFound, SessionIsFull.
    """

    def work(db: Session) -> Joined | JoinPage:
        query = sa.select(ExperimentSession).where(ExperimentSession.join_code == join_code)
        if claim and label is not None:
            # Two clicks with one label wait for each other: the second finds the first's.
            query = query.with_for_update()
        session = db.scalars(query).first()
        if session is None:
            raise SessionNotFound(f"no session with join code {join_code!r}")
        if label is not None:
            labelled = participant_with_label(db, session.id, label)
            if labelled is not None:
                return Joined(labelled.code, browser_token or new_browser_token())
        elif browser_token:
            mine = db.scalars(
                sa.select(Participant.code).where(
                    Participant.session_id == session.id,
                    Participant.browser_token == browser_token,
                )
            ).first()
            if mine is not None:
                return Joined(mine, browser_token)
        if not claim:
            return JoinPage()
        token = browser_token or new_browser_token()
        free = db.scalars(
            sa.select(Participant)
            .where(
                Participant.session_id == session.id,
                Participant.browser_token.is_(None),
                Participant.visited.is_(False),
                Participant.label.is_(None),
            )
            .order_by(Participant.id_in_session)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if free is None:
            raise SessionIsFull("Sorry, this session is full: every place has been taken.")
        free.browser_token = token
        free.visited = True
        if label is not None:
            free.label = label
        return Joined(free.code, token)

    return database.run(work)


# --- rendering after the commit --------------------------------------------------------------


def _show_without_writing(
    database: Database,
    project: Project,
    code: str,
    index: int,
    render: PageRenderer,
    player_cls: Any = None,
    in_url: tuple[str | None, str | None] = (None, None),
) -> Rendered | Redirect | None:
    """The current page rendered in a read transaction; None if showing it must write; a
    Redirect to it when the URL (``in_url``: its app and page names) names another page at
    its index (``_url_names_other_page``)."""
    with database.read() as db:
        participant = (
            get_participant(db, code)
            if player_cls is None
            else _participant_with_page_rows(db, code, player_cls)
        )
        if participant.index_in_pages == 0:
            return None
        entry = flow.current_entry(project, participant)
        if entry is None or entry.index != index:
            return None
        if _url_names_other_page(project, entry, *in_url):
            return Redirect(flow.current_url(project, participant))
        if entry.is_wait_page:
            return None
        player = flow.player_for(db, project, participant, entry, with_group=True)
        if participant.page_deadline is None and flow.timeout_seconds(entry, player) is not None:
            return None
        page = _page_to_render(db, project, participant, entry)
        if _has_writes(db):
            return None  # a hook wrote something: redo it in a write unit of work
        return Rendered(
            _render(db, project, participant, page, render),
            page.status_code,
            seen_is_due(participant.last_seen),
        )


def _page_to_render(
    db: Session,
    project: Project,
    participant: Participant,
    entry: PageEntry,
    *,
    form: PageForm | None = None,
) -> _PageToRender:
    """Run the page's hooks for rendering: vars_for_template, js_vars and (pages) the form."""
    player = flow.player_for(db, project, participant, entry)
    page_cls = entry.page_cls
    hook_context = dict(page_cls.vars_for_template(player) or {})
    hook_context["js_vars"] = page_cls.js_vars(player) or {}
    if not entry.is_wait_page and form is None:
        form = flow.page_form(project, entry, player)
    return _PageToRender(entry, hook_context, form)


def _render_after_commit(
    database: Database, project: Project, code: str, page: _PageToRender, render: PageRenderer
) -> Rendered:
    with database.read() as db:
        participant = get_participant(db, code)
        page.hook_context = {k: _reattach(db, v) for k, v in page.hook_context.items()}
        return Rendered(_render(db, project, participant, page, render), page.status_code)


def _render(
    db: Session,
    project: Project,
    participant: Participant,
    page: _PageToRender,
    render: PageRenderer,
) -> str:
    entry = page.entry
    player = flow.player_for(db, project, participant, entry, with_group=True)
    app = project.apps[entry.app_name]
    url = flow.page_url(project, participant, entry)
    deadline = participant.page_deadline
    context: dict[str, Any] = {
        "player": player,
        "group": player.group,
        "subsession": player.subsession,
        "participant": participant,
        "session": participant.session,
        "C": app.constants,
        "Constants": app.constants,
        "page_url": url,
        "page_index": entry.index,
        "page_name": entry.page_name,
        "round_number": entry.round_number,
        "num_pages": len(flow.page_sequence_of(project, participant)),
        "form": page.form,
        "timer_seconds_left": (
            None if deadline is None else max(0.0, round(deadline - time.time(), 1))
        ),
        "timer_text": gettext(getattr(entry.page_cls, "timer_text", "")),
        # A page with a live method gets the live script (server/web/live_routes.py); the
        # render time tells it which stored messages it has not seen.
        "live_url": (
            f"/live/{participant.code}/{entry.index}"
            if getattr(entry.page_cls, "live_method", None)
            else None
        ),
        "live_since": time.time(),
        # Every page listens for page commands (server/web/page_routes.py).
        "page_socket_url": f"/page/{participant.code}",
    }
    if entry.is_wait_page:
        context["title_text"] = gettext(entry.page_cls.title_text)
        context["body_text"] = gettext(wait_body_text(db, entry.page_cls, player))
        context["status_url"] = url + "/status"
    # For the development server's debug panel (server/web/debug_panel.py).
    context["grove_debug_vars"] = {k: v for k, v in page.hook_context.items() if k != "js_vars"}
    context.update(page.hook_context)
    html = render(entry, context)
    if _has_writes(db):
        changed = sorted({type(row).__name__ for row in (*db.new, *db.dirty, *db.deleted)})
        raise TemplateWroteError(
            f"the template of page {entry.page_name} changed {', '.join(changed) or 'rows'} while "
            "rendering; templates may only read. Change data in vars_for_template or "
            "before_next_page instead."
        )
    return html


def wait_body_text(db: Session, page_cls: Any, player: Any) -> str:
    """The text of wait page ``page_cls`` for ``player``: the page's ``body_text``, else
    oTree 6.0.15's default (``WaitPage._get_default_body_text``): on a
    ``group_by_arrival_time`` page "Waiting to form a group with other participants.",
    otherwise by the number of other players of the group (of the subsession, with
    ``wait_for_all_groups``): "the other participant." for one, "the other participants."
    for more, and no text for none. English; the caller translates it."""
    if page_cls.body_text is not None:
        return str(page_cls.body_text)
    if page_cls.group_by_arrival_time:
        return "Waiting to form a group with other participants."
    player_cls = type(player)
    if page_cls.wait_for_all_groups:
        scope = player_cls.subsession_id == player.subsession_id
    else:
        scope = player_cls.group_id == player.group_id
    members = db.scalar(sa.select(sa.func.count()).select_from(player_cls).where(scope)) or 0
    others = members - 1
    if others > 1:
        return "Waiting for the other participants."
    if others == 1:
        return "Waiting for the other participant."
    return ""


def _has_writes(db: Session) -> bool:
    """Whether the hooks or the template changed anything: pending, or already flushed (a
    query after a change flushes it first; in a read transaction it must not be lost)."""
    flag_changed_json(db)
    return bool(db.new or db.dirty or db.deleted) or flushed_in_read(db)


def _reattach(db: Session, value: Any) -> Any:
    """Rows a hook returned, loaded again in the rendering transaction (lists, dicts too)."""
    if isinstance(value, list | tuple):
        return type(value)(_reattach(db, item) for item in value)
    if isinstance(value, dict):
        return {key: _reattach(db, item) for key, item in value.items()}
    state = sa.inspect(value, raiseerr=False)
    if state is not None and getattr(state, "mapper", None) is not None:
        return db.merge(value, load=False)
    return value
