SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=0.5, participation_fee=2.0)
SECRET_KEY = "templates-test"
REAL_WORLD_CURRENCY_CODE = "USD"
