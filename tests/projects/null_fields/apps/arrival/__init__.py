"""A group formed by arrival: its after_all_players_arrive reads a group field never set."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "arrival"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    total = models.IntegerField()


class Player(BasePlayer):
    pass


class Grouping(WaitPage):
    group_by_arrival_time = True

    @staticmethod
    def after_all_players_arrive(group: Group):
        # oTree has just created this group, so it reads its fields freely here.
        group.total = 1 if group.total is None else group.total + 1


class Done(Page):
    @staticmethod
    def vars_for_template(player: Player):
        return dict(total=player.group.total)


page_sequence = [Grouping, Done]
