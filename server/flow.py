"""The page flow: where a participant is, submitting a page, advancing, and wait pages.

Every function here runs inside the caller's unit of work and knows nothing of HTTP. The use
cases in ``server/participant_pages.py`` call them after ``lock_participant`` took the locks in
LOCK ORDER (``server/db.py``), so two requests of one participant (a double click, two tabs,
two workers) are applied one after the other.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, object_session

from server import player_cache
from server.db import (
    RunAgainWithLocks,
    dialect_insert,
    lock_ids_in_order,
    note_rows_held,
    run_again_noted,
)
from server.forms import PageForm, auto_submitted_values, build_form, validate_submission
from server.models.core import Participant, WaitPageArrival, WaitPageCompletion, utcnow
from server.page_channel import publish_check, publish_released
from server.page_classes import Page
from server.page_times import (
    record_completion,
    record_passing_completions,
    record_wait_page_completions,
)
from server.project import AppSpec, PageEntry, Project

TIMEOUT_GRACE_SECONDS = 2.0


def page_sequence_of(project: Project, participant: Participant) -> list[PageEntry]:
    """The flattened page sequence of the participant's session."""
    return project.page_sequence(participant.session.config["app_sequence"])


def current_entry(project: Project, participant: Participant) -> PageEntry | None:
    """The page the participant is on, or None when they have finished (or not started)."""
    pages = page_sequence_of(project, participant)
    index = participant.index_in_pages
    if 1 <= index <= len(pages):
        return pages[index - 1]
    return None


def page_url(project: Project, participant: Participant, entry: PageEntry | None) -> str:
    """The URL of a page in oTree's scheme (or the finished page)."""
    if entry is None:
        return f"/p/{participant.code}/finished"
    app = project.apps[entry.app_name]
    return f"/p/{participant.code}/{app.name_in_url}/{entry.page_name}/{entry.index}"


def current_url(project: Project, participant: Participant) -> str:
    """Where the participant should be now."""
    if participant.index_in_pages == 0:
        return f"/InitializeParticipant/{participant.code}"
    return page_url(project, participant, current_entry(project, participant))


def _player_query(player_cls: Any, with_group: bool) -> sa.Select[Any]:
    """The SELECT of one participant's player in one round, built once per Player class and
    kept on it: building the expression anew took about a tenth of a page GET's CPU time."""
    queries = player_cls.__dict__.get("_grove_player_queries")
    if queries is None:
        queries = {}
        player_cls._grove_player_queries = queries
    query = queries.get(with_group)
    if query is None:
        query = sa.select(player_cls).where(
            player_cls.participant_id == sa.bindparam("participant_id"),
            player_cls.round_number == sa.bindparam("round_number"),
        )
        if with_group:
            query = query.options(joinedload(player_cls.group), joinedload(player_cls.subsession))
        queries[with_group] = query
    return query


def player_for(
    db: Session,
    project: Project,
    participant: Participant,
    entry: PageEntry,
    *,
    with_group: bool = False,
) -> Any:
    """The participant's Player row in the entry's app and round.

    ``with_group`` loads its group and subsession in the same query (a page's template gets
    both), where they would otherwise cost one query each.
    """
    player_cls = project.apps[entry.app_name].player_cls
    # One query per player per unit of work (server.player_cache).
    player = player_cache.cached_player(db, player_cls, participant.id, entry.round_number)
    if player is None:
        player = db.scalars(
            _player_query(player_cls, with_group),
            {"participant_id": participant.id, "round_number": entry.round_number},
        ).one()
        player_cache.remember(db, [player])
    return player


def start(
    db: Session, project: Project, participant: Participant, *, arriving: bool = True
) -> None:
    """Put a participant who has not started on their first displayed page. ``arriving``:
    their own request started them (False for the admin's advance; see
    ``settle_on_wait_pages``)."""
    if participant.index_in_pages != 0:
        return
    participant.visited = True
    participant.time_started = utcnow()
    _move_to(db, project, participant, 1)
    settle_on_wait_pages(db, project, participant, arriving=arriving)


