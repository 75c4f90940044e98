SESSION_CONFIGS = [
    dict(name="passes", app_sequence=["quiz"], num_demo_participants=1, mode="passes"),
    dict(name="fails_expect", app_sequence=["quiz"], num_demo_participants=1, mode="expect"),
    dict(name="valid_must_fail", app_sequence=["quiz"], num_demo_participants=1, mode="must_fail"),
    dict(name="missing_field", app_sequence=["quiz"], num_demo_participants=1, mode="missing"),
    dict(name="wrong_page", app_sequence=["quiz"], num_demo_participants=1, mode="wrong_page"),
    # A choice made with submit buttons named like the field, then a page without a button.
    *[
        dict(name=mode, app_sequence=["pick"], num_demo_participants=1, mode=mode)
        for mode in [
            "button_choice",
            "button_value_not_offered",
            "submits_page_without_button",
            "submits_page_without_button_unchecked",
        ]
    ],
    # Two rounds in pairs (apps/rounds/tests.py has two cases, so two runs each).
    *[
        dict(name=mode, app_sequence=["rounds"], num_demo_participants=2, mode=mode)
        for mode in [
            "rounds_pass",
            "after_last",
            "after_last_final",
            "assert_after_last",
            "early_middle",
            "early_last",
            "skips_round_one",
            "one_quits",
        ]
    ],
]
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0)
