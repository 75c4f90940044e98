from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "quiz"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField(min=1, max=3)


class Question(Page):
    form_model = "player"
    form_fields = ["answer"]


class Thanks(Page):
    pass


page_sequence = [Question, Thanks]
