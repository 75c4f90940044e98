# An oTree 6 project in oTree's layout (tests/test_app_skip.py): a participant who declines
# consent skips the game with app_after_this_page, past a wait page of their group. It also
# passes `otree test skip` on oTree 6.0.15 itself.
SESSION_CONFIGS = [
    dict(
        name="skip",
        display_name="Consent, a game for everyone who agrees, the end",
        app_sequence=["consent", "game", "end"],
        num_demo_participants=3,
    ),
]

SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.00, participation_fee=0.00)

PARTICIPANT_FIELDS = []
SESSION_FIELDS = []
LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True
SECRET_KEY = "app-skip-test"
