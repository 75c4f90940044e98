SESSION_CONFIGS = [
    dict(name="ledger", app_sequence=["ledger"], num_demo_participants=1),
]
