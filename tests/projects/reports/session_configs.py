SESSION_CONFIGS = [
    dict(name="notes", app_sequence=["notes", "plain"], num_demo_participants=2),
]
