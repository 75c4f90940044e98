# The last app of a session: shows each participant what they will be paid.
from server.api import *

doc = """
Shows the participant's payoff, the participation fee and the total in real-world currency.
"""


class C(BaseConstants):
    NAME_IN_URL = "payment_info"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class PaymentInfo(Page):
    # The template shows these values; participant.payoff sums every player.payoff so far.
    @staticmethod
    def vars_for_template(player):
        participant = player.participant
        return dict(
            payoff=participant.payoff,
            participation_fee=player.session.participation_fee,
            total=participant.payoff_plus_participation_fee(),
        )


page_sequence = [PaymentInfo]
