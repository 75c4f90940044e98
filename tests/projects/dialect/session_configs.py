SESSION_CONFIGS = [
    dict(name=name, app_sequence=[name], num_demo_participants=1)
    for name in ("percent", "byhand", "filters", "faulty")
] + [dict(name="layout", app_sequence=["layout"], num_demo_participants=2)]
