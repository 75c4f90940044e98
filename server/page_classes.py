"""``Page`` and ``WaitPage``: the classes an app's ``page_sequence`` is made of.

Hooks are written without ``self`` (oTree's no-self format) and are called on the class,
so both ``@staticmethod`` and plain functions in the class body work.
"""

from __future__ import annotations

from typing import Any, ClassVar


class _DisplayHooks:
    """What pages and wait pages share: whether they show, and what their template gets."""

    @staticmethod
    def is_displayed(player: Any) -> bool:
        return True

    @staticmethod
    def vars_for_template(player: Any) -> dict[str, Any]:
        return {}

    @staticmethod
    def js_vars(player: Any) -> dict[str, Any]:
        return {}


class Page(_DisplayHooks):
    """A page with an optional form (``form_model`` + ``form_fields``)."""

    form_model: ClassVar[str | None] = None
    form_fields: ClassVar[list[str]] = []
    template_name: ClassVar[str | None] = None
    timeout_seconds: ClassVar[float | None] = None
    timer_text: ClassVar[str] = "Time left to complete this page:"
    is_wait_page: ClassVar[bool] = False

    @staticmethod
    def before_next_page(player: Any, timeout_happened: bool) -> None:
        return None

    @staticmethod
    def error_message(player: Any, values: dict[str, Any]) -> Any:
        return None

    get_form_fields: ClassVar[Any] = None
    get_timeout_seconds: ClassVar[Any] = None
    app_after_this_page: ClassVar[Any] = None


class WaitPage(_DisplayHooks):
    """A page that holds players until their group (or everyone) has arrived."""

    is_wait_page: ClassVar[bool] = True
    wait_for_all_groups: ClassVar[bool] = False
    group_by_arrival_time: ClassVar[bool] = False
    title_text: ClassVar[str] = "Please wait"
    # None: oTree's default, by whom the page waits for (participant_pages.wait_body_text).
    body_text: ClassVar[str | None] = None
    template_name: ClassVar[str | None] = None
    after_all_players_arrive: ClassVar[Any] = None
    timeout_seconds: ClassVar[float | None] = None
    get_timeout_seconds: ClassVar[Any] = None
    app_after_this_page: ClassVar[Any] = None
