"""An admin's actions on chosen participants of a session: advance, revert, end, dropout,
and commands to their open pages (reload, message, redirect).

Every action takes "unames" as the admin API names them: participant codes or labels of the
session, and answers with one shape (``ActionReport``): the participant codes it was applied
to, and each uname it skipped with the reason (unknown, already finished, nothing to go back
to...). Each participant is one unit of work of its own that locks as a page submission does
(LOCK ORDER in server/db.py: the group or subsession of their current page, then the
participant), so one refused or failing participant leaves the others done. No HTTP here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server import flow
from server.audit_log import record_change
from server.db import Database, lock_ids_in_order
from server.errors import InvalidArguments, ParticipantNotFound
from server.models.core import Participant, WaitPageArrival
from server.page_commands import PageCommand, ReloadCommand, send_page_command
from server.participant_lookup import participant_with_label
from server.participant_pages import lock_participant
from server.participant_vars import (
    check_vars,
    merge_participant_vars,
    normalize_participant_label,
    participant_label_key,
)
from server.project import PageEntry, Project
from server.session_monitor import advance_participant
from server.sessions import get_session
from server.storable_text import unstorable_character

# The most participants one action names (each is a unit of work of its own).
MAX_UNAMES = 500


@dataclass(frozen=True)
class Skipped:
    """A uname an action did not apply to, and why (a sentence for the admin)."""

    uname: str
    reason: str


@dataclass
class ActionReport:
    """What one action did: ``applied`` holds participant codes in the order asked,
    ``skipped`` the unames left alone with their reasons, ``positions`` where each applied
    participant is now (page name, ``""`` before the start, ``"finished"`` after the end)."""

    applied: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)


class Refused(Exception):
    """One participant cannot take the action; the message is the reason reported."""


def resolve_unames(
    database: Database, session_code: str, unames: Sequence[str]
) -> tuple[list[str], list[Skipped]]:
    """The participant codes of session ``session_code`` that ``unames`` name (a code of the
    session, else a label in it), without repeats and in the order given, and the unames that
    name nobody. Raises SessionNotFound, ParticipantNotFound (they all name nobody),
    InvalidArguments (none given, more than MAX_UNAMES, or one that is empty or holds a
    character no database stores)."""
    if not unames:
        raise InvalidArguments("unames must name at least one participant", field="unames")
    if len(unames) > MAX_UNAMES:
        raise InvalidArguments(
            f"unames may name at most {MAX_UNAMES} participants per request", field="unames"
        )
    for uname in unames:
        if not isinstance(uname, str) or not uname:
            raise InvalidArguments("each of unames must be a non-empty string", field="unames")
        problem = unstorable_character(uname)
        if problem is not None:
            raise InvalidArguments(f"unames cannot contain {problem}", field="unames")
    # A label is matched as a room matches it: ' alice ' names 'alice' (participant_label_key).
    label_keys = [participant_label_key(uname) for uname in unames]
    with database.read() as db:
        session = get_session(db, session_code)
        rows = db.execute(
            sa.select(Participant.code, Participant.label).where(
                Participant.session_id == session.id,
                sa.or_(Participant.code.in_(unames), Participant.label.in_(label_keys)),
            )
        ).all()
    by_code = {row.code: row.code for row in rows}
    by_label = {row.label: row.code for row in rows if row.label is not None}
    codes: dict[str, None] = {}
    unknown: list[Skipped] = []
    for uname, label_key in zip(unames, label_keys, strict=True):
        code = by_code.get(uname) or by_label.get(label_key)
        if code is None:
            unknown.append(Skipped(uname, "no participant with this code or label here"))
        else:
            codes[code] = None
    if not codes:
        raise ParticipantNotFound(
            f"none of unames is a participant code or label of session {session_code!r}"
        )
    return list(codes), unknown


def _position(participant: Participant) -> str:
    if participant.finished:
        return "finished"
    if participant.index_in_pages == 0:
        return ""
    return participant.current_page_name or ""


def _apply_each(
    database: Database,
    project: Project,
    session_code: str,
    unames: Sequence[str],
    change: Callable[[Session, Participant], dict[str, Any] | None],
    *,
    who: str,
    action: str,
    reload: bool = False,
) -> ActionReport:
    """Run ``change`` on each named participant in a unit of work of its own, under
    ``lock_participant``, logging ``action`` by ``who`` in it (with the details ``change``
    returns, or the pages from and to); a ``Refused`` is reported as skipped and rolls back
    that one. ``reload``: each applied to also reloads their open page (they moved), in the
    same unit of work."""
    codes, skipped = resolve_unames(database, session_code, unames)
    report = ActionReport(skipped=skipped)
    for code in codes:

        def work(db: Session, code: str = code) -> str:
            participant = lock_participant(db, project, code)
            if participant is None:
                raise ParticipantNotFound(f"no participant with code {code!r}")
            before = _position(participant)
            details = change(db, participant)
            after = _position(participant)
            record_change(
                db,
                who,
                action,
                session=session_code,
                participant=code,
                details=details or {"from": before, "to": after},
            )
            if reload:  # in the move's unit of work: stored together or not at all
                send_page_command(db, [code], ReloadCommand())
            return after

        try:
            report.positions[code] = database.run(work)
        except Refused as exc:
            report.skipped.append(Skipped(code, str(exc)))
        except ParticipantNotFound as exc:  # the session was deleted meanwhile
            report.skipped.append(Skipped(code, str(exc)))
        else:
            report.applied.append(code)
    return report


def advance(
    database: Database, project: Project, session_code: str, unames: Sequence[str], *, who: str
) -> ActionReport:
    """Move each participant on by one page, as ``session_monitor.advance_participant`` does
    (the Monitor's "advance"; oTree's "Advance slowest participants"): a page is submitted as
    its timeout would submit it; on a wait page they arrive, and pass it even if the others
    are not all there (their arrival still counts: the group's ``after_all_players_arrive``
    runs when its last member arrives, once); one not started is started. Their open pages
    reload to show where they are. Skipped: finished participants,
    a wait page grouping by arrival time. Raises SessionNotFound, ParticipantNotFound,
    InvalidArguments."""
    codes, skipped = resolve_unames(database, session_code, unames)
    report = ActionReport(skipped=skipped)
    for code in codes:
        try:
            outcome = advance_participant(database, project, session_code, code, who=who)
        except ParticipantNotFound as exc:
            report.skipped.append(Skipped(code, str(exc)))
            continue
        if outcome.moved:
            report.applied.append(code)
            report.positions[code] = outcome.after
        else:
            report.skipped.append(Skipped(code, outcome.note))
    return report


def _revert_one(db: Session, project: Project, participant: Participant) -> None:
    """One page back within the current app and round; see ``revert``."""
    if participant.finished:
        raise Refused("finished: there is no page to go back from")
    current = flow.current_entry(project, participant)
    if current is None:
        raise Refused("not started: there is no page to go back to")
    pages = flow.page_sequence_of(project, participant)
    left_wait_pages: list[PageEntry] = []
    if current.is_wait_page:
        player = flow.player_for(db, project, participant, current)
        scope = flow.wait_scope_key(current, player)
        if flow.wait_page_is_complete(db, participant, current, scope):
            raise Refused(
                f"the wait page {current.page_name} has let the group through "
                "(after_all_players_arrive has run); going back is not allowed"
            )
        left_wait_pages.append(current)
    for entry in reversed(pages[: current.index - 1]):
        if (entry.app_name, entry.round_number) != (current.app_name, current.round_number):
            break
        player = flow.player_for(db, project, participant, entry)
        if entry.is_wait_page:
            if not entry.page_cls.is_displayed(player):
                continue
            # Its group's (or subsession's) row, as an arrival there locks it: an arrival
            # counting this participant and a revert forgetting them go one after the other.
            # Taken after the participant's (LOCK ORDER 2 after 3), as settle_on_wait_pages
            # does; a deadlock this could meet on PostgreSQL is retried by Database.run.
            model, row_id = flow.scope_row(project, entry, player)
            lock_ids_in_order(db, model, [row_id])
            scope = flow.wait_scope_key(entry, player)
            if flow.wait_page_is_complete(db, participant, entry, scope):
                raise Refused(
                    f"the wait page {entry.page_name} before this page has let the group "
                    "through (after_all_players_arrive has run); going back across it is "
                    "not allowed"
                )
            left_wait_pages.append(entry)
            continue
        if not entry.page_cls.is_displayed(player):
            continue
        # They no longer wait there: the others must not be let through without them.
        db.execute(
            sa.delete(WaitPageArrival).where(
                WaitPageArrival.participant_id == participant.id,
                WaitPageArrival.page_index.in_([w.index for w in left_wait_pages]),
            )
        )
        flow.move_back_to(db, project, participant, entry)
        return
    raise Refused(
        f"{current.page_name} is the first page of {current.app_name} round "
        f"{current.round_number}; reverting stays within one app and round"
    )


def revert(
    database: Database, project: Project, session_code: str, unames: Sequence[str], *, who: str
) -> ActionReport:
    """Move each participant back to the page before their current one (an admin's correction;
    the answers they gave stay stored and fill the form again). Only within the same app and
    round, and never back across a wait page that has let their group through (its
    ``after_all_players_arrive`` has run on the answers as they were); a wait page they were
    waiting at without the group forgets their arrival. The page's countdown starts anew, and
    their open page reloads to show it.
    Skipped, with the reason: finished or not started, the first page of an app's round, a
    completed wait page in the way. Raises SessionNotFound, ParticipantNotFound,
    InvalidArguments."""
    return _apply_each(
        database,
        project,
        session_code,
        unames,
        lambda db, p: _revert_one(db, project, p),
        who=who,
        action="participant.revert",
        reload=True,
    )


def _end_one(db: Session, project: Project, participant: Participant) -> None:
    if participant.finished:
        raise Refused("already finished")
    flow.move_to_end(project, participant)


def end(
    database: Database, project: Project, session_code: str, unames: Sequence[str], *, who: str
) -> ActionReport:
    """Move each participant to the end of the session (``finished``; their link shows the
    end page, as oTree's after the last page; an open page reloads to it): the pages left are
    not submitted and no app code runs. The other members of their groups are not released
    from later wait pages (use ``mark_dropouts`` for that). Skipped: already finished.
    Raises SessionNotFound, ParticipantNotFound, InvalidArguments."""
    return _apply_each(
        database,
        project,
        session_code,
        unames,
        lambda db, p: _end_one(db, project, p),
        who=who,
        action="participant.end",
        reload=True,
    )


def _mark_dropout(db: Session, participant: Participant) -> None:
    if participant.finished:
        raise Refused("already finished")
    if participant.is_dropout:
        raise Refused("already marked as a dropout")
    participant.is_dropout = True


def mark_dropouts(
    database: Database, project: Project, session_code: str, unames: Sequence[str], *, who: str
) -> ActionReport:
    """Mark each participant as dropped out: ``participant.is_dropout`` reads True in app code,
    the Monitor and the data export show it, and the timeout sweep (``server.dropouts``)
    submits each of their remaining pages at once as its timeout would (``timeout_happened``
    True) and counts them as arrived at each wait page, so their group is never held up.
    Skipped: finished, or marked before. Raises SessionNotFound, ParticipantNotFound,
    InvalidArguments."""
    return _apply_each(
        database,
        project,
        session_code,
        unames,
        _mark_dropout,
        who=who,
        action="participant.dropout",
    )


LABEL_FIELD = "label"


def _checked_fields(project: Project, fields: Any) -> tuple[dict[str, Any], str | None, bool]:
    """The participant fields to set (as the vars API checks vars), the label (normalized;
    None clears it) and whether it is set. InvalidArguments naming ``fields`` otherwise."""
    try:
        values = dict(check_vars(fields))
    except InvalidArguments:
        raise InvalidArguments("fields must be an object (dict)", field="fields") from None
    if not values:
        raise InvalidArguments("fields must name at least one field", field="fields")
    declared = project.settings.participant_fields
    unknown = [name for name in values if name != LABEL_FIELD and name not in declared]
    if unknown:
        allowed = ", ".join([*declared, LABEL_FIELD])
        raise InvalidArguments(
            f"{unknown[0]!r} is not a participant field (settings.PARTICIPANT_FIELDS and "
            f"label: {allowed})",
            field="fields",
        )
    has_label = LABEL_FIELD in values
    label = values.pop(LABEL_FIELD, None)
    if label is not None:
        try:
            label = normalize_participant_label(label)
        except InvalidArguments as exc:
            message = str(exc).replace("participant_label", "fields.label")
            raise InvalidArguments(message, field="fields") from None
    return values, label, has_label


def set_fields(
    database: Database,
    project: Project,
    session_code: str,
    unames: Sequence[str],
    fields: Any,
    *,
    reload: bool = False,
    who: str,
) -> ActionReport:
    """Set ``fields`` on each participant named: PARTICIPANT_FIELDS names go into
    ``participant.vars`` as the vars API puts them (``participant_vars.check_vars``,
    ``merge_participant_vars``), ``label`` is the participant's label (normalized as a room's;
    null clears it). Each participant is a unit of work of its own, logged as
    ``participant.fields`` by ``who`` with the names set (values may be personal data) and
    the label. ``reload``: then reload the open
    pages of those updated. Skipped: a label another participant of the session has.
    Raises InvalidArguments (fields not an object or empty, a name not declared, a bad label,
    one label for several participants), SessionNotFound, ParticipantNotFound."""
    values, label, has_label = _checked_fields(project, fields)
    if has_label and label is not None and len(set(unames)) > 1:
        raise InvalidArguments(
            "a label names one participant: give one uname to set it", field="fields"
        )

    def change(db: Session, participant: Participant) -> dict[str, Any]:
        if has_label and label is not None and label != participant.label:
            holder = participant_with_label(db, participant.session_id, label)
            if holder is not None:
                raise Refused(f"participant {holder.code} of this session has the label {label!r}")
        merge_participant_vars(participant, values)
        if has_label and label != participant.label:
            participant.label = label
            try:
                with db.begin_nested():  # PostgreSQL: a concurrent request took it meanwhile
                    db.flush()
            except sa.exc.IntegrityError:
                raise Refused(
                    f"another participant of this session took the label {label!r} meanwhile"
                ) from None
        details: dict[str, Any] = {"fields": sorted(values), "reload": reload}
        if has_label:
            details[LABEL_FIELD] = label
        return details

    return _apply_each(
        database,
        project,
        session_code,
        unames,
        change,
        who=who,
        action="participant.fields",
        reload=reload,
    )


def command_pages(
    database: Database,
    session_code: str,
    unames: Sequence[str],
    command: PageCommand,
    *,
    who: str,
) -> ActionReport:
    """Send ``command`` (``server.page_commands``: reload, message, redirect) to the open page
    of each participant named, in one unit of work: a page open now gets it at once, a
    participant with none gets it on the next page they open within the retention window.
    Finished participants get it too (their end page is open). Skipped: unames that name
    nobody. Each participant's command is logged as ``participant.<command>`` by ``who`` (with
    the message or URL). Raises SessionNotFound, ParticipantNotFound, InvalidArguments
    (InvalidPageCommand: a bad command)."""
    codes, skipped = resolve_unames(database, session_code, unames)

    def work(db: Session) -> None:
        send_page_command(db, codes, command)
        details = {k: v for k, v in command.payload().items() if k != "command"}
        for code in codes:
            record_change(
                db,
                who,
                f"participant.{command.name}",
                session=session_code,
                participant=code,
                details=details,
            )

    if codes:
        database.run(work)
    return ActionReport(applied=codes, skipped=skipped)
