from otree.api import *


class C(BaseConstants):
    NAME_IN_URL = "quiz"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField()
    mood = models.StringField(label="How do you <i>feel</i> & why?")
    echo = models.StringField(blank=True)


class Ask(Page):
    form_model = "player"
    form_fields = ["answer", "mood", "echo"]

    @staticmethod
    def vars_for_template(player):
        return dict(said="<u>typed</u>")


class Skipped(Page):
    @staticmethod
    def is_displayed(player):
        return False


page_sequence = [Ask, Skipped]