def _record_position(participant: Participant, entry: PageEntry | None) -> None:
    participant.page_deadline = None
    if entry is None:
        participant.finished = True
        participant.current_app = None
        participant.current_page_name = None
        participant.current_round = None
    else:
        participant.current_app = entry.app_name
        participant.current_page_name = entry.page_name
        participant.current_round = entry.round_number


def _move_to(db: Session, project: Project, participant: Participant, index: int) -> None:
    """Move to the first page at or after ``index`` that is displayed (wait pages stop here)."""
    pages = page_sequence_of(project, participant)
    while index <= len(pages):
        entry = pages[index - 1]
        if entry.is_wait_page:
            break
        player = player_for(db, project, participant, entry)
        if entry.page_cls.is_displayed(player):
            break
        index += 1
    participant.index_in_pages = min(index, len(pages) + 1)
    _record_position(participant, pages[index - 1] if index <= len(pages) else None)
    if index <= len(pages) and not pages[index - 1].is_wait_page:
        # The countdown starts when the participant reaches the page, not when a browser
        # shows it, so an absent participant still times out.
        ensure_deadline(participant, pages[index - 1], player)


def move_back_to(db: Session, project: Project, participant: Participant, entry: PageEntry) -> None:
    """Put the participant back on ``entry``, an earlier page that is displayed to them (the
    admin's revert, ``participant_actions.revert``); its countdown starts anew."""
    _release_waiting_page(project, participant)
    participant.index_in_pages = entry.index
    _record_position(participant, entry)
    ensure_deadline(participant, entry, player_for(db, project, participant, entry))


def move_to_end(project: Project, participant: Participant) -> None:
    """Move the participant past the last page (finished) without submitting the pages left
    (the admin's "end", ``participant_actions.end``)."""
    _release_waiting_page(project, participant)
    participant.index_in_pages = len(page_sequence_of(project, participant)) + 1
    participant.visited = True
    _record_position(participant, None)


def _next_index_after(
    db: Session, project: Project, participant: Participant, entry: PageEntry, player: Any
) -> int:
    """The index after ``entry``, honouring ``app_after_this_page``.

    A participant who skips apps passes the wait pages on the way as arrived
    (``_arrive_while_skipping``), as in oTree's ``Page._increment_index_in_pages``.
    """
    hook = getattr(entry.page_cls, "app_after_this_page", None)
    if callable(hook):
        sequence = participant.session.config["app_sequence"]
        position = sequence.index(entry.app_name)
        upcoming = sequence[position + 1 :]
        target = hook(player, upcoming)
        if target is not None:
            if target not in upcoming:
                raise ValueError(
                    f"{entry.page_name}.app_after_this_page returned {target!r}, which is not "
                    f"one of the upcoming apps {upcoming}"
                )
            pages = page_sequence_of(project, participant)
            target_index = next(p.index for p in pages if p.app_name == target)
            for skipped in pages[entry.index : target_index - 1]:
                if skipped.is_wait_page:
                    _arrive_while_skipping(db, project, participant, skipped)
            return target_index
    return entry.index + 1


def _arrive_while_skipping(
    db: Session, project: Project, participant: Participant, entry: PageEntry
) -> None:
    """Count a participant skipping past wait page ``entry`` (``app_after_this_page``, or the
    page's ``is_displayed`` False for them) as arrived there, so the group does not wait for
    them; if others wait there and this was the last arrival, ``after_all_players_arrive``
    runs and they are moved on.

    oTree's rule (``Page._increment_index_in_pages``, ``WaitPage._tally_unvisited``): a wait
    page counts a participant whose page index is past it as arrived, runs
    ``after_all_players_arrive`` only when someone is waiting on it, and leaves pages with
    ``group_by_arrival_time`` alone (everyone or no one skips those).
    """
    if getattr(entry.page_cls, "group_by_arrival_time", False):
        return
    player = player_for(db, project, participant, entry)
    _lock_scope(db, entry, player, project)
    _record_arrival(db, participant, entry)
    _complete_if_everyone_arrived(db, project, participant, entry, player, someone_waiting=True)


