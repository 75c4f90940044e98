# An oTree 6 project in oTree's layout (tests/test_formfield_label_html.py): field labels written
# with HTML in the model and in a template. It also passes `otree test labels` on oTree 6.0.15.
SESSION_CONFIGS = [dict(name="labels", app_sequence=["quiz"], num_demo_participants=1)]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00)
PARTICIPANT_FIELDS = []
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
SECRET_KEY = "labels"
