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
        age = random.randint(18, 80)
        is_male = random.choice([True, False])
        participant.vars["age"] = age
        participant.vars["is_male"] = is_male
        # The urn's factors agree with the age and sex just drawn (the trial sample's factors
        # are age_group and sex); any other factor gets a random level.
        derived = {
            "age_group": "18-40" if age <= 40 else "41-65" if age <= 65 else "65+",
            "sex": "Male" if is_male else "Female",
        }
        for factor, levels in factors.items():
            level = derived.get(factor)
            participant.vars[factor] = level if level in levels else random.choice(levels)
