# Tests change the language and currency settings with Settings.with_changes.
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=0.025, participation_fee=0.0)
SECRET_KEY = "numbers-test"
