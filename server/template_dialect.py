"""oTree's template dialect, rewritten to Jinja2 when a template loads.

oTree reads ``{{ }}`` and ``{% %}`` alike: ``{{ if x }}``, ``{% formfield player.age %}``,
``{{ block content }}``. Tags Jinja2 has (``{% if %}``, ``{% for %}``, ``{% block %}``) are
kept; oTree's own become calls of the functions server/web/page_rendering.py registers. The
rewrite adds and removes no line, so an error still names the template's file and line, and a
tag that is unknown or malformed becomes an error at its own line (``grove_template_error``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2.ext import Extension
from jinja2.parser import Parser

_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_OPENER = re.compile(r"\{\{|\{%|\{#")
# oTree's tags that Jinja2 does not have: rewritten in either spelling.
_OTREE_TAGS = frozenset(
    (
        "load",
        "formfield",
        "formfields",
        "formfield_errors",
        "next_button",
        "static",
        "include_sibling",
        "chat",
        "empty",
        "comment",
        "endcomment",
        "trans",
        "blocktrans",
        "endblocktrans",
        "back_button",
    )
)
# Jinja2 statements oTree also writes as {{ word ... }}; each ends with "end" + word.
_BLOCK_WORDS = ("block", "if", "for", "with", "macro", "call", "filter")
_MIDDLE_WORDS = ("elif", "else")
_END_WORDS = tuple("end" + word for word in (*_BLOCK_WORDS, "set"))
# Jinja2's own statements, kept as they are when written {% word %}.
_JINJA_STATEMENTS = frozenset(
    (
        *_BLOCK_WORDS,
        *_MIDDLE_WORDS,
        *_END_WORDS,
        "set",
        "extends",
        "include",
        "import",
        "from",
        "raw",
        "endraw",
        "autoescape",
        "endautoescape",
        "do",
        "break",
        "continue",
    )
)
# What may follow a name in an expression: ``{{ x if y else z }}``, ``{{ a and b }}``.
_OPERATOR_WORDS = frozenset(("if", "else", "and", "or", "not", "in", "is"))
_SMART_SPLIT = re.compile(r"""(?:[^\s'"]*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')[^\s'"]*)+|\S+""")
ERROR_TAG = "grove_template_error"


class TemplateErrorTag(Extension):
    """``{% grove_template_error "message" %}``: a syntax error at that line of the template.

    The rewrite puts it where oTree's tag was malformed, so Jinja2 reports the message with
    the template's file name and line.
    """

    tags = {ERROR_TAG}

    def parse(self, parser: Parser) -> Any:
        lineno = next(parser.stream).lineno
        message = parser.parse_expression()
        text = message.value if isinstance(message, jinja2.nodes.Const) else "template error"
        parser.fail(str(text), lineno)


class ForLoop:
    """oTree's (Django's) ``forloop`` inside ``{{ for }}``: ``forloop.counter`` counts from 1,
    ``forloop.counter0`` from 0."""

    def __init__(self, loop: Any) -> None:
        self._loop = loop  # read when asked: revcounter and last need the loop's length

    counter = property(lambda self: self._loop.index)
    counter0 = property(lambda self: self._loop.index0)
    revcounter = property(lambda self: self._loop.revindex)
    revcounter0 = property(lambda self: self._loop.revindex0)
    first = property(lambda self: self._loop.first)
    last = property(lambda self: self._loop.last)


def _error(message: str) -> str:
    return "{% " + ERROR_TAG + " " + json.dumps(message) + " %}"


def _scan(source: str) -> Iterator[tuple[int, int, str, str]]:
    """Each tag of ``source``: (start, end, opening delimiter, text inside the delimiters).

    An unclosed tag ends the scan; Jinja2 then reports it at its line.
    """
    position = 0
    while (match := _OPENER.search(source, position)) is not None:
        opener = match.group()
        end = source.find(_CLOSERS[opener], match.end())
        if end == -1:
            return
        yield match.start(), end + 2, opener, source[match.end() : end]
        position = end + 2


def _words(body: str) -> tuple[str, str]:
    """The tag's first word and the rest, without Jinja2's whitespace-control marks."""
    text = body.strip()
    if text[:1] in "-+":
        text = text[1:]
    if text[-1:] in "-+":
        text = text[:-1]
    text = text.strip()
    word = text.split(None, 1)[0] if text else ""
    return word, text[len(word) :].strip()


def _field_argument(argument: str) -> str:
    """A field named in ``formfield``/``formfield_errors``, as a Jinja2 expression.

    ``'age'`` is the name; ``player.age`` and ``group.age`` name ``age`` (oTree 3's spelling);
    anything else is an expression (a field from ``{{ for field in form }}``), and a bare name
    that is not defined is read as the field's name.
    """
    if argument[:1] in "'\"":
        return argument
    if re.fullmatch(r"(player|group)\.\w+", argument):
        return repr(argument.split(".", 1)[1])
    if re.fullmatch(r"\w+", argument):
        return f"({argument} if {argument} is defined else {argument!r})"
    return argument


def _formfield(rest: str) -> str:
    arguments = _SMART_SPLIT.findall(rest)
    if not arguments:
        return _error("formfield needs the name of a field: {{ formfield 'my_field' }}")
    if "with" in arguments[1:]:
        return _error(f"formfield: delete the word 'with' (oTree 3's spelling): {rest}")
    if len(arguments) > 2 or (len(arguments) == 2 and not arguments[1].startswith("label=")):
        return _error(
            'formfield takes a field and, optionally, label="..." (without spaces around '
            f"=), not: {rest}"
        )
    call = _field_argument(arguments[0])
    if len(arguments) == 2:
        label = arguments[1][len("label=") :]
        # A label written as a string in the template is the experimenter's HTML, as in oTree;
        # one from an expression is a value, escaped as every {{ expression }} is.
        call += ", label=" + (f"({label}|safe)" if label[:1] in "'\"" else label)
    return "{{ grove_formfield(" + call + ") }}"


def _keyword_args(text: str) -> str:
    """``channel="x" nickname=y`` -> ``channel="x", nickname=y`` (commas already are fine)."""
    text = text.strip()
    if not text or "," in text:
        return text
    pairs = re.findall(r"""(\w+)\s*=\s*((?:"[^"]*")|(?:'[^']*')|[^\s]+)""", text)
    return ", ".join(f"{key}={value}" for key, value in pairs)


_INCLUDE_WITH = re.compile(r"\s+with\s+(?!context\b)")


def _include(word: str, rest: str, app_name: str | None) -> str:
    """``include``/``include_sibling``, with oTree's ``with a=1 & b=x`` giving the included
    template variables of its own."""
    parts = _INCLUDE_WITH.split(rest, maxsplit=1)
    if word == "include_sibling":
        tag = _include_sibling(parts[0], app_name)
    elif parts[0]:
        tag = "{% include " + parts[0] + " %}"
    else:
        tag = _error("include needs a template name: {{ include 'my_app/x.html' }}")
    if len(parts) == 1:
        return tag
    assignments = [chunk.strip() for chunk in parts[1].split("&") if chunk.strip()]
    if not assignments or not all(re.match(r"\w+\s*=", chunk) for chunk in assignments):
        return _error(f"{word}: write with name=value & other=value, not: {parts[1]}")
    return "{% with " + ", ".join(assignments) + " %}" + tag + "{% endwith %}"


def _include_sibling(rest: str, app_name: str | None) -> str:
    if not rest:
        return _error("include_sibling needs a file name: {{ include_sibling 'part.html' }}")
    literal = re.fullmatch(r"""(['"])([^'"]*)\1""", rest)
    if literal and "/" in literal.group(2):
        return _error("include_sibling takes a file name with no folder; use include instead")
    if not app_name:
        return "{% include " + rest + " %}"
    if literal:
        return '{% include "' + app_name + "/" + literal.group(2) + '" %}'
    return '{% include "' + app_name + '/" ~ (' + rest + ") %}"


def _split_outside_strings(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` that is not inside a quoted string."""
    parts, start, quote, index = [], 0, "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif text.startswith(separator, index):
            parts.append(text[start:index])
            start = index + len(separator)
            index = start
            continue
        index += 1
    parts.append(text[start:])
    return parts


def _print_expression(body: str) -> str | None:
    """oTree's own print forms: ``{{ a || b }}`` (``a or b``) and ``{{ t ?? x :: y }}``
    (``x`` if ``t`` else ``y``), as Jinja2; None for any other expression."""
    test_rest = _split_outside_strings(body, "??")
    if len(test_rest) == 2:
        branches = _split_outside_strings(test_rest[1], "::")
        if len(branches) == 2:
            test, (yes, no) = test_rest[0], branches
            return f"{{{{ ({yes.strip()}) if ({test.strip()}) else ({no.strip()}) }}}}"
    alternatives = _split_outside_strings(body, "||")
    if len(alternatives) > 1:
        return "{{ " + " or ".join(part.strip() for part in alternatives) + " }}"
    return None


class _Translator:
    """Rewrites one template's tags; remembers open blocks, so ``empty`` finds its ``for``."""

    def __init__(self, source: str, app_name: str | None) -> None:
        self.source = source
        self.app_name = app_name
        self.open_blocks: list[str] = []
        self.uses_forloop = "forloop" in source
        self.pieces: list[str] = []
        # Where text outside every block is: a page template that extends would lose it.
        self.loose_text: list[int] = []

    def _text(self, text: str) -> None:
        if text.replace("\ufeff", "").strip() and not self.open_blocks:  # a BOM is no text
            self.loose_text.append(len(self.pieces))
        self.pieces.append(text)

    def run(self) -> str:
        source = self.source
        pieces = self.pieces
        position = 0
        tags = list(_scan(source))
        index = 0
        while index < len(tags):
            start, end, opener, body = tags[index]
            original = source[start:end]
            self._text(source[position:start])
            position = end
            index += 1
            word, rest = _words(body)
            if opener == "{#":
                translated: str | None = None
            elif word == "comment":
                closing = self._endcomment(tags, index - 1)
                if closing is not None:
                    # The whole comment goes; its newlines stay, so later lines keep numbers.
                    position = tags[closing][1]
                    index = closing + 1
                    pieces.append("\n" * source[start:position].count("\n"))
                    continue
                translated = _error("comment is not closed by {{ endcomment }}")
            elif opener == "{%" and word not in _OTREE_TAGS:
                translated = self._native(word, rest)
            else:
                translated = self._tag(word, rest, body)
            if translated is None:
                pieces.append(original)
            else:
                # Keep the line count: the tag may have spanned lines.
                pieces.append(translated + "\n" * original.count("\n"))
        self._text(source[position:])
        return "".join(pieces)

    def refuse_loose_text(self) -> str:
        """The template with an error where its first text outside every block is."""
        index = self.loose_text[0]
        text = self.pieces[index]
        indent = len(text) - len(text.lstrip())
        self.pieces[index] = (
            text[:indent]
            + _error(
                "this text is outside every {{ block }}, so the page would not show it: put "
                "it inside {{ block content }} ... {{ endblock }}"
            )
            + text[indent:]
        )
        return "".join(self.pieces)

    @staticmethod
    def _endcomment(tags: list[tuple[int, int, str, str]], opening: int) -> int | None:
        depth = 0
        for index in range(opening, len(tags)):
            if tags[index][2] == "{#":
                continue
            word = _words(tags[index][3])[0]
            depth += {"comment": 1, "endcomment": -1}.get(word, 0)
            if depth == 0:
                return index
        return None

    def _track(self, word: str, rest: str) -> None:
        """Follow which blocks are open (``{% set x %}`` without ``=`` is a block too)."""
        if word in _BLOCK_WORDS or (word == "set" and "=" not in rest):
            self.open_blocks.append(word)
        elif word in _END_WORDS and self.open_blocks and self.open_blocks[-1] == word[3:]:
            self.open_blocks.pop()

    def _for(self, rest: str) -> str:
        tag = "{% for " + rest + " %}"
        if self.uses_forloop:
            tag += "{% set forloop = grove_forloop(loop) %}"
        return tag

    def _native(self, word: str, rest: str) -> str | None:
        """A Jinja2 statement written as ``{% %}``: kept, except that ``for`` gets forloop."""
        if word not in _JINJA_STATEMENTS:
            return _error(f"unknown tag {word!r}" if word else "empty tag {% %}")
        if word == "include" and _INCLUDE_WITH.search(rest):
            return self._tag(word, rest, word + " " + rest)
        self._track(word, rest)
        if word == "for" and self.uses_forloop:
            return self._for(rest)
        return None

    def _tag(self, word: str, rest: str, body: str) -> str | None:
        """Jinja2 for one oTree tag, or None to leave ``{{ ... }}`` as an expression."""
        if word in _BLOCK_WORDS or word == "set":
            if not rest:
                return _error(f"{word} needs more: {{{{ {word} ... }}}}")
            self._track(word, rest)
            return self._for(rest) if word == "for" else "{% " + word + " " + rest + " %}"
        if word in _END_WORDS or word in _MIDDLE_WORDS:
            if word == "else" and rest:
                return _error(f"write {{{{ elif ... }}}}, not {{{{ {body.strip()} }}}}")
            if word == "elif" and not rest:
                return _error("elif needs a condition: {{ elif x }}")
            self._track(word, rest)
            return "{% " + word + (" " + rest if rest else "") + " %}"
        if word == "empty":
            if not self.open_blocks or self.open_blocks[-1] != "for":
                return _error("empty belongs directly inside a for loop")
            return "{% else %}"
        if word == "endcomment":
            return _error("endcomment without a comment before it")
        if word == "load":
            return ""
        if word == "extends":
            if not rest:
                return _error("extends needs a template name: {{ extends 'global/Page.html' }}")
            return "{% extends " + rest + " %}"
        if word in ("include", "include_sibling"):
            return _include(word, rest, self.app_name)
        if word in ("blocktrans", "endblocktrans"):
            return ""  # as in oTree: the text between them is shown as it is
        if word == "trans":
            if len(_SMART_SPLIT.findall(rest)) != 1:
                return _error("trans takes one text: {{ trans 'Hello' }}")
            return "{{ gettext(" + rest + ") }}"
        if word == "back_button":
            return _error(
                "back_button (a page's allow_back_button) is not supported by Grove; remove it"
            )
        if word in ("formfields", "next_button"):
            if rest:
                return _error(f"{word} takes no arguments")
            return "{{ grove_" + word + "() }}"
        if word == "formfield":
            return _formfield(rest)
        if word == "formfield_errors":
            if not rest or len(_SMART_SPLIT.findall(rest)) != 1:
                return _error("formfield_errors takes a field's name: {{ formfield_errors 'x' }}")
            return "{{ grove_formfield_errors(" + _field_argument(rest) + ") }}"
        if word == "static":
            if not rest or len(_SMART_SPLIT.findall(rest)) != 1:
                return _error("static takes one path: {{ static 'my_app/picture.png' }}")
            if "\\" in rest:
                return _error(f'static {rest} contains a backslash ("\\"): use a forward slash')
            return "{{ grove_static(" + rest + ") }}"
        if word == "chat":
            return "{{ grove_chat(" + _keyword_args(rest) + ") }}"
        expression = _print_expression(body)
        if expression is not None:
            return expression
        if (
            re.fullmatch(r"\w+", word)
            and word not in _OPERATOR_WORDS
            and re.match(r"""[\w'"]""", rest)
            and rest.split(None, 1)[0] not in _OPERATOR_WORDS
        ):
            # Two names side by side ({{ frobnicate 'x' }}) is a tag, and not one oTree has.
            return _error(f"unknown tag {word!r}")
        return None


def translate(source: str, app_name: str | None = None, layout: str | None = None) -> str:
    """Rewrite oTree's tags to Jinja2, keeping every newline where it was.

    ``app_name`` is the folder whose siblings ``include_sibling`` includes. With ``layout`` (a
    page's own template), a template without ``extends`` extends it: its blocks fill the
    layout's, or, without blocks, the whole template is the content block.
    """
    translator = _Translator(source, app_name)
    translated = translator.run()
    if layout is None:
        return translated
    extends = "{% extends" in translated
    if not extends and "<html" in translated.lower():
        return translated
    if extends or "{% block" in translated:
        if translator.loose_text:
            # As oTree: a page template's content must be inside a block.
            translated = translator.refuse_loose_text()
        return translated if extends else '{% extends "' + layout + '" %}' + translated
    return '{% extends "' + layout + '" %}{% block content %}' + translated + "{% endblock %}"
