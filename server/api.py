"""What an app imports: ``from server.api import *`` (oTree's ``otree.api``)."""

from server.bots import Bot, Submission, SubmissionMustFail, expect
from server.csv_data import read_csv
from server.currency import Currency, RealWorldCurrency, c, cu, currency_range
from server.extra_model import ExtraModel
from server.fields import models, widgets
from server.json_data import safe_json
from server.model_bases import BaseConstants, BaseGroup, BasePlayer, BaseSubsession
from server.page_classes import Page, WaitPage

__all__ = [
    "BaseConstants",
    "BaseGroup",
    "BasePlayer",
    "BaseSubsession",
    "Bot",
    "Currency",
    "ExtraModel",
    "Page",
    "RealWorldCurrency",
    "Submission",
    "SubmissionMustFail",
    "WaitPage",
    "c",
    "cu",
    "currency_range",
    "expect",
    "models",
    "read_csv",
    "safe_json",
    "widgets",
]
