SESSION_CONFIGS = [
    dict(name="pages", app_sequence=["pages"], num_demo_participants=2),
    dict(name="broken", app_sequence=["broken"], num_demo_participants=1),
    dict(name="writes", app_sequence=["writes"], num_demo_participants=1),
    dict(name="manual", app_sequence=["manual"], num_demo_participants=1),
]
