"""Grove's own participant-facing words in the project's ``LANGUAGE_CODE``.

oTree translates what it writes itself (the Next button, wait pages, the timer, validation
messages, room pages) into the language of ``LANGUAGE_CODE`` and leaves the experimenter's own
text alone (oTree docs, "Localization"). Grove does the same for English and German; any other
language falls back to English.

``gettext(text)`` translates one message. A message with values in it (``Ensure this value is
less than or equal to 10.``) is matched against the catalog's patterns (``{maximum}``), so the
code that raises it keeps writing plain English and only what reaches the participant is
translated. Text not in the catalog comes back unchanged: an experimenter's own labels and
``error_message`` answers pass through untouched.

Templates call ``{{ gettext("Next") }}`` or ``{{ "Next"|gettext }}``; oTree's ``{{ trans "x" }}``
translates the same way.
"""

from __future__ import annotations

import re
from functools import cache

import jinja2

from server.currency import FORMAT

SUPPORTED_LANGUAGES = ("en", "de")

# English message (a pattern where it holds values) -> German. Grove's own translations.
_GERMAN: dict[str, str] = {
    # Pages
    "Next": "Weiter",
    "Please wait": "Bitte warten",
    "Waiting for the other participants.": "Warten auf die anderen Teilnehmenden.",
    "Waiting for the other participant.": "Warten auf die andere Person.",
    "Waiting to form a group with other participants.": (
        "Warten auf andere Teilnehmende, um eine Gruppe zu bilden."
    ),
    "Time left to complete this page:": "Verbleibende Zeit für diese Seite:",
    "Please fix the errors.": "Bitte korrigieren Sie die Fehler.",
    "Yes": "Ja",
    "No": "Nein",
    # Validation
    # WTForms' German, as oTree 6 shows it for an empty field (a BooleanField's is oTree's own
    # "Dieses Feld ist erforderlich.", which Grove does not tell apart).
    "This field is required.": "Dieses Feld wird benötigt.",
    "Enter a number.": "Bitte geben Sie eine Zahl ein.",
    "This number is too large.": "Diese Zahl ist zu groß.",
    # WTForms' German, which oTree 6 shows (its forms set WTForms' locale to LANGUAGE_CODE).
    "Not a valid choice": "Keine gültige Auswahl",
    "Not a valid integer value": "Keine gültige, ganze Zahl",
    "Not a valid float value": "Keine gültige Gleitkommazahl",
    "Not a valid decimal value": "Keine gültige Dezimalzahl",
    "Field cannot be longer than {count} characters.": (
        "Feld kann nicht länger als {count} Zeichen sein."
    ),
    "Field cannot be longer than {count} character.": (
        "Feld kann nicht länger als {count} Zeichen sein."
    ),
    "Number must be between {minimum} and {maximum}.": (
        "Zahl muss zwischen {minimum} und {maximum} liegen."
    ),
    "Number must be at least {minimum}.": "Zahl muss mindestens {minimum} sein.",
    "Number must be at most {maximum}.": "Zahl kann höchstens {maximum} sein.",
    "Ensure this value is greater than or equal to {minimum}.": (
        "Der Wert muss größer oder gleich {minimum} sein."
    ),
    "Ensure this value is less than or equal to {maximum}.": (
        "Der Wert muss kleiner oder gleich {maximum} sein."
    ),
    "This field cannot contain {problem}.": "Dieses Feld enthält ein unzulässiges Zeichen.",
    # Joining, rooms
    "Welcome": "Willkommen",
    "Click the button to start.": "Klicken Sie auf die Schaltfläche, um zu beginnen.",
    "Start": "Beginnen",
    "Continue": "Weiter",
    "Please enter your participant label": "Bitte geben Sie Ihre Teilnehmerkennung ein",
    # oTree's German for it (RoomWelcomePage.html).
    "This participant label was not found": (
        "Ungültige Eingabe; Bitte versuchen Sie es noch einmal."
    ),
    "Welcome, {label}. Click the button to start.": (
        "Willkommen, {label}. Klicken Sie auf die Schaltfläche, um zu beginnen."
    ),
    "The session has not started yet. This page moves on by itself when it does.": (
        "Die Sitzung hat noch nicht begonnen. Diese Seite geht von selbst weiter, sobald sie "
        "beginnt."
    ),
    "participant(s) waiting.": "Person(en) warten.",
    "Not allowed": "Kein Zutritt",
    "This link does not let you in": "Dieser Link gewährt keinen Zutritt",
    "Please use the link you were given, or ask the experimenter.": (
        "Bitte verwenden Sie den Link, den Sie erhalten haben, oder wenden Sie sich an die "
        "Versuchsleitung."
    ),
    "Session is full.": "Die Sitzung ist voll.",
    # Messages (server/templates/grove/message.html)
    "Thank you": "Vielen Dank",
    "You have completed this study. You may close this page.": (
        "Sie haben die Studie abgeschlossen. Sie können diese Seite jetzt schließen."
    ),
    "Session full": "Sitzung voll",
    "Sorry, this session is full.": "Diese Sitzung ist leider voll.",
    "Not found": "Nicht gefunden",
    "Cannot continue": "Es kann nicht weitergehen",
    "Server error": "Serverfehler",
    "Something went wrong.": "Etwas ist schiefgegangen.",
    # Chat
    "Participant {id_in_group}": "Teilnehmer {id_in_group}",
    "Type a message and press Enter": "Nachricht eingeben und mit Enter senden",
    "Send": "Senden",
    "(Me)": "(Ich)",
}

_CATALOGS: dict[str, dict[str, str]] = {"de": _GERMAN}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _patterns(language: str) -> list[tuple[re.Pattern[str], str]]:
    """The catalog's messages that hold values, as regular expressions over the English."""
    found = []
    for english, translated in _CATALOGS.get(language, {}).items():
        if not _PLACEHOLDER.search(english):
            continue
        parts = _PLACEHOLDER.split(english)
        # split() alternates literal text and placeholder names.
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        found.append((re.compile(regex + r"\Z", re.DOTALL), translated))
    return found


def current_language() -> str:
    """The language part of ``LANGUAGE_CODE`` ("de" for "de-AT"), set at start-up."""
    return FORMAT.language


def gettext(message: str, language: str | None = None) -> str:
    """``message`` in ``language`` (default: the project's); unchanged when not in the catalog.

    A message with values (``Ensure this value is less than or equal to 10.``) is translated
    through the catalog's pattern with the same values in it.
    """
    language = language or current_language()
    catalog = _CATALOGS.get(language)
    if catalog is None or not isinstance(message, str):
        return message
    exact = catalog.get(message)
    if exact is not None:
        return exact
    for pattern, translated in _patterns(language):
        match = pattern.match(message)
        if match:
            return translated.format(**match.groupdict())
    return message


def install_translations(env: jinja2.Environment) -> None:
    """Templates' ``gettext("...")``, ``"..."|gettext`` and ``grove_html_lang()``."""
    env.globals["gettext"] = gettext
    env.globals["grove_html_lang"] = html_lang
    env.filters["gettext"] = gettext


def html_lang() -> str:
    """The ``lang`` attribute of a participant's page: the project's LANGUAGE_CODE."""
    return FORMAT.language_code or "en"
