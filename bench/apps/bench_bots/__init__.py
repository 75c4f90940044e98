# Benchmark app for the bot runners: ten rounds of a one-field page and a page without
# fields, so every participant's bot submits exactly 20 pages. The same file runs on Grove
# and, with its import line changed, on oTree.
from server.api import *

doc = "Ten rounds of two pages, for measuring the bot runner's pages per second."


class C(BaseConstants):
    NAME_IN_URL = "bench_bots"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 10


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.IntegerField(label="Pick a number from 0 to 100", min=0, max=100)


class Question(Page):
    form_model = "player"
    form_fields = ["answer"]


class Answered(Page):
    pass


page_sequence = [Question, Answered]
