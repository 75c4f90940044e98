"""``from otree import settings``: the project's ``settings.py`` as oTree exposes it.

oTree's ``otree.settings`` is the project's settings module (``from settings import *``) over
oTree's defaults, plus a few derived names. Here each attribute is looked up when read, from
the project Grove serves (``GROVE_PROJECT_ROOT`` or the current directory, the rule every Grove
command and worker follows), so importing this module reads no file: the values are those of
the ``Settings`` Grove itself runs on.

``DEBUG`` is ``not production`` (``OTREE_PRODUCTION`` unset or 0, as in oTree); ``AUTH_LEVEL``,
``ADMIN_PASSWORD`` and the currency settings are the values in effect (environment included);
every other public name of ``settings.py`` is there as written (``SESSION_CONFIGS`` also from
``session_configs.py`` in Grove's own layout).
"""

from typing import Any as _Any

# Only dunder names are defined here (and _Any): every other attribute is a setting.


def __getattr__(name: str) -> _Any:
    from otree._settings_values import setting

    return setting(name)


def __dir__() -> list[str]:
    from otree._settings_values import current_values

    return sorted(current_values())
