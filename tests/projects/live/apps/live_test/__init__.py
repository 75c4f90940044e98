"""Live pages under test: groups of 2, a group counter, addressing by id_in_group."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "live_test"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    counter = models.IntegerField(initial=0)
    finished = models.BooleanField(initial=False)


class Player(BasePlayer):
    sent = models.IntegerField(initial=0)
    left_with = models.IntegerField(initial=-1)
    timed_out = models.BooleanField(initial=False)


class Note(ExtraModel):
    player = models.Link(Player)
    text = models.StringField()


def counting(player, data):
    """Every kind of message the tests send: the 'kind' says what to do."""
    kind = data.get("kind") if isinstance(data, dict) else None
    group = player.group
    if kind == "add":
        group.counter += data.get("amount", 1)
        player.sent += 1
        player.participant.vars["live_sent"] = player.participant.vars.get("live_sent", 0) + 1
        return {0: {"counter": group.counter, "from": player.id_in_group}}
    if kind == "to":
        return {data["to"]: {"note": data.get("note"), "from": player.id_in_group}}
    if kind == "raise":
        group.counter += 1000
        Note.create(player=player, text="never")
        raise ValueError("the live method failed")
    if kind == "bad_key":
        group.counter += 1000
        return {99: "nobody"}
    if kind == "zero_and_more":
        return {0: "all", 1: "one"}
    if kind == "not_a_dict":
        return ["x"]
    if kind == "finish":
        group.finished = True
        return {0: {"finished": True}}
    if kind == "none":
        return None
    if kind == "regroup":
        player.subsession.set_group_matrix(data["matrix"])
        return None
    return {player.id_in_group: {"echo": data}}


class Play(Page):
    live_method = counting
    timeout_seconds = 600

    @staticmethod
    def error_message(player, values):
        if not player.group.finished:
            return "Finish the task first."

    @staticmethod
    def before_next_page(player, timeout_happened):
        player.left_with = player.group.counter
        player.timed_out = timeout_happened


class Done(Page):
    pass


page_sequence = [Play, Done]
