"""The session configs: which apps run in which order, and their parameters.

Each config is merged over SESSION_CONFIG_DEFAULTS from settings.py.
"""

SESSION_CONFIGS = [
    dict(
        name="survey",
        display_name="Survey (every field type) and payment information",
        app_sequence=["survey", "payment_info"],
        num_demo_participants=1,
        doc="A questionnaire that shows every field type and widget, then the payment page.",
    ),
    dict(
        name="public_goods",
        display_name="Public goods game",
        app_sequence=["public_goods", "payment_info"],
        num_demo_participants=3,
        doc="Groups of 3 contribute to a common project; the decision has a time limit.",
        # Seconds each player has to decide (used by Contribute.get_timeout_seconds).
        contribution_timeout_seconds=180,
    ),
    dict(
        name="trust",
        display_name="Trust game",
        app_sequence=["trust", "payment_info"],
        num_demo_participants=2,
        doc="Two players: a trustor and a trustee, with wait pages between their moves.",
        # Parameters that oTree's REST example changes with modified_session_config_fields.
        num_apples=10,
        abc=[1, 2, 3],
    ),
    dict(
        name="prisoner",
        display_name="Repeated prisoner's dilemma with chat",
        app_sequence=["prisoner", "payment_info"],
        num_demo_participants=4,
        doc="Pairs are re-matched at random every round; partners can chat.",
    ),
    dict(
        name="live_auction",
        display_name="Continuous double auction (live page)",
        app_sequence=["live_auction", "payment_info"],
        num_demo_participants=4,
        doc="Groups of 2 buyers and 2 sellers post bids and asks on a live order book; "
        "a bid that meets an ask is a trade.",
        # Seconds the market stays open (used by Market.get_timeout_seconds).
        market_seconds=60,
    ),
    dict(
        name="live_counting",
        display_name="Counting task with live feedback (live page)",
        app_sequence=["live_counting", "payment_info"],
        num_demo_participants=1,
        doc="A real-effort task: count the zeros in grids of digits; each answer is checked "
        "at once.",
        # Seconds the task lasts (used by Counting.get_timeout_seconds).
        counting_seconds=60,
    ),
    dict(
        name="randomized_trial",
        display_name="Randomized trial (urn randomization, mocked covariates)",
        app_sequence=["trial"],
        num_demo_participants=4,
        doc="Participants get mocked age group and sex, and are randomized with the urn.",
        # Demo and bot sessions call mock_exogenous_data(session) from shared_out.py.
        mock_exogenous_data=True,
        urn=dict(
            treatments=["Control", "Intervention"],
            factors={"age_group": ["18-40", "41-65", "65+"], "sex": ["Male", "Female"]},
            D="chisquare",
            alpha=0,
            beta=1,
            w=1,
            # No starting_seed: each study gets a random 64-bit one (the admin export shows
            # it). A small fixed seed would let anyone with an API key predict assignments.
            urn_selection="method1",
        ),
    ),
]
