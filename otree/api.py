"""``from otree.api import *``: exactly what ``server.api`` exports (the same objects)."""

from server.api import *  # noqa: F403
from server.api import __all__ as __all__
