"""The session configs: which apps run in which order, and their parameters.

Each config is merged over SESSION_CONFIG_DEFAULTS from settings.py.
"""

SESSION_CONFIGS = [
    dict(
        name="survey",
        display_name="Survey (every field type) and payment information",
        app_sequence=["survey", "payment_info"],
        num_demo_participants=1,
        doc="A questionnaire that shows every field type and widget, then the payment page.",
    ),
]
