SESSION_CONFIGS = [
    dict(name="passes", app_sequence=["quiz"], num_demo_participants=1, mode="passes"),
    dict(name="fails_expect", app_sequence=["quiz"], num_demo_participants=1, mode="expect"),
    dict(name="valid_must_fail", app_sequence=["quiz"], num_demo_participants=1, mode="must_fail"),
    dict(name="missing_field", app_sequence=["quiz"], num_demo_participants=1, mode="missing"),
    dict(name="wrong_page", app_sequence=["quiz"], num_demo_participants=1, mode="wrong_page"),
]
