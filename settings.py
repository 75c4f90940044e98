"""Project settings, with oTree's names. Secrets come from the environment:
OTREE_ADMIN_PASSWORD, OTREE_SECRET_KEY, OTREE_REST_KEY, OTREE_AUTH_LEVEL, OTREE_PRODUCTION,
DATABASE_URL (Grove reads them; this file need not)."""

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=1.00,
    participation_fee=0.00,
    doc="",
)

# Fields you can set on every participant / session (stored in participant.vars).
PARTICIPANT_FIELDS = ["treatment"]
SESSION_FIELDS = []

LANGUAGE_CODE = "en"
REAL_WORLD_CURRENCY_CODE = "USD"
USE_POINTS = True

ADMIN_USERNAME = "admin"
# Set OTREE_ADMIN_PASSWORD in the environment; an empty password leaves the admin pages open
# on a development server only.
ADMIN_PASSWORD = ""

# No SECRET_KEY here: a key in a file others read signs nothing safely. Production reads
# OTREE_SECRET_KEY from the environment (Grove refuses to start without one); a development
# server makes a random key for this install in .grove_secret (never committed).

DEMO_PAGE_INTRO_HTML = """
<p>Grove's sample apps. Click a session config to create a demo session and get its links.</p>
"""

ROOMS = [
    dict(name="econ101", display_name="Econ 101 class", participant_label_file="rooms/econ101.txt"),
    dict(name="qualtrics_study", display_name="Qualtrics study"),
    dict(name="my_room", display_name="My room"),
    dict(name="live_demo", display_name="Room for live demo (no participant labels)"),
]

# Urn studies for trials that run elsewhere and randomize over the urn API (/study_config,
# /study_participants), with no Grove session. Same keys as a session config's urn=dict(...).
# No starting_seed: the study draws a random 64-bit one at its first use, which only admins
# see. "My Study" is the one the urn API's reference examples use.
URN_STUDIES = {
    "My Study": dict(
        treatments=["Treatment A", "Treatment B"],
        factors={"age_group": ["18-40", "41-65", "65+"], "sex": ["Male", "Female"]},
        D="chisquare",
        alpha=0,
        beta=1,
        w=1,
        urn_selection="method1",
    ),
}