def form_object(player: Any, page_cls: type[Any]) -> Any:
    """The object a page's form writes to (player or group), or None for no form."""
    model = getattr(page_cls, "form_model", None)
    if model is None:
        return None
    if model == "player":
        return player
    if model == "group":
        return player.group
    raise ValueError(f"{page_cls.__name__}.form_model must be 'player' or 'group', not {model!r}")


def page_form(project: Project, entry: PageEntry, player: Any) -> PageForm:
    """The form of a page, filled with the stored values."""
    app = project.apps[entry.app_name]
    return build_form(app, entry.page_cls, player, form_object(player, entry.page_cls))


def timeout_seconds(entry: PageEntry, player: Any) -> float | None:
    """The page's time limit for this player, if any."""
    getter = getattr(entry.page_cls, "get_timeout_seconds", None)
    if callable(getter):
        value = getter(player)
    else:
        value = getattr(entry.page_cls, "timeout_seconds", None)
    return None if value is None else float(value)


def ensure_deadline(participant: Participant, entry: PageEntry, player: Any) -> float | None:
    """Start the page's countdown on first display; return the deadline (epoch seconds)."""
    seconds = timeout_seconds(entry, player)
    if seconds is None:
        return None
    if participant.page_deadline is None:
        participant.page_deadline = time.time() + seconds
    return participant.page_deadline


@dataclass
class SubmitResult:
    """What happened to a page submission."""

    accepted: bool
    form: PageForm | None = None
    stale: bool = False


def submit_page(
    db: Session,
    project: Project,
    participant: Participant,
    index: int,
    submitted: dict[str, str],
    *,
    timeout_happened: bool = False,
    forced: bool = False,
    arriving: bool = True,
) -> SubmitResult:
    """Apply a form submission for page ``index``; a submission for any other page is stale.

    A valid submission saves the fields, runs ``before_next_page`` and advances. An invalid
    one leaves everything unchanged and returns the form with its errors. ``forced`` (the
    admin's "advance", oTree's "Advance slowest participants") submits the page as a timeout
    would, whether or not the page has a deadline or it has passed. ``arriving``: the
    participant's browser sent it, so it will show the wait page they move onto
    (``arrive_at_wait_page``); False for the timeout sweep, the admin's advance and dropouts.
    """
    entry = current_entry(project, participant)
    if entry is None or entry.index != index or entry.is_wait_page:
        return SubmitResult(accepted=False, stale=True)
    player = player_for(db, project, participant, entry)
    deadline = participant.page_deadline
    expired = deadline is not None and time.time() >= deadline - TIMEOUT_GRACE_SECONDS
    timeout_happened = (
        forced
        or bool(timeout_happened and expired)
        or (deadline is not None and time.time() >= deadline + TIMEOUT_GRACE_SECONDS)
    )
    form = page_form(project, entry, player)
    target = form_object(player, entry.page_cls)
    app = project.apps[entry.app_name]
    if timeout_happened:
        values = auto_submitted_values(app, entry.page_cls, player, form, submitted)
    else:
        validated = validate_submission(app, entry.page_cls, player, form, submitted)
        if validated is None:
            return SubmitResult(accepted=False, form=form)
        values = validated
    for name, value in values.items():
        setattr(target, name, value)
    entry.page_cls.before_next_page(player, timeout_happened)
    record_completion(db, participant, entry, timeout_happened=timeout_happened)
    _move_to(db, project, participant, _next_index_after(db, project, participant, entry, player))
    settle_on_wait_pages(db, project, participant, arriving=arriving)
    return SubmitResult(accepted=True)


def pass_wait_page(db: Session, project: Project, participant: Participant) -> None:
    """Move a participant past their current wait page without waiting for the others (the
    admin's "advance"). Their arrival stays recorded, so the others pass it when they arrive
    and ``after_all_players_arrive`` runs then, once; it has not run when this participant
    reaches the next page. Then they arrive at the wait page(s) they move onto."""
    entry = current_entry(project, participant)
    if entry is None or not entry.is_wait_page:
        return
    player = player_for(db, project, participant, entry)
    record_completion(db, participant, entry, timeout_happened=True)
    _release_waiting_page(project, participant)
    _move_to(db, project, participant, _next_index_after(db, project, participant, entry, player))
    settle_on_wait_pages(db, project, participant, arriving=False)


