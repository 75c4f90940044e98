"""What a bot file uses: ``Bot``, ``Submission``, ``SubmissionMustFail`` and ``expect``."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class BotError(AssertionError):
    """A bot's expectation failed, or the app did not behave as the bot said it would."""


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


def expect(*args: Any) -> None:
    """``expect(a, b)`` checks a == b; ``expect(a, '<', b)`` (or in, not in, ...) compares."""
    if len(args) == 2:
        actual, op, expected = args[0], "==", args[1]
    elif len(args) == 3:
        actual, op, expected = args
    else:
        raise BotError("expect() takes (actual, expected) or (actual, operator, expected)")
    if op not in _OPERATORS:
        raise BotError(f"expect(): unknown operator {op!r}")
    if not _OPERATORS[op](actual, expected):
        raise BotError(f"expect failed: {actual!r} {op} {expected!r}")


@dataclass
class Submission:
    """A page submission: the page class, its form data and options."""

    page_class: type[Any]
    post_data: dict[str, Any] = field(default_factory=dict)
    # None: the project's BOTS_CHECK_HTML (True unless settings.py sets it), as in oTree.
    check_html: bool | None = None
    timeout_happened: bool = False
    must_fail: bool = False

    def __init__(
        self,
        page_class: type[Any],
        post_data: dict[str, Any] | None = None,
        *,
        check_html: bool | None = None,
        timeout_happened: bool = False,
    ) -> None:
        self.page_class = page_class
        self.post_data = dict(post_data or {})
        self.check_html = check_html
        self.timeout_happened = timeout_happened
        self.must_fail = False


class SubmissionMustFail(Submission):
    """A submission the page must reject (its form is shown again with errors).

    With ``error_fields``, the fields the page shows errors for must be exactly these
    (``"__all__"`` for ``error_message``'s error for the whole form), as in oTree.
    """

    def __init__(
        self,
        page_class: type[Any],
        post_data: dict[str, Any] | None = None,
        *,
        check_html: bool | None = None,
        error_fields: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        super().__init__(page_class, post_data, check_html=check_html)
        self.must_fail = True
        if isinstance(error_fields, str):
            raise BotError(f"error_fields must be a list of field names, not {error_fields!r}")
        self.error_fields = list(error_fields or [])


def as_submission(item: Any) -> Submission:
    """What a bot yielded, as a Submission: ``Page``, ``(Page, data)`` or a Submission."""
    if isinstance(item, Submission):
        return item
    if isinstance(item, tuple) and item and isinstance(item[0], type):
        data = item[1] if len(item) > 1 else {}
        return Submission(item[0], data)
    if isinstance(item, type):
        return Submission(item)
    raise BotError(f"a bot yielded {item!r}; yield a Page, (Page, dict) or Submission(...)")


class Bot:
    """Base class of ``PlayerBot``: ``play_round`` yields one submission per page shown."""

    cases: list[Any] = []

    def __init__(
        self, runner: Any, participant_code: str, app_name: str, round_number: int, case: Any
    ) -> None:
        self._runner = runner
        self._participant_code = participant_code
        self._app_name = app_name
        self.round_number = round_number
        self.case = case

    def play_round(self) -> Iterator[Any]:
        """Yield the pages of one round (override in PlayerBot)."""
        return iter(())

    @property
    def participant(self) -> Any:
        return self._runner.participant(self._participant_code)

    @property
    def session(self) -> Any:
        return self.participant.session

    @property
    def player(self) -> Any:
        return self._runner.player(self._participant_code, self._app_name, self.round_number)

    @property
    def group(self) -> Any:
        return self.player.group

    @property
    def subsession(self) -> Any:
        return self.player.subsession

    @property
    def html(self) -> str:
        """The page the bot is on (after a SubmissionMustFail, the page with its errors), with
        line breaks and runs of spaces as one space, as oTree's (so an ``expect`` need not
        know where the template breaks its lines)."""
        return re.sub(r"\s+", " ", self._runner.last_html.get(self._participant_code, ""))
