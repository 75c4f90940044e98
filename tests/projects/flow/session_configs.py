SESSION_CONFIGS = [
    dict(name="fields", app_sequence=["fields"], num_demo_participants=1),
    dict(
        name="pot",
        app_sequence=["pot"],
        num_demo_participants=2,
        contribute_seconds=60,
        explode=False,
    ),
    dict(
        name="lobby", app_sequence=["intro", "lobby"], num_demo_participants=6, lone_after_seconds=2
    ),
]
