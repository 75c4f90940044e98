SESSION_CONFIGS = [
    dict(name="groups", app_sequence=["groups"], num_demo_participants=10),
]
