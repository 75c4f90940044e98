SESSION_CONFIGS = [
    dict(name="number_fields", app_sequence=["number_fields"], num_demo_participants=1),
    dict(name="number_goods", app_sequence=["number_goods"], num_demo_participants=2),
    dict(name="number_minimums", app_sequence=["number_minimums"], num_demo_participants=1),
]
