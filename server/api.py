"""What an app imports: ``from server.api import *`` (oTree's ``otree.api``)."""

from server.bots import Bot, Submission, SubmissionMustFail, expect
from server.currency import Currency, RealWorldCurrency, c, cu, currency_range
from server.fields import models, widgets
from server.model_bases import BaseConstants, BaseGroup, BasePlayer, BaseSubsession
from server.page_classes import Page, WaitPage

__all__ = [
    "BaseConstants",
    "BaseGroup",
    "BasePlayer",
    "BaseSubsession",
    "Bot",
    "Currency",
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
    "widgets",
]
