"""Domain errors. Routes map each class to an HTTP status in one table; nothing below the
routes knows about HTTP."""


class GroveError(Exception):
    """Base class of every error the domain raises on purpose."""


class ConfigurationError(GroveError):
    """A project file (settings.py, session_configs.py, an app) is wrong; raised at start."""


class InvalidArguments(GroveError):
    """A caller passed arguments that do not make sense (bad number, unknown key...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(GroveError):
    """Base class of the 'no such thing' errors."""


class SessionNotFound(NotFound):
    """No session has the given code."""


class ParticipantNotFound(NotFound):
    """No participant has the given code or label."""


class RoomNotFound(NotFound):
    """No room has the given name."""


class SessionConfigNotFound(NotFound):
    """No session config has the given name."""


class Conflict(GroveError):
    """The request clashes with the current state of what it names (HTTP 409): the thing
    exists already, is defined in a settings file and so read-only, or is in use."""


class ForeignCursor(Conflict):
    """An export's ``since`` is a cursor this database did not hand out (another database's,
    or one ahead of this database's changes): answered as this database's, changes would be
    missed, so the caller must start over with a full pull (HTTP 409, field ``since``)."""

    field = "since"


class SessionFull(GroveError):
    """Every participant of the session has already been handed out."""


class SchemaMismatch(GroveError):
    """The database's tables do not match the project's models; resetdb is needed."""


class DatabaseUnavailable(GroveError):
    """The database cannot take this unit of work (its SQLite file was deleted, replaced or
    cannot be written, the disk is full, PostgreSQL is down): nothing was stored."""


class DatabaseBusy(DatabaseUnavailable):
    """Another writer held the database's write lock (or the row) longer than the lock
    timeout: nothing was stored; trying again after ``retry_after_seconds`` may succeed."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class RateLimited(GroveError):
    """A key made more API requests this minute than the rate limit allows (HTTP 429):
    nothing was done; the next minute starts in ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