def _release_waiting_page(project: Project, participant: Participant) -> None:
    """Before the admin moves a participant: if they are on a wait page, its open page is
    told (after the commit) that they may leave it."""
    entry = current_entry(project, participant)
    db = object_session(participant)
    if entry is not None and entry.is_wait_page and db is not None:
        publish_check(db, [participant.code], entry.index)


def settle_on_wait_pages(
    db: Session, project: Project, participant: Participant, *, arriving: bool = True
) -> None:
    """Register arrival at the wait page(s) the participant has just moved onto.

    Arrival counts from the moment a page is submitted, not from when the browser follows
    the redirect, so a closed browser cannot hold up the rest of the group. ``arriving``:
    the participant's own request moved them (see ``arrive_at_wait_page``); False when
    someone else's did (a timeout, the admin, a group member completing a wait page), so
    ``group_by_arrival_time`` waits for their browser to show the page.
    """
    while True:
        entry = current_entry(project, participant)
        if entry is None or not entry.is_wait_page:
            return
        if not arrive_at_wait_page(db, project, participant, arriving=arriving):
            return


def wait_scope_key(entry: PageEntry, player: Any) -> str:
    """The key of the wait page's completion claim (``WaitPageCompletion.scope``): the
    player's subsession for a wait page with ``wait_for_all_groups``, else their group. Reads
    nothing."""
    if getattr(entry.page_cls, "wait_for_all_groups", False):
        return f"subsession:{player.subsession_id}"
    return f"group:{player.group_id}"


def scope_row(project: Project, entry: PageEntry, player: Any) -> tuple[Any, int]:
    """(model, id) of the row a page's arrivals are counted under: the subsession for a wait
    page with ``wait_for_all_groups`` or ``group_by_arrival_time``, else the player's group
    (LOCK ORDER step 2 in server/db.py)."""
    model, column = scope_of_page(project.apps[entry.app_name], entry.page_cls)
    return model, getattr(player, column)


def scope_of_page(app: AppSpec, page_cls: type[Any]) -> tuple[Any, str]:
    """(model, the player's column holding its id) of the rows ``scope_row`` picks for a page
    of ``app``: the subsession (``subsession_id``) or the group (``group_id``)."""
    if getattr(page_cls, "wait_for_all_groups", False) or getattr(
        page_cls, "group_by_arrival_time", False
    ):
        return app.subsession_cls, "subsession_id"
    return app.group_cls, "group_id"


def _lock_scope(db: Session, entry: PageEntry, player: Any, project: Project) -> None:
    """Row-lock the group (or subsession) so arrivals of one scope are counted one at a time.

    On PostgreSQL two last arrivals would otherwise both count "not everyone yet" under READ
    COMMITTED; with the lock the second re-reads after the first commits. On SQLite the
    transaction already holds the database write lock (BEGIN IMMEDIATE).
    """
    model, row_id = scope_row(project, entry, player)
    lock_ids_in_order(db, model, [row_id])


def wait_page_is_complete(
    db: Session, participant: Participant, entry: PageEntry, scope: str
) -> bool:
    """Has the wait page been completed for this scope?"""
    found = db.scalar(
        _completion_query(),
        {"session_id": participant.session_id, "page_index": entry.index, "scope": scope},
    )
    return found is not None


@functools.cache
def _completion_query() -> sa.Select[Any]:
    """The completion row of (``:session_id``, ``:page_index``, ``:scope``), built once."""
    return sa.select(WaitPageCompletion.id).where(
        WaitPageCompletion.session_id == sa.bindparam("session_id"),
        WaitPageCompletion.page_index == sa.bindparam("page_index"),
        WaitPageCompletion.scope == sa.bindparam("scope"),
    )


