# One config per way of reading a field that was never set (apps/unset): ``mode`` says which.
# On oTree 6.0.15 the "raises_*" ones fail `otree test` with a TypeError naming the field and
# the "reads_*" ones pass.
MODES = [
    "raises_in_bot",
    "raises_in_vars_for_template",
    "raises_in_template",
    "raises_in_is_displayed",
    "raises_in_before_next_page",
    "raises_on_currency_field",
    "raises_on_group_field",
    "raises_on_subsession_field",
    "raises_on_earlier_round",
    "raises_in_after_all_players_arrive",
    "raises_on_subsession_in_creating_session",
    "raises_in_field_display",
    "reads_with_field_maybe_none",
    "reads_players_and_groups_in_creating_session",
    "reads_extra_model_field",
    "reads_participant_label",
    "reads_after_setting",
]
SESSION_CONFIGS = [
    dict(name=mode, app_sequence=["unset"], num_demo_participants=2, mode=mode) for mode in MODES
]
SESSION_CONFIGS.append(
    dict(
        name="reads_group_formed_by_arrival",
        app_sequence=["arrival"],
        num_demo_participants=2,
        mode="reads_group_formed_by_arrival",
    )
)
SESSION_CONFIG_DEFAULTS = dict(real_world_currency_per_point=1.0, participation_fee=0.0)
