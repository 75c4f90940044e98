SESSION_CONFIGS = [
    dict(name="race", app_sequence=["race"], num_demo_participants=2),
    dict(name="lobby", app_sequence=["lobby"], num_demo_participants=4),
    dict(name="lobby_rounds", app_sequence=["lobby_rounds"], num_demo_participants=4),
    dict(name="skip_wait", app_sequence=["skip_wait"], num_demo_participants=2),
    dict(name="skip_wait_quiet", app_sequence=["skip_wait_quiet"], num_demo_participants=2),
    dict(name="skip_all", app_sequence=["skip_all"], num_demo_participants=2),
    dict(name="lobby_each_round", app_sequence=["lobby_each_round"], num_demo_participants=4),
    dict(name="allgroups", app_sequence=["allgroups"], num_demo_participants=3),
    dict(name="double", app_sequence=["double"], num_demo_participants=1),
]
