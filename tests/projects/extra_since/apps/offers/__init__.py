"""ExtraModel rows a live method writes without changing a player, group or subsession field
(tests/test_export_since_extra_model.py): groups of 2."""

from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "offers"
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    pass


class Offer(ExtraModel):
    player = models.Link(Player)
    amount = models.IntegerField()


class GroupNote(ExtraModel):
    group = models.Link(Group)
    text = models.StringField()


class Reply(ExtraModel):
    offer = models.Link(Offer)
    text = models.StringField()


class Loose(ExtraModel):
    text = models.StringField()


def trade(player, data):
    """Write one ExtraModel row as the message says; no player, group or subsession field."""
    kind = data["kind"]
    if kind == "offer":
        Offer.create(player=player, amount=data["amount"])
    elif kind == "change":
        [offer] = Offer.filter(player=player)
        offer.amount = data["amount"]
    elif kind == "withdraw":
        for offer in Offer.filter(player=player):
            offer.delete()
    elif kind == "note":
        GroupNote.create(group=player.group, text=data["text"])
    elif kind == "reply":
        [offer] = Offer.filter(player=player.get_others_in_group()[0])
        Reply.create(offer=offer, text=data["text"])
    elif kind == "loose":
        Loose.create(text=data["text"])
    return {player.id_in_group: "ok"}


class Market(Page):
    live_method = trade


page_sequence = [Market]


def custom_export(players):
    yield ["participant_code", "offer_id", "amount"]
    for player in players:
        for offer in Offer.filter(player=player):
            yield [player.participant.code, offer.id, offer.amount]
