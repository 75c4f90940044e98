# An oTree 6 project as a lab ports it (tests/test_otree6_market.py): buyers and sellers in
# pairs over two rounds, with oTree 6's participant.status. It also passes `otree test market`
# on oTree 6.0.15, whose pages and REST answers gave the values the tests expect.
from os import environ

SESSION_CONFIGS = [
    dict(
        name='market',
        display_name="Buyers and sellers, two rounds",
        app_sequence=['market'],
        num_demo_participants=2,
    ),
]

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=0.25, participation_fee=3.00, doc=""
)

PARTICIPANT_FIELDS = ['market_earnings']
SESSION_FIELDS = []

LANGUAGE_CODE = 'en'
REAL_WORLD_CURRENCY_CODE = 'USD'
USE_POINTS = True

ADMIN_USERNAME = 'admin'
ADMIN_PASSWORD = environ.get('OTREE_ADMIN_PASSWORD')

SECRET_KEY = '4417090036512'
