SESSION_CONFIGS = [
    dict(name="live", app_sequence=["live_test"], num_demo_participants=4),
    dict(name="live_by_name", app_sequence=["live_other"], num_demo_participants=2),
    dict(name="live_async", app_sequence=["live_async"], num_demo_participants=2),
]
