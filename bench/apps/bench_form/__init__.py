# Benchmark app: one page with one field, then a last page. The same file runs on Grove and,
# with its import line changed, on oTree.
from server.api import *

doc = "A one-field form page, for measuring page GET and POST."


class C(BaseConstants):
    NAME_IN_URL = "bench_form"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField(label="Pick a number from 0 to 100", min=0, max=100)


class Form(Page):
    form_model = "player"
    form_fields = ["answer"]


class Done(Page):
    pass


page_sequence = [Form, Done]
