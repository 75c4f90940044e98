# A questionnaire that shows every field type, every widget and every kind of validation.
# Grove's sample apps import `server.api`; `otree.api` has the same names, so an oTree app's
# import line works as it is.
from server.api import *

doc = """
A survey: integer, float, currency, string, long string and boolean fields, with radio
buttons, a horizontal radio row, a checkbox, a drop-down, bounds and custom validation.
"""


class C(BaseConstants):
    # The app's name in page URLs: /p/<participant code>/survey/<Page>/<index>
    NAME_IN_URL = "survey"
    # A survey is single-player: everyone is in one group.
    PLAYERS_PER_GROUP = None
    # One round.
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    # Nothing is stored per round here.
    pass


class Group(BaseGroup):
    # Nothing is stored per group here.
    pass


class Player(BasePlayer):
    # A whole number between 13 and 125; the label is the question shown to the participant.
    age = models.IntegerField(label="What is your age?", min=13, max=125)
    # A choice with (value, label) pairs shown as vertical radio buttons.
    gender = models.StringField(
        choices=[["Male", "Male"], ["Female", "Female"], ["Other", "Other / prefer not to say"]],
        label="What is your gender?",
        widget=widgets.RadioSelect,
    )
    # A number with decimals and explicit bounds: negative values are allowed. Without min=
    # a number field's minimum is 0, as in oTree 5.10+ (min=None would remove it).
    temperature = models.FloatField(
        label="What is the temperature outside (°C)?", min=-90, max=60
    )
    # An amount of points; its upper bound is set by a function below (savings_max).
    savings = models.CurrencyField(label="How many points would you save out of 100?", min=0)
    # A drop-down list of plain values.
    year_in_school = models.StringField(
        choices=["Freshman", "Sophomore", "Junior", "Senior", "Graduate", "Not a student"],
        label="Which year of school are you in?",
    )
    # Integer choices on one horizontal row (a Likert scale).
    satisfaction = models.IntegerField(
        choices=[[1, "Very unhappy"], [2, "Unhappy"], [3, "Neutral"], [4, "Happy"], [5, "Very happy"]],
        label="How satisfied are you with your studies?",
        widget=widgets.RadioSelectHorizontal,
    )
    # Yes/No radio buttons (the default widget of a BooleanField).
    likes_experiments = models.BooleanField(label="Do you enjoy taking part in experiments?")
    # A checkbox: unticked means False, so it never blocks the form.
    wants_newsletter = models.BooleanField(
        label="Send me news about future studies", widget=widgets.CheckboxInput, blank=True
    )
    # A short text that must not be empty; its check is in nickname_error_message below.
    nickname = models.StringField(label="Choose a nickname (letters only)")
    # A long text, optional (blank=True), shown as a text area.
    comments = models.LongStringField(label="Any comments?", blank=True)
    # A field the participant never sees: filled in by the code.
    crt_score = models.IntegerField(initial=0)


# A field's bound can come from a function named <field>_max (or _min, _choices).
def savings_max(player):
    return 100


# <field>_error_message checks one value; return a message to reject it.
def nickname_error_message(player, value):
    if not value.isalpha():
        return "Use letters only."


class Demographics(Page):
    # The form writes to the player.
    form_model = "player"
    # The fields shown, in this order.
    form_fields = ["age", "gender", "temperature", "year_in_school"]


class Attitudes(Page):
    form_model = "player"
    form_fields = [
        "savings",
        "satisfaction",
        "likes_experiments",
        "wants_newsletter",
        "nickname",
        "comments",
    ]

    # error_message checks several fields together; a message here is shown above the form.
    @staticmethod
    def error_message(player, values):
        if values["likes_experiments"] is False and values["satisfaction"] == 5:
            return "You say you are very happy but do not enjoy experiments: please check."


class Results(Page):
    # Extra variables for the template.
    @staticmethod
    def vars_for_template(player):
        return dict(age_next_year=player.age + 1)


# The pages, in order.
page_sequence = [Demographics, Attitudes, Results]
