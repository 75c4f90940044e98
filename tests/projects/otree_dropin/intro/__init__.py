# An oTree 5 style app: class Constants with lowercase names, templates in
# intro/templates/intro/, a static file in intro/static/intro/, and `from otree import settings`.
from otree.api import *
from otree import settings

doc = """
A short questionnaire: a nickname, an age, consent, and a rating scale drawn by hand.
"""


class Constants(BaseConstants):
    name_in_url = 'intro'
    players_per_group = None
    num_rounds = 1
    min_age = 16


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    nickname = models.StringField(label="Ihr Spitzname")
    age = models.IntegerField(label="Ihr Alter", min=Constants.min_age, max=99)
    consent = models.BooleanField(label="Sind Sie einverstanden?")
    fairness = models.IntegerField(
        label="Wie fair war die Anleitung?", choices=[1, 2, 3, 4, 5], widget=widgets.RadioSelect
    )
    clarity = models.IntegerField(
        label="Wie klar war die Anleitung?", choices=[1, 2, 3, 4, 5], widget=widgets.RadioSelect
    )


# PAGES
class Welcome(Page):
    form_model = 'player'
    form_fields = ['nickname', 'age', 'consent']

    @staticmethod
    def vars_for_template(player: Player):
        return dict(
            in_debug_mode=settings.DEBUG,
            language=settings.LANGUAGE_CODE,
            note="Erste Zeile\nzweite Zeile\n\nNeuer Absatz <b>fett?</b>",
            topics=[],
        )

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        player.participant.nickname = player.nickname


class Rating(Page):
    form_model = 'player'
    form_fields = ['fairness', 'clarity']

    @staticmethod
    def error_message(player: Player, values):
        if values['fairness'] == 1 and values['clarity'] == 1:
            return "Bitte nicht zweimal die niedrigste Stufe."


page_sequence = [Welcome, Rating]