@functools.lru_cache(maxsize=256)
def _scope_arrivals_query(player_cls: Any, by_subsession: bool) -> sa.Select[Any, int, int]:
    """(completion, players, arrivals) of the scope ``:scope_id`` (a subsession's or a
    group's id) at wait page ``:page_index``: the id of its completion row for ``:scope`` in
    session ``:session_id`` (None until completed, ``_completion_query``), and the counts; one
    statement, no player loaded (a participant arrives once at a page: the arrival table's
    unique constraint)."""
    column = player_cls.subsession_id if by_subsession else player_cls.group_id
    arrived = sa.and_(
        WaitPageArrival.participant_id == player_cls.participant_id,
        WaitPageArrival.page_index == sa.bindparam("page_index"),
    )
    return (
        sa.select(
            _completion_query().scalar_subquery(),
            sa.func.count(player_cls.id),
            sa.func.count(WaitPageArrival.id),
        )
        .select_from(player_cls)
        .outerjoin(WaitPageArrival, arrived)
        .where(column == sa.bindparam("scope_id"))
    )


_COMPLETION_INSERT = sa.insert(cast(sa.Table, WaitPageCompletion.__table__))
_PARTICIPANT_TABLE = cast(sa.Table, Participant.__table__)


def _claim_completion(db: Session, session_id: int, entry: PageEntry, scope: str) -> None:
    """Claim wait page ``entry``'s completion for ``scope`` (``wait_scope_key``): one Core
    INSERT, sent at once, so the claim is in the database before ``after_all_players_arrive``
    runs, without an ORM object to track and a flush of its own. A second claim of the same
    scope fails on the table's unique constraint (IntegrityError), as the ORM's flush did."""
    db.connection().execute(
        _COMPLETION_INSERT,
        {
            "session_id": session_id,
            "page_index": entry.index,
            "scope": scope,
            "completed_at": utcnow(),
        },
    )


_ARRIVAL_INSERTS: dict[str, Any] = {}


def _arrival_insert(db: Session) -> Any:
    """INSERT of an arrival that does nothing when the participant has arrived already (the
    arrival table's unique constraint), built once per database dialect."""
    dialect = db.get_bind().dialect.name
    statement = _ARRIVAL_INSERTS.get(dialect)
    if statement is None:
        statement = _ARRIVAL_INSERTS[dialect] = dialect_insert(
            db, WaitPageArrival.__table__
        ).on_conflict_do_nothing(index_elements=["participant_id", "page_index"])
    return statement


def _record_arrival(db: Session, participant: Participant, entry: PageEntry) -> None:
    """Store the participant's arrival at wait page ``entry`` (once): one Core INSERT."""
    db.connection().execute(
        _arrival_insert(db),
        {
            "session_id": participant.session_id,
            "participant_id": participant.id,
            "page_index": entry.index,
            "arrived_at": utcnow(),
        },
    )


def arrive_at_wait_page(
    db: Session, project: Project, participant: Participant, *, arriving: bool = True
) -> bool:
    """Record the participant's arrival at their current wait page; True if they passed it.

    The last arrival of the scope claims the completion row, runs
    ``after_all_players_arrive`` once, moves the other members on to their next pages and
    tells their waiting pages so (``_move_on_the_waiting``), in this same transaction.
    ``arriving``: a request of the participant's (or one made for them) is there now, so
    ``group_by_arrival_time`` counts them present whatever their ``last_seen``; False for the
    background sweep that re-runs the grouping for someone already waiting.
    """
    entry = current_entry(project, participant)
    if entry is None or not entry.is_wait_page:
        return True
    player = player_for(db, project, participant, entry)
    if not entry.page_cls.is_displayed(player):
        # Counted as arrived, so a member who waits there is not held up (oTree's rule).
        _arrive_while_skipping(db, project, participant, entry)
        _move_to(
            db, project, participant, _next_index_after(db, project, participant, entry, player)
        )
        return True
    _lock_scope(db, entry, player, project)
    by_arrival = getattr(entry.page_cls, "group_by_arrival_time", False)
    _record_arrival(db, participant, entry)
    if by_arrival and not _is_grouped(db, participant, entry):
        from server.arrival_grouping import group_arrivals

        formed = group_arrivals(db, project, entry, player, arriving=arriving)
        if formed is not None:
            _complete_formed_group(db, project, participant, entry, formed)
        player = player_for(db, project, participant, entry)
        if not _is_grouped(db, participant, entry):
            return False
    if not _complete_if_everyone_arrived(db, project, participant, entry, player):
        return False
    record_completion(db, participant, entry)
    _move_to(db, project, participant, _next_index_after(db, project, participant, entry, player))
    return True


