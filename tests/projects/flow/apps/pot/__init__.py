# A test app: a contribution page that times out, then a wait page that sums contributions
# without checking for missing ones, as a typical oTree app does.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "pot"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total = models.CurrencyField()


class Player(BasePlayer):
    contribution = models.CurrencyField(min=0, max=100)


def add_up(group):
    group.total = sum(p.contribution for p in group.get_players())
    for player in group.get_players():
        player.payoff = 100 - player.contribution + group.total


class Contribute(Page):
    form_model = "player"
    form_fields = ["contribution"]

    @staticmethod
    def get_timeout_seconds(player):
        return player.session.config.get("contribute_seconds", 60)

    @staticmethod
    def before_next_page(player, timeout_happened):
        if timeout_happened and player.session.config.get("explode"):
            raise RuntimeError("this page fails when it times out")


class Tally(WaitPage):
    after_all_players_arrive = add_up


class Results(Page):
    pass


page_sequence = [Contribute, Tally, Results]
