SESSION_CONFIGS = [
    dict(name="tally", app_sequence=["tally"], num_demo_participants=10),
    dict(name="tally_wait", app_sequence=["tally_wait"], num_demo_participants=10),
]
