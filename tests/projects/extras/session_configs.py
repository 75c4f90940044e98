SESSION_CONFIGS = [
    dict(name="market", app_sequence=["market"], num_demo_participants=4),
]