def _complete_if_everyone_arrived(
    db: Session,
    project: Project,
    participant: Participant,
    entry: PageEntry,
    player: Any,
    someone_waiting: bool = False,
) -> bool:
    """True if wait page ``entry`` is complete for ``player``'s scope: already, or now that
    every member has arrived (then the completion row is claimed, ``after_all_players_arrive``
    runs, once, and the members waiting there are moved on: ``_move_on_the_waiting``). With
    ``someone_waiting``, it is completed only if a member is on the page (oTree runs the hook
    for someone waiting)."""
    scope = wait_scope_key(entry, player)
    by_subsession = bool(getattr(entry.page_cls, "wait_for_all_groups", False))
    scope_id = player.subsession_id if by_subsession else player.group_id
    player_cls: Any = type(player)
    done, members, arrived = db.execute(
        _scope_arrivals_query(player_cls, by_subsession),
        {
            "scope_id": scope_id,
            "page_index": entry.index,
            "session_id": participant.session_id,
            "scope": scope,
        },
    ).one()
    if done is not None:
        return True
    if arrived < members:
        return False
    column = player_cls.subsession_id if by_subsession else player_cls.group_id
    if someone_waiting and not _someone_else_is_on(
        db, player_cls, column == scope_id, entry, participant
    ):
        return False
    _claim_completion(db, participant.session_id, entry, scope)
    # The members are locked and read before the hook runs, while its changes are not
    # pending yet: their query's flush then holds only what came before (the last arrival's
    # move onto the page), and the hook's changes go out with the members' moves.
    members = _locked_members(
        db,
        _locked_scope_members_query(player_cls, by_subsession),
        {"scope_id": scope_id, "last_id": participant.id},
    )
    _run_after_all_players_arrive(project, entry, player)
    _move_on_the_waiting(db, project, entry, members, participant, last_passes_by=someone_waiting)
    return True


@functools.lru_cache(maxsize=256)
def _locked_scope_members_query(player_cls: Any, by_subsession: bool) -> sa.Select[Any]:
    """The participants of the scope ``:scope_id`` (a subsession's or a group's id) but
    ``:last_id``, in ascending id, locked and read afresh (``_locked_members_query``); built
    once per Player class (building it and its cache key took about 0.1 ms a completion)."""
    column = player_cls.subsession_id if by_subsession else player_cls.group_id
    return _locked_members_query(
        sa.select(player_cls.participant_id).where(column == sa.bindparam("scope_id"))
    )


def _locked_members_query(members: Any) -> sa.Select[Any]:
    """The participants whose ids ``members`` holds (a list or a SELECT of them) but
    ``:last_id``, in ascending id (LOCK ORDER 3), locked and read afresh."""
    return (
        sa.select(Participant)
        .where(Participant.id.in_(members), Participant.id != sa.bindparam("last_id"))
        .order_by(Participant.id)
        .with_for_update(of=Participant)
        .execution_options(populate_existing=True)
    )


def _locked_members(db: Session, query: sa.Select[Any], params: dict[str, Any]) -> list[Any]:
    """Run a ``_locked_members_query``: the members, noted as held by this unit of work
    (``note_rows_held``: their rows are written without a check of their lock)."""
    members = list(db.scalars(query, params))
    if members:
        note_rows_held(db, _PARTICIPANT_TABLE, [member.id for member in members])
    return members


