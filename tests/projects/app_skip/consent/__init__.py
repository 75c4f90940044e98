from otree.api import *

doc = """Consent; who declines goes straight to the last app."""


class C(BaseConstants):
    NAME_IN_URL = "consent"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    agree = models.BooleanField(label="Do you agree to take part?")
    # blank=True with choices: a select whose first option is the empty "--------"
    heard_from = models.StringField(
        choices=["friend", "poster", "email"], blank=True, label="Where did you hear of us?"
    )
    nickname = models.StringField(max_length=10, blank=True, label="A nickname, if you like")


def creating_session(subsession: Subsession):
    # A show-up bonus in the project's currency (0.07 in money; 0 in whole points)
    for player in subsession.get_players():
        player.payoff = cu(0.07)


class Consent(Page):
    form_model = "player"
    form_fields = ["agree", "heard_from", "nickname"]

    @staticmethod
    def app_after_this_page(player: Player, upcoming_apps):
        if not player.agree:
            return upcoming_apps[-1]


page_sequence = [Consent]
