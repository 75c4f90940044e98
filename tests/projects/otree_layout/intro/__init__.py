from otree.api import *

doc = """
A welcome page. Its templates are in oTree 5's place, intro/templates/intro/.
"""


class C(BaseConstants):
    NAME_IN_URL = "intro"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1
    INSTRUCTIONS_TEMPLATE = __name__ + "/Instructions.html"


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    nickname = models.StringField(label="Your nickname")


class Welcome(Page):
    form_model = "player"
    form_fields = ["nickname"]


page_sequence = [Welcome]
