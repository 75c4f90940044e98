SESSION_CONFIGS = [
    dict(name="members", app_sequence=["members"], num_demo_participants=6),
]
