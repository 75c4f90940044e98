SESSION_CONFIGS = [
    dict(name="guarded", app_sequence=["guarded"], num_demo_participants=10),
    dict(
        name="guarded_slow_first",
        app_sequence=["guarded"],
        num_demo_participants=4,
        slow_first=True,
    ),
    dict(name="guarded_vars", app_sequence=["guarded_vars"], num_demo_participants=1),
    dict(name="guarded_peers", app_sequence=["guarded_peers"], num_demo_participants=2),
    dict(name="shown_wait", app_sequence=["shown_wait"], num_demo_participants=16),
]
