"""Alembic migrations of Grove's own tables (``grove_*``), run by ``server.schema_versions``.

There is no ``alembic.ini``: the project root is the experimenter's, so Grove builds Alembic's
configuration in code (``schema_versions.alembic_config``). The per-app tables are not
versioned here; they follow the project's models (``server.app_schema``).

To change a Grove table, change its model in ``server/models/`` and add a revision:

    .venv/bin/python -m server.schema_versions revision "what changed"

which autogenerates ``versions/<n>_<slug>.py`` against a scratch database at head. Read it
through (Alembic guesses renames as a drop and an add), keep it to plain SQLAlchemy types, and
run ``tests/test_migrations.py``: a test fails while the models and the newest revision differ.
"""
