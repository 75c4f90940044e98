"""Two rounds in groups of two with a wait page: for bots that stop early or check late."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "rounds"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField()


class Question(Page):
    form_model = "player"
    form_fields = ["answer"]


class Sync(WaitPage):
    pass


class Results(Page):
    pass


page_sequence = [Question, Sync, Results]
