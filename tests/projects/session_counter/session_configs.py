SESSION_CONFIGS = [
    dict(name="counter", app_sequence=["counter"], num_demo_participants=20),
]
