# A live auction ported from oTree 6 (tests/test_live_auction.py): two bidders per group bid
# live; the page's js_vars and its `|json` carry Currency amounts. It also passes
# `otree test auction` on oTree 6.0.15, whose pages gave the values the tests expect.
SESSION_CONFIGS = [
    dict(name='auction', app_sequence=['auction'], num_demo_participants=2, start_price=7),
]

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=0.5, participation_fee=3.00, doc=""
)

PARTICIPANT_FIELDS = ['best_bid']
SESSION_FIELDS = ['high_bid']

LANGUAGE_CODE = 'en'
REAL_WORLD_CURRENCY_CODE = 'USD'
USE_POINTS = True

ROOMS = []
SECRET_KEY = 'live-auction'
