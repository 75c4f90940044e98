SESSION_CONFIGS = [
    dict(name="notes", app_sequence=["notes"], num_demo_participants=6),
    dict(name="plain", app_sequence=["plain"], num_demo_participants=6),
]
