SESSION_CONFIGS = [dict(name="widgets", app_sequence=["widgets"], num_demo_participants=1)]
