SESSION_CONFIGS = [
    dict(name="tally", app_sequence=["tally"], num_demo_participants=10),
]
