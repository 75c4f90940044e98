"""oTree's import names, served by Grove: ``from otree.api import *`` and
``from otree import settings`` work unchanged in an oTree project run by Grove.

A real oTree installation cannot share a virtualenv with Grove (oTree pins older SQLAlchemy and
Starlette), so where Grove is installed, ``otree`` is this package.
"""

from server import __version__

__all__ = ["__version__"]
