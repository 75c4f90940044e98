SESSION_CONFIGS = [
    dict(name="players", app_sequence=["players"], num_demo_participants=10),
]