def _someone_else_is_on(
    db: Session, player_cls: Any, in_scope: Any, entry: PageEntry, skipper: Participant
) -> bool:
    """Is a member of the scope (the players ``in_scope`` selects: a subsession's or a
    group's) other than ``skipper`` on wait page ``entry``? The skipper's own position may be
    that page while they pass it (``is_displayed`` False); oTree does not count them as
    waiting there either (their ``is_on_wait_page`` is False)."""
    found = db.scalar(
        sa.select(Participant.id)
        .join(player_cls, player_cls.participant_id == Participant.id)
        .where(
            in_scope,
            Participant.index_in_pages == entry.index,
            Participant.id != skipper.id,
        )
        .limit(1)
    )
    return found is not None


def _complete_formed_group(
    db: Session, project: Project, participant: Participant, entry: PageEntry, group_id: int
) -> None:
    """A group just formed by arrival has all its members there: complete the wait page for
    it now (``after_all_players_arrive`` once), whether or not this participant is in it."""
    app = project.apps[entry.app_name]
    group = db.get_one(app.group_cls, group_id)
    _claim_completion(db, participant.session_id, entry, f"group:{group_id}")
    players = group.get_players()
    _run_after_all_players_arrive(project, entry, players[0])
    members = _locked_members(
        db, _locked_members_query([p.participant_id for p in players]), {"last_id": participant.id}
    )
    _move_on_the_waiting(db, project, entry, members, participant)


def _move_on_the_waiting(
    db: Session,
    project: Project,
    entry: PageEntry,
    found: list[Participant],
    last: Participant,
    last_passes_by: bool = False,
) -> None:
    """Move the members (``found``: the scope's participants but ``last``, locked by the
    caller with ``_locked_members_query``) still on wait page ``entry``, which ``last`` (who
    moves on by themselves) just completed for them, to their next page, and tell their
    waiting pages where that is (``publish_released``).

    As a member's own request would: the wait page's completion in their page times, their
    next displayed page (its countdown starts: an absent member still times out, as oTree's
    prodserver makes sure ten seconds later by loading their page), arrival at the wait
    page(s) they move onto. In one unit of work with the completion, so the members' status
    requests answer without a write of their own. A member whose next page's code fails
    (``is_displayed`` raising) stays on the wait page, with everything of their move undone
    (a savepoint); their own next request moves them and shows the error, as in oTree.
    When the move calls no app code (``_move_calls_app_code``), nothing but the database can
    fail on the way, and the moves need no savepoint (whose start and release would each
    flush the unit of work). The caller locked the members' participant rows in ascending id
    (LOCK ORDER 3): a few statements whatever the group's size when their next page is in
    the same round.

    The members not on the page (they skipped it; ``last`` too when ``last_passes_by``) get
    its completion in their page times now, as every member does in oTree.
    """
    waiting = [member for member in found if member.index_in_pages == entry.index]
    passing = [member for member in found if member.index_in_pages != entry.index]
    record_passing_completions(db, [*passing, *([last] if last_passes_by else [])], entry)
    if not waiting:
        publish_released(db, [], [last.code], entry.index)
        return
    _load_players(db, project, entry, waiting)
    following = _page_after(project, waiting[0], entry)
    if following is not None and (following.app_name, following.round_number) != (
        entry.app_name,
        entry.round_number,
    ):
        # The round's last page: their next page is most likely the next round's first.
        _load_players(db, project, following, waiting)
    if not _move_calls_app_code(entry, following):
        for member in waiting:
            _move_past(db, project, member, entry)
        record_wait_page_completions(db, waiting, entry)
        moved = waiting
    elif _moved_in_savepoint(db, project, waiting, entry):
        moved = waiting
    else:  # one at a time: only the members whose next page's code fails stay
        moved = [m for m in waiting if _moved_in_savepoint(db, project, [m], entry)]
    moved_ids = {m.id for m in moved}
    publish_released(
        db,
        [(m.code, current_url(project, m)) for m in moved],
        [last.code, *(m.code for m in waiting if m.id not in moved_ids)],
        entry.index,
    )


