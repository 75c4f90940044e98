"""Grove's fixed tables: sessions, participants, and wait-page bookkeeping."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, ClassVar, overload

import sqlalchemy as sa
from sqlalchemy.orm import (
    Mapped,
    Session,
    mapped_column,
    object_session,
    relationship,
    validates,
)

from server.currency import Currency, RealWorldCurrency
from server.models.base import Base, TracksJsonVars
from server.session_config_values import stored_number
from server.typed_json import TypedJSON, plain


def utcnow() -> dt.datetime:
    """The current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@overload
def stored_utc(moment: dt.datetime) -> dt.datetime: ...
@overload
def stored_utc(moment: None) -> None: ...
@overload
def stored_utc(moment: dt.datetime | None) -> dt.datetime | None: ...
def stored_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A time read back from the database, timezone-aware: SQLite hands back naive UTC
    times, PostgreSQL aware ones. None stays None."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _attached(row: Any) -> Session:
    """The database session a row was loaded in; RuntimeError for a detached row."""
    db = object_session(row)
    if db is None:
        raise RuntimeError(f"{type(row).__name__} is not attached to a database session")
    return db


class _ExtraFieldsMixin:
    """PARTICIPANT_FIELDS / SESSION_FIELDS as in oTree: ``participant.xyz`` is
    ``participant.vars["xyz"]`` (stored, read on later requests, exported).

    As in oTree, reading a declared field that was never set raises KeyError, and setting an
    attribute that is neither a column nor a declared field raises AttributeError naming the
    setting, instead of a value that silently vanishes at the end of the request.
    """

    _fields_setting: ClassVar[str] = ""
    _object_name: ClassVar[str] = ""

    def _declared_fields(self) -> tuple[str, ...]:
        db = object_session(self)
        project = db.info.get("project") if db is not None else None
        if project is None:
            return ()
        return tuple(getattr(project.settings, self._fields_setting, ()))

    def _declared_value(self, name: str) -> Any:
        """The declared field ``name``'s value in vars; KeyError while it is unset."""
        values = object.__getattribute__(self, "vars") or {}
        if name not in values:
            raise KeyError(f"{self._object_name}.{name} has not been set yet")
        return values[name]

    def _set_declared_value(self, name: str, value: Any) -> None:
        """Store the declared field ``name`` in vars (a new dict, so the change is saved)."""
        values = object.__getattribute__(self, "vars") or {}
        super().__setattr__("vars", {**values, name: value})

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and name in self._declared_fields():
            return self._declared_value(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or hasattr(type(self), name):
            super().__setattr__(name, value)
            return
        if name in self._declared_fields():
            self._set_declared_value(name, value)
            return
        if object_session(self) is not None:
            setting = self._fields_setting.upper()
            raise AttributeError(
                f"{self._object_name} has no field {name!r}: add it to {setting} in "
                f"settings.py, or use {self._object_name}.vars[{name!r}]"
            )
        super().__setattr__(name, value)


# Participant fields oTree's documentation asks a project to declare whose meaning Grove's
# participant already has: ``finished`` (admin.rst, "Payments": set it when a participant
# finishes, and the admin pages show it). Declaring it is allowed; ``participant.finished``
# is then Grove's own flag, which Grove also sets when the participant passes the last page.
# Likewise ``is_dropout`` (multiplayer_waitpages.rst, "Replacing dropped out player with a
# bot"): declared or not, it is Grove's column, which the admin's "dropout" also sets.
BUILTIN_FLAG_FIELDS = frozenset({"finished", "is_dropout"})
# And ``status``, oTree 6's own participant field (oTree 6 refuses the name in
# PARTICIPANT_FIELDS): a project written for oTree 5 that declares it keeps its own field, as
# on oTree 5 and on Grove before oTree 6's status came: ``participant.vars["status"]``, any
# value, exported as the other declared fields (``Participant.status``).
DECLARABLE_BUILTIN_FIELDS = BUILTIN_FLAG_FIELDS | {"status"}

# oTree 6's participant.status column holds up to 50 characters.
STATUS_MAX_LENGTH = 50


def declared_field_value(participant: Participant, name: str) -> Any:
    """The value of a PARTICIPANT_FIELDS name for exports (None while unset)."""
    if name in BUILTIN_FLAG_FIELDS:
        return getattr(participant, name)
    return (participant.vars or {}).get(name)


def shown_status(participant: Participant) -> str:
    """``participant.status`` as the REST API and the Monitor show it: always text, as oTree
    6.0.15's column holds only text (it refuses anything else with a TypeError). A status
    the project declares in PARTICIPANT_FIELDS (oTree 5's way, any value in vars) is shown as
    its text, ``""`` while unset or None, and any other value as JSON (``7``, ``{"a": 1}``),
    as the exports write a list or dict."""
    if "status" not in participant._declared_fields():
        return participant.stored_status
    value = (participant.vars or {}).get("status")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(plain(value), ensure_ascii=False)


def check_declared_fields(participant_fields: Any, session_fields: Any) -> None:
    """PARTICIPANT_FIELDS / SESSION_FIELDS may not reuse a name Grove's objects already have
    (oTree refuses these at start too), except DECLARABLE_BUILTIN_FIELDS. Raises ValueError
    naming the setting and the name."""
    for setting, model, names in (
        ("PARTICIPANT_FIELDS", Participant, participant_fields),
        ("SESSION_FIELDS", ExperimentSession, session_fields),
    ):
        for name in names:
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"{setting}: {name!r} is not a valid field name")
            if model is Participant and name in DECLARABLE_BUILTIN_FIELDS:
                continue
            if hasattr(model, name):
                raise ValueError(f"{setting} cannot contain {name!r}: that name is reserved")


