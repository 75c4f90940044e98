"""oTree's layout blocks: global_styles/global_scripts (the project's global/Page.html),
app_styles/app_scripts (an app's base template), styles/scripts (the page)."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "layout"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Styled(Page):
    pass


class Wait(WaitPage):
    template_name = "layout/Wait.html"


class Plain(Page):
    pass


page_sequence = [Styled, Wait, Plain]
