"""Functions shared by apps and by Grove itself.

``mock_exogenous_data(session)`` runs right after ``creating_session`` for demo and bot
sessions whose config sets ``mock_exogenous_data=True``: it fakes what the REST API or
Qualtrics would bring in a real session.
"""

import random


def mock_exogenous_data(session):
    """Give every demo participant an age and gender, as a Qualtrics post would.

    Sessions with an urn also get a random level of each randomization factor.
    """
    factors = (session.config.get("urn") or {}).get("factors", {})
    for participant in session.get_participants():
        participant.vars["age"] = random.randint(18, 70)
        participant.vars["is_male"] = random.choice([True, False])
        for factor, levels in factors.items():
            participant.vars[factor] = random.choice(levels)