class ExperimentSession(_ExtraFieldsMixin, TracksJsonVars, Base):
    """One run of a session config: what oTree calls ``session``."""

    __tablename__ = "grove_session"
    _fields_setting = "session_fields"
    _object_name = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    join_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    config_name: Mapped[str] = mapped_column(sa.String(255))
    config: Mapped[dict[str, Any]] = mapped_column(TypedJSON("session.config"))
    label: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    room_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    num_participants: Mapped[int] = mapped_column(sa.Integer)
    vars: Mapped[dict[str, Any]] = mapped_column(TypedJSON("session.vars"), default=dict)
    is_demo: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # The admin's notes on the session, and whether the sessions list hides it (oTree's).
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    archived: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    # The change stamp of what the session row shows in every participant's export row
    # (``server/change_sequence.py``): stamped in the row's own UPDATE, so a change to the
    # session (session.vars) writes one row, not every participant's.
    changed_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    changed_at: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
    # SQLAlchemy's version counter (``version_id_col``): an UPDATE of the row names the
    # version it read, so a unit of work that read the row before another one's change was
    # committed stores nothing and is run again (``server/unlocked_writes.py``).
    row_version: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": row_version}

    # Read-only both ways (viewonly): participants are written with their session_id (Core
    # INSERTs at the session's creation), never through these relationships, so no flush
    # needs SQLAlchemy's bookkeeping for them. A page submission's flush without it runs
    # about 230 fewer Python calls (the relationship's dependency processors, their sorts).
    participants: Mapped[list[Participant]] = relationship(
        back_populates="session", order_by="Participant.id_in_session", viewonly=True
    )

    def get_participants(self) -> list[Participant]:
        """Every participant of the session, by id_in_session."""
        return list(self.participants)

    @property
    def participation_fee(self) -> RealWorldCurrency:
        """The config's fee as money; ConfigurationError if it holds no number."""
        return RealWorldCurrency(stored_number(self.config, "participation_fee"))

    @property
    def real_world_currency_per_point(self) -> float:
        """The config's rate; ConfigurationError if it holds no number."""
        return float(stored_number(self.config, "real_world_currency_per_point"))

    def get_subsessions(self) -> list[Any]:
        """The subsessions of every app and round, in play order."""
        db = _attached(self)
        project = db.info["project"]
        result: list[Any] = []
        for app_name in self.config["app_sequence"]:
            app = project.apps[app_name]
            result.extend(
                db.scalars(
                    sa.select(app.subsession_cls)
                    .where(app.subsession_cls.session_id == self.id)
                    .order_by(app.subsession_cls.round_number)
                )
            )
        return result


