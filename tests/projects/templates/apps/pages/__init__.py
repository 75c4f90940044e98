"""Pages using oTree's template idioms; tests/test_templates_as_otree.py plays them."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "pages"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    answer = models.StringField(label="Type anything")


class Intro(Page):
    """Includes a fragment with {{ include_sibling }}, as most of oTree's samples do."""

    form_model = "player"
    form_fields = ["answer"]

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.payoff = 10


class Wait(WaitPage):
    @staticmethod
    def vars_for_template(player):
        return dict(waiting_note="Your partner is still typing")

    @staticmethod
    def js_vars(player):
        return dict(answer=player.answer)


class Results(Page):
    @staticmethod
    def vars_for_template(player):
        return dict(partner_answer=player.get_others_in_group()[0].answer)

    @staticmethod
    def js_vars(player):
        return dict(partner_answer=player.get_others_in_group()[0].answer, label="</b>")


page_sequence = [Intro, Wait, Results]