def _move_calls_app_code(entry: PageEntry, following: PageEntry | None) -> bool:
    """Whether moving a member past wait page ``entry`` onto ``following`` (the page after
    it; None after the last page) may call the app's code: the wait page's
    ``app_after_this_page``, the next page's ``is_displayed`` or ``get_timeout_seconds``
    (``_move_to``), or, when the next page is a wait page, everything an arrival there runs.
    A page class not derived from Grove's ``Page`` counts as calling it."""
    if callable(getattr(entry.page_cls, "app_after_this_page", None)):
        return True
    if following is None:
        return False
    page_cls = following.page_cls
    return (
        following.is_wait_page
        or getattr(page_cls, "is_displayed", None) is not Page.is_displayed
        or callable(getattr(page_cls, "get_timeout_seconds", None))
    )


def _moved_in_savepoint(
    db: Session, project: Project, members: list[Participant], entry: PageEntry
) -> bool:
    """Move ``members`` past wait page ``entry`` in one savepoint (``_move_on_the_waiting``):
    True, or False with all of it undone when app code raised on the way. A database error
    is raised, not swallowed: the whole unit of work is retried or fails, and no member is
    left behind for a reason that has nothing to do with their pages. So is a
    RunAgainWithLocks (a row written unlocked was held or changed), and anything raised once
    the attempt is to be run again (``db.run_again_noted``: app code may have caught that
    and raised its own), as a RunAgainWithLocks: the attempt ends there and lets go of the
    group and its members' rows at once, instead of moving the members one at a time for
    nothing (its writes are rolled back) while other requests of the group queue behind it."""
    try:
        with db.begin_nested():
            for member in members:
                _move_past(db, project, member, entry)
            record_wait_page_completions(db, members, entry)
    except (sa.exc.DBAPIError, RunAgainWithLocks):
        raise
    except Exception as error:
        reason = run_again_noted(db)
        if reason is not None:
            raise RunAgainWithLocks(reason) from error
        return False
    return True


def _page_after(project: Project, participant: Participant, entry: PageEntry) -> PageEntry | None:
    """The page after ``entry`` in the participant's page sequence, or None after the last."""
    pages = page_sequence_of(project, participant)
    return pages[entry.index] if entry.index < len(pages) else None


def _load_players(
    db: Session, project: Project, entry: PageEntry, participants: list[Participant]
) -> None:
    """Load the players of ``participants`` in the entry's app and round that this unit of
    work has not loaded yet (server.player_cache) in one query, for ``player_for``."""
    player_cls = project.apps[entry.app_name].player_cls
    missing = [
        p.id
        for p in participants
        if player_cache.cached_player(db, player_cls, p.id, entry.round_number) is None
    ]
    if missing:
        player_cache.remember(
            db,
            db.scalars(
                sa.select(player_cls).where(
                    player_cls.participant_id.in_(missing),
                    player_cls.round_number == entry.round_number,
                )
            ),
        )


def _move_past(db: Session, project: Project, member: Participant, entry: PageEntry) -> None:
    """Move ``member`` past wait page ``entry``, completed for them (_move_on_the_waiting);
    the caller records the completion."""
    player = player_for(db, project, member, entry)
    _move_to(db, project, member, _next_index_after(db, project, member, entry, player))
    settle_on_wait_pages(db, project, member, arriving=False)


def _is_grouped(db: Session, participant: Participant, entry: PageEntry) -> bool:
    return (
        db.scalar(
            sa.select(WaitPageCompletion.id).where(
                WaitPageCompletion.session_id == participant.session_id,
                WaitPageCompletion.page_index == entry.index,
                WaitPageCompletion.scope == f"arrival-grouped:{participant.id}",
            )
        )
        is not None
    )


def _run_after_all_players_arrive(project: Project, entry: PageEntry, player: Any) -> None:
    hook = getattr(entry.page_cls, "after_all_players_arrive", None)
    if hook is None:
        return
    if isinstance(hook, str):
        func = project.apps[entry.app_name].hook(hook)
        if func is None:
            raise ValueError(
                f"{entry.page_name}.after_all_players_arrive names {hook!r}, which is not a "
                f"function in {project.apps[entry.app_name].location}/__init__.py"
            )
        hook = func
    target = (
        player.subsession if getattr(entry.page_cls, "wait_for_all_groups", False) else player.group
    )
    hook(target)
