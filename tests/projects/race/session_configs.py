SESSION_CONFIGS = [dict(name="race", app_sequence=["race"], num_demo_participants=2)]
