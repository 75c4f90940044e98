SESSION_CONFIGS = [dict(name="offers", app_sequence=["offers"], num_demo_participants=4)]
