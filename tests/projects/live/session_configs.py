SESSION_CONFIGS = [
    dict(name="live", app_sequence=["live_test"], num_demo_participants=4),
    dict(name="live_by_name", app_sequence=["live_other"], num_demo_participants=2),
]
