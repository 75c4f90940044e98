# An oTree 6 project as oTree's documentation lays it out, written by Grove's team to check
# that such a folder runs unchanged on Grove (tests/test_otree_dropin.py). It also runs on
# oTree 6.0.15 itself: `otree test bargain` there passes the same bots.
from os import environ

SESSION_CONFIGS = [
    dict(
        name='bargain',
        display_name="Bargaining in pairs, three rounds",
        app_sequence=['intro', 'bargain', 'payment'],
        num_demo_participants=2,
    ),
    dict(
        name='intro_only',
        display_name="Questionnaire only",
        app_sequence=['intro', 'payment'],
        num_demo_participants=1,
        participation_fee=5.00,
    ),
]

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=0.10, participation_fee=2.00, doc=""
)

PARTICIPANT_FIELDS = ['nickname']
SESSION_FIELDS = []

LANGUAGE_CODE = 'de'
REAL_WORLD_CURRENCY_CODE = 'EUR'
USE_POINTS = True
POINTS_CUSTOM_NAME = 'Taler'

ROOMS = [
    dict(
        name='econ101',
        display_name='Econ 101',
        participant_label_file='_rooms/econ101.txt',
    ),
]

ADMIN_USERNAME = 'admin'
ADMIN_PASSWORD = environ.get('OTREE_ADMIN_PASSWORD')

DEMO_PAGE_TITLE = 'Testlabor'
DEMO_PAGE_INTRO_HTML = """<p>Two sample games in oTree's own layout.</p>"""

SECRET_KEY = '2793716645129'
