SESSION_CONFIGS = [
    dict(name="notes", app_sequence=["notes"], num_demo_participants=6),
]