class Participant(_ExtraFieldsMixin, TracksJsonVars, Base):
    """One person's seat in a session: what oTree calls ``participant``."""

    __tablename__ = "grove_participant"
    _fields_setting = "participant_fields"
    _object_name = "participant"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "id_in_session"),
        sa.UniqueConstraint("session_id", "label"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_session.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    id_in_session: Mapped[int] = mapped_column(sa.Integer)
    # Indexed alone as well as with the session: a trial's urn finds a labelled participant
    # across every session of its study (server/randomization/session_urn.py).
    label: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    vars: Mapped[dict[str, Any]] = mapped_column(TypedJSON("participant.vars"), default=dict)
    stored_payoff: Mapped[float] = mapped_column("payoff", sa.Float, default=0.0)
    index_in_pages: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_page_index: Mapped[int] = mapped_column(sa.Integer, default=0)
    current_app: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    current_page_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    current_round: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    page_deadline: Mapped[float | None] = mapped_column(sa.Float, nullable=True, index=True)
    visited: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    finished: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # oTree's ``participant._is_bot``: created for a bot run (``python -m server test``).
    _is_bot: Mapped[bool] = mapped_column(
        "is_bot", sa.Boolean, default=False, server_default=sa.false()
    )
    # Dropped out (oTree's documented ``participant.is_dropout`` recipe, set by an admin or by
    # app code): the timeout sweep submits their pages at once (server/dropouts.py).
    is_dropout: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false(), index=True
    )
    # oTree 6's ``participant.status`` (the ``status`` property): any text the app sets, such
    # as "finished" or "dropout"; "" while the participant is in progress. The REST API and
    # the Monitor show it (``shown_status``).
    stored_status: Mapped[str] = mapped_column(
        "status", sa.String(STATUS_MAX_LENGTH), default="", server_default=""
    )
    browser_token: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    time_started: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True
    )
    last_seen: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    # When this participant's exported data last changed (server/change_sequence.py).
    changed_seq: Mapped[int] = mapped_column(
        sa.BigInteger, default=0, server_default="0", index=True
    )
    changed_at: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime(timezone=True), nullable=True, index=True
    )

    session: Mapped[ExperimentSession] = relationship(back_populates="participants", viewonly=True)

    @validates("stored_status")
    def _check_status(self, _key: str, value: Any) -> str:
        """A status is text of at most 50 characters (oTree 6's column); TypeError or
        ValueError naming ``participant.status`` otherwise, where the app sets it."""
        if not isinstance(value, str):
            raise TypeError(f"participant.status must be text, not {type(value).__name__}")
        if len(value) > STATUS_MAX_LENGTH:
            raise ValueError(
                f"participant.status is at most {STATUS_MAX_LENGTH} characters, not {len(value)}"
            )
        return value

    @property
    def status(self) -> Any:
        """oTree 6's ``participant.status``: the text the app set, ``""`` until then. In a
        project that declares ``status`` in PARTICIPANT_FIELDS (oTree 5's way) it is that
        field, ``participant.vars["status"]``: any value, KeyError while unset, as every
        declared field."""
        if "status" in self._declared_fields():
            return self._declared_value("status")
        return self.stored_status

    @status.setter
    def status(self, value: Any) -> None:
        if "status" in self._declared_fields():
            self._set_declared_value("status", value)
        else:
            self.stored_status = value

    @property
    def payoff(self) -> Currency:
        """The sum of this participant's player payoffs across apps and rounds."""
        return Currency(self.stored_payoff or 0)

    @payoff.setter
    def payoff(self, value: float) -> None:
        self.stored_payoff = float(value)

    def payoff_in_real_world_currency(self) -> RealWorldCurrency:
        """The payoff converted to money with the session's rate."""
        return RealWorldCurrency(
            Currency(self.stored_payoff or 0).to_real_world_currency(self.session)
        )

    def payoff_plus_participation_fee(self) -> RealWorldCurrency:
        """What the participant is paid: payoff in money plus the participation fee."""
        return RealWorldCurrency(
            float(self.payoff_in_real_world_currency()) + float(self.session.participation_fee)
        )

    def randomize(self, **levels: Any) -> str:
        """Assign a treatment with the session's urn (once); return it.

        Factor levels come from keyword arguments, else from ``participant.vars``.
        """
        db = _attached(self)
        randomize_participant = db.info.get("randomize_participant")
        if randomize_participant is None:
            raise RuntimeError(
                "participant.randomize() needs a database made with server.sessions.database_info"
            )
        return str(randomize_participant(db, self, levels).treatment)

    @property
    def _index_in_pages(self) -> int:
        return self.index_in_pages

    @property
    def id_in_session_label(self) -> str:
        return self.label or f"P{self.id_in_session}"


class WaitPageArrival(Base):
    """A participant has reached the wait page at ``page_index``."""

    __tablename__ = "grove_wait_arrival"
    __table_args__ = (sa.UniqueConstraint("participant_id", "page_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_session.id"), index=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_participant.id"))
    page_index: Mapped[int] = mapped_column(sa.Integer)
    arrived_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class WaitPageCompletion(Base):
    """The claim that a wait page is complete for one group (or for the whole subsession).

    The unique constraint is what makes ``after_all_players_arrive`` run exactly once: only the
    transaction that inserts this row runs it.
    """

    __tablename__ = "grove_wait_done"
    __table_args__ = (sa.UniqueConstraint("session_id", "page_index", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("grove_session.id"), index=True)
    page_index: Mapped[int] = mapped_column(sa.Integer)
    scope: Mapped[str] = mapped_column(sa.String(64))
    completed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
