# Two rounds of a free-text note; the Data tab shows only ADMIN_VIEW_FIELDS, and the admin
# report (in oTree's older place, templates/notes/admin_report.html) lists the notes.
from server.api import *


class C(BaseConstants):
    NAME_IN_URL = "notes"
    PLAYERS_PER_GROUP = None
    NUM_ROUNDS = 2
    ADMIN_VIEW_FIELDS = {"player": ["note", "payoff"], "subsession": []}


class Subsession(BaseSubsession):
    pass


class Group(BaseGroup):
    pass


class Player(BasePlayer):
    note = models.StringField()
    hidden = models.IntegerField(initial=7)


def vars_for_admin_report(subsession):
    return dict(notes=[p.field_maybe_none("note") or "" for p in subsession.get_players()])


class Write(Page):
    form_model = "player"
    form_fields = ["note"]


page_sequence = [Write]
