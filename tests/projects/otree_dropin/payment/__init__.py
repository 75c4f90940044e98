from otree.api import *

doc = """
The last page: what each participant earned, in Taler and in euros, with the fee.
"""


class C(BaseConstants):
    NAME_IN_URL = 'payment'
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class PaymentInfo(Page):
    @staticmethod
    def vars_for_template(player: Player):
        participant = player.participant
        return dict(
            nickname=participant.nickname,
            total=participant.payoff_plus_participation_fee(),
        )


page_sequence = [PaymentInfo]
