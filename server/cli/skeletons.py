"""The files ``startproject`` and ``startapp`` write: oTree's project and app layout, with
Grove's own text. Each is a relative path and its contents."""

from __future__ import annotations

# settings.py's SESSION_CONFIGS in a new project (startproject --sample-games lists the
# sample games' configs instead).
SESSION_CONFIGS_EXAMPLE = """\
SESSION_CONFIGS = [
    # dict(
    #     name="my_study",
    #     display_name="My study",
    #     app_sequence=["my_app"],
    #     num_demo_participants=2,
    # ),
]
"""

PROJECT_FILES: dict[str, str] = {
    "settings.py": '''\
"""This project's settings. Run it from this folder: `otree devserver`, `otree test CONFIG`.

Secrets stay out of this file: the server reads OTREE_ADMIN_PASSWORD, OTREE_SECRET_KEY,
OTREE_REST_KEY, OTREE_AUTH_LEVEL, OTREE_PRODUCTION and DATABASE_URL from its environment.
"""

from os import environ

# One entry per study you can start: its apps, in order, and its parameters.
'''
    + SESSION_CONFIGS_EXAMPLE
    + '''

# Every session config starts from these values and may override any of them; app code reads
# them as session.config["participation_fee"].
SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=1.00,
    participation_fee=0.00,
    doc="",
)

# Extra fields of each participant and each session (participant.my_field = ...).
PARTICIPANT_FIELDS = []
SESSION_FIELDS = []

# The participants' language, as an ISO 639 code: "en", "de", "fr", "zh-hans", ...
LANGUAGE_CODE = "en"

# The money participants are paid in (ISO 4217: "EUR", "GBP", ...), and whether amounts are
# counted in points while they play.
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True

# Rooms give a study one lasting link; a label file lists who may enter.
ROOMS = [
    # dict(name="lab", display_name="Lab", participant_label_file="_rooms/lab.txt"),
]

ADMIN_USERNAME = "admin"
# Set the password in the server's environment, never here.
ADMIN_PASSWORD = environ.get("OTREE_ADMIN_PASSWORD")

# Shown above the list of session configs on the demo page.
DEMO_PAGE_INTRO_HTML = """
<p>Click a session config to try it.</p>
"""
''',
    "requirements.txt": """\
# Python packages this project's apps import, one per line (Grove brings its own).
""",
    "Procfile": """\
web: otree prodserver
""",
    ".gitignore": """\
__pycache__/
*.py[cod]
venv/
.venv/
db.sqlite3
*.sqlite3
*.sqlite3-wal
*.sqlite3-shm
*.sqlite3.writelock
.grove_secret
.grove_secret.*
__temp*
*.otreezip
.DS_Store
.idea/
*~
""",
    "_static/global/styles.css": """\
/* Styles for every page. Link this file from _templates/global/Page.html:
   <link rel="stylesheet" href="{{ static 'global/styles.css' }}"> */
""",
    "_templates/global/Page.html": """\
{{ extends "otree/Page.html" }}

{{ block global_styles }}
{{ endblock }}

{{ block global_scripts }}
{{ endblock }}
""",
    "_rooms/lab.txt": """\
LAB1
LAB2
LAB3
""",
}

APP_FILES: dict[str, str] = {
    "__init__.py": '''\
from otree.api import *

doc = """
What this app is about (shown on the demo page).
"""


class C(BaseConstants):
    NAME_IN_URL = "APP_NAME"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


# Pages, in the order participants see them (page_sequence, below).
class MyPage(Page):
    pass


class ResultsWaitPage(WaitPage):
    pass


class Results(Page):
    pass


page_sequence = [MyPage, ResultsWaitPage, Results]
''',
    "MyPage.html": """\
{{ block title }}
    Page title
{{ endblock }}

{{ block content }}
    {{ formfields }}
    {{ next_button }}
{{ endblock }}
""",
    "Results.html": """\
{{ block title }}
    Results
{{ endblock }}

{{ block content }}
    {{ next_button }}
{{ endblock }}
""",
}
