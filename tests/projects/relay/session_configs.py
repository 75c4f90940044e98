SESSION_CONFIGS = [
    dict(name="relay", app_sequence=["relay"], num_demo_participants=2, decide_seconds=60),
    dict(name="chain", app_sequence=["chain"], num_demo_participants=4),
    dict(name="arrivals", app_sequence=["arrivals"], num_demo_participants=4),
    dict(name="timed_arrivals", app_sequence=["timed_arrivals"], num_demo_participants=4),
    dict(name="round_gate", app_sequence=["round_gate"], num_demo_participants=4),
]
