"""How this program is named where the user reads it: help, and hints naming a command."""

from __future__ import annotations

import sys
from pathlib import Path


def program_name(script: str) -> str:
    """``grove`` or ``otree`` when run as those installed commands, else ``python -m server``
    (an installed command's environment may have no ``python`` that imports Grove)."""
    name = Path(script).name
    return name if name in ("grove", "otree") else "python -m server"


def command_text(name: str) -> str:
    """A Grove command as the user runs it: ``otree migrate``, ``python -m server migrate``."""
    script = sys.argv[0] if sys.argv and sys.argv[0] else ""
    return f"{program_name(script)} {name}"
