# A randomized trial: each participant is assigned a treatment with the session's urn
# (Wei's covariate-adaptive urn), balanced across their factor levels.
from server.api import *

doc = """
Randomizes each participant on the first page, using factor levels that arrive in
participant.vars (from Qualtrics, the REST API, or mock_exogenous_data in demos).
"""


class C(BaseConstants):
    NAME_IN_URL = "trial"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    # A copy of the assigned treatment, so it is in this app's data table too.
    treatment = models.StringField()
    # The outcome the trial measures.
    wellbeing = models.IntegerField(label="How do you feel today (1 = bad, 10 = great)?", min=1, max=10)


class Assignment(Page):
    form_model = "player"
    form_fields = ["wellbeing"]

    @staticmethod
    def vars_for_template(player):
        # randomize() reads the factor levels from participant.vars (by factor name), draws
        # once, stores participant.vars['treatment'] and returns the treatment. Calling it
        # again (a page reload) returns the same treatment: nobody is randomized twice.
        player.treatment = player.participant.randomize()
        return dict(treatment=player.treatment)


class Done(Page):
    pass


page_sequence = [Assignment, Done]
