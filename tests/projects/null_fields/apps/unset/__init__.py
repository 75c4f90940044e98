"""Fields left unset (None) read by app code; the session config's ``mode`` says how."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "unset"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 2


class Subsession(BaseSubsession):
    bonus = models.IntegerField()


class Group(BaseGroup):
    total = models.IntegerField()


class Player(BasePlayer):
    answer = models.IntegerField(choices=[1, 2, 3])
    amount = models.CurrencyField()
    filled = models.IntegerField()


class Note(ExtraModel):
    player = models.Link(Player)
    text = models.StringField()


def mode(obj):
    return obj.session.config["mode"]


def creating_session(subsession: Subsession):
    if mode(subsession) == "raises_on_subsession_in_creating_session":
        print("bonus", subsession.bonus)
    if mode(subsession) == "reads_players_and_groups_in_creating_session":
        # oTree reads the players and groups it has just created freely here.
        for player in subsession.get_players():
            assert player.answer is None and player.group.total is None
    for player in subsession.get_players():
        player.filled = 7


class Question(Page):
    form_model = "player"
    form_fields = ["answer"]

    @staticmethod
    def is_displayed(player: Player):
        if mode(player) == "raises_in_is_displayed":
            return player.answer is None
        return True

    @staticmethod
    def vars_for_template(player: Player):
        shown = {
            "raises_in_vars_for_template": lambda: player.answer,
            "raises_on_currency_field": lambda: player.amount,
            "raises_on_group_field": lambda: player.group.total,
            "raises_on_subsession_field": lambda: player.subsession.bonus,
            "raises_on_earlier_round": lambda: player.in_round(1).amount,
            "raises_in_field_display": lambda: player.field_display("answer"),
            "reads_with_field_maybe_none": lambda: repr(player.field_maybe_none("answer")),
            "reads_extra_model_field": lambda: repr(Note.create(player=player).text),
            "reads_participant_label": lambda: repr(player.participant.label),
            "reads_after_setting": lambda: player.filled,
        }.get(mode(player), lambda: "-")
        if mode(player) == "raises_on_earlier_round" and player.round_number == 1:
            return dict(shown="-")
        return dict(shown=shown())

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        if mode(player) == "raises_in_before_next_page":
            player.amount = player.amount + 1


class Sync(WaitPage):
    @staticmethod
    def after_all_players_arrive(group: Group):
        if mode(group) == "raises_in_after_all_players_arrive":
            group.total = group.total + 1


class Results(Page):
    pass


page_sequence = [Question, Sync, Results]
