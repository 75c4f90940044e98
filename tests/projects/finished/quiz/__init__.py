from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "quiz"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField()


class Ask(Page):
    form_model = "player"
    form_fields = ["answer"]


class Skipped(Page):
    @staticmethod
    def is_displayed(player):
        return False


page_sequence = [Ask, Skipped]
