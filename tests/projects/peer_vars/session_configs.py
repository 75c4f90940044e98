SESSION_CONFIGS = [
    dict(name="peers", app_sequence=["peers"], num_demo_participants=10),
]
