"""The filters oTree's template language has, on values from vars_for_template."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "filters"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Filters(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(
            text="First line\nsecond line\n\nA new paragraph & <b>",
            nothing="",
            zero=0,
            items=[1, 2, 3],
            bold="<b>bold</b>",
            number=3.14159,
            word="abcdefgh",
        )


page_sequence = [Filters]
