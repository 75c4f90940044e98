# A repeated prisoner's dilemma: pairs are re-matched at random every round, and the two
# players of a pair can chat before they decide.
from server.api import *

doc = """
Repeated prisoner's dilemma, 3 rounds, random re-matching each round, with chat.
"""


class C(BaseConstants):
    NAME_IN_URL = "prisoner"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 3
    # Payoffs: both cooperate, both defect, and the sucker's and temptation payoffs.
    BOTH_COOPERATE = cu(200)
    BOTH_DEFECT = cu(100)
    SUCKER = cu(0)
    TEMPTATION = cu(300)


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    cooperate = models.BooleanField(
        choices=[[True, "Cooperate"], [False, "Defect"]],
        label="What do you choose?",
        widget=widgets.RadioSelect,
    )


# Runs for every round when the session is created: from round 2 on, shuffle the pairs.
def creating_session(subsession):
    if subsession.round_number > 1:
        subsession.group_randomly()


def set_payoffs(group):
    first, second = group.get_players()
    table = {
        (True, True): (C.BOTH_COOPERATE, C.BOTH_COOPERATE),
        (True, False): (C.SUCKER, C.TEMPTATION),
        (False, True): (C.TEMPTATION, C.SUCKER),
        (False, False): (C.BOTH_DEFECT, C.BOTH_DEFECT),
    }
    first.payoff, second.payoff = table[(first.cooperate, second.cooperate)]


class Decision(Page):
    form_model = "player"
    form_fields = ["cooperate"]


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        other = player.get_others_in_group()[0]
        return dict(other=other, total=sum(p.payoff for p in player.in_all_rounds()))


page_sequence = [Decision, ResultsWaitPage, Results]
