# An oTree 6 project in oTree's layout (tests/test_export_finished_position.py): two rounds of a
# question, each followed by a page that is never displayed. It also passes `otree test fin`
# on oTree 6.0.15 itself.
SESSION_CONFIGS = [dict(name="fin", app_sequence=["quiz"], num_demo_participants=1)]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00)
PARTICIPANT_FIELDS = []
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
SECRET_KEY = "fin"
