# The trust game: the trustor sends part of an endowment, it is tripled, and the trustee
# decides how much to send back. Two players per group, one round, sequential moves.
from server.api import *

doc = """
Trust game (Berg, Dickhaut and McCabe 1995) with two roles and two wait pages.
"""


class C(BaseConstants):
    NAME_IN_URL = "trust"
    # Two players per group: player 1 is the trustor, player 2 the trustee.
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1
    # Roles follow id_in_group: the first _ROLE constant is player 1's role.
    TRUSTOR_ROLE = "Trustor"
    TRUSTEE_ROLE = "Trustee"
    # Each trustor starts with this endowment.
    ENDOWMENT = cu(100)
    # What the trustor sends is multiplied by this.
    MULTIPLIER = 3


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    # Decisions are stored on the group: both players see them.
    sent_amount = models.CurrencyField(
        min=0, max=C.ENDOWMENT, label="How much do you want to send to the trustee?"
    )
    sent_back_amount = models.CurrencyField(min=0, label="How much do you want to send back?")


class Player(BasePlayer):
    pass


# The trustee can send back at most what they received.
def sent_back_amount_max(group):
    return group.sent_amount * C.MULTIPLIER


def set_payoffs(group):
    # Runs once, when both players have reached the results wait page.
    trustor = group.get_player_by_role(C.TRUSTOR_ROLE)
    trustee = group.get_player_by_role(C.TRUSTEE_ROLE)
    trustor.payoff = C.ENDOWMENT - group.sent_amount + group.sent_back_amount
    trustee.payoff = group.sent_amount * C.MULTIPLIER - group.sent_back_amount


class Send(Page):
    # The form writes to the group.
    form_model = "group"
    form_fields = ["sent_amount"]

    # Only the trustor sees this page.
    @staticmethod
    def is_displayed(player):
        return player.role == C.TRUSTOR_ROLE


class WaitForTrustor(WaitPage):
    body_text = "Waiting for the trustor to decide."


class SendBack(Page):
    form_model = "group"
    form_fields = ["sent_back_amount"]

    @staticmethod
    def is_displayed(player):
        return player.role == C.TRUSTEE_ROLE

    @staticmethod
    def vars_for_template(player):
        return dict(tripled_amount=player.group.sent_amount * C.MULTIPLIER)


# A custom data export (oTree's custom_export): the admin's Data export page and
# /api/export/trust/custom_export offer it. The first row yielded is the header.
def custom_export(players):
    yield ["session", "participant_code", "role", "sent_amount", "sent_back_amount", "payoff"]
    for p in players:
        group = p.group
        yield [
            p.session.code,
            p.participant.code,
            p.role,
            group.sent_amount,
            group.sent_back_amount,
            p.payoff,
        ]


class ResultsWaitPage(WaitPage):
    # The name of a module-level function: run once per group.
    after_all_players_arrive = "set_payoffs"


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(tripled_amount=player.group.sent_amount * C.MULTIPLIER)


page_sequence = [Send, WaitForTrustor, SendBack, ResultsWaitPage, Results]
