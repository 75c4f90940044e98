# The public goods game: three players each contribute to a common pot, which is multiplied
# and shared equally. The contribution page has a time limit; a player who lets it run out
# (or closes the browser) contributes nothing, so the group is never stuck.
from server.api import *

doc = """
Public goods game, groups of 3, one round, with a time limit on the decision.
"""


class C(BaseConstants):
    NAME_IN_URL = "public_goods"
    # Three players per group.
    PLAYERS_PER_GROUP = 3
    NUM_ROUNDS = 1
    # Each player's endowment.
    ENDOWMENT = cu(100)
    # The pot is multiplied by this before it is shared.
    MULTIPLIER = 1.8


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    # Filled in by set_payoffs when everyone has contributed.
    total_contribution = models.CurrencyField()
    individual_share = models.CurrencyField()


class Player(BasePlayer):
    contribution = models.CurrencyField(
        min=0, max=C.ENDOWMENT, label="How much will you contribute to the project?"
    )
    # Whether the time limit ran out before this player decided.
    timed_out = models.BooleanField(initial=False)


def set_payoffs(group):
    # Runs exactly once per group, when the last player reaches the wait page.
    players = group.get_players()
    group.total_contribution = sum(p.contribution for p in players)
    group.individual_share = group.total_contribution * C.MULTIPLIER / C.PLAYERS_PER_GROUP
    for player in players:
        player.payoff = C.ENDOWMENT - player.contribution + group.individual_share


# The admin's Report tab (as in oTree): the session's page shows this app's report for the
# round the admin chooses, rendered with admin_report.html (in this folder). Whatever this
# returns is available in that template, besides subsession, session and C.
def vars_for_admin_report(subsession):
    # Only players who have decided (the others' contribution is still empty: oTree raises on
    # reading an empty field, so the report reads it with field_maybe_none).
    decided = [
        p for p in subsession.get_players() if p.field_maybe_none("contribution") is not None
    ]
    contributions = [p.contribution for p in decided]
    return dict(
        num_decided=len(decided),
        num_timed_out=len([p for p in decided if p.timed_out]),
        mean_contribution=cu(sum(contributions) / len(contributions)) if contributions else cu(0),
        # One line per group: its number and its total (empty until everyone has decided).
        groups=[
            (g.id_in_subsession, g.field_maybe_none("total_contribution"))
            for g in subsession.get_groups()
        ],
    )


class Contribute(Page):
    form_model = "player"
    form_fields = ["contribution"]
    timer_text = "Time left to decide:"

    # The time limit comes from the session config, so a session can change it.
    @staticmethod
    def get_timeout_seconds(player):
        return player.session.config.get("contribution_timeout_seconds", 180)

    # On a timeout, the player contributes nothing.
    @staticmethod
    def before_next_page(player, timeout_happened):
        if timeout_happened:
            player.contribution = cu(0)
            player.timed_out = True


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs
    body_text = "Waiting for the other members of your group to decide."


class Results(Page):
    pass


page_sequence = [Contribute, ResultsWaitPage, Results]
