SESSION_CONFIGS = [
    dict(name="market", app_sequence=["market"], num_demo_participants=4),
    # Bots whose SubmissionMustFail(error_fields=...) do not match what the page shows.
    dict(name="too_few_fields", app_sequence=["market"], num_demo_participants=2, bots="too_few"),
    dict(name="wrong_field", app_sequence=["market"], num_demo_participants=2, bots="wrong"),
]
