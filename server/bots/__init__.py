"""Bots in oTree's format: ``PlayerBot(Bot)`` with ``play_round`` yielding submissions."""

from server.bots.bot import Bot, BotError, Submission, SubmissionMustFail, expect

__all__ = ["Bot", "BotError", "Submission", "SubmissionMustFail", "expect"]
