SESSION_CONFIGS = [
    dict(name="board", app_sequence=["board"], num_demo_participants=4),
]
