"""oTree's template syntax, translated to Jinja2 when a template loads.

oTree writes tags as ``{{ if x }}``, ``{{ formfields }}``, ``{{ block content }}``. The loader
rewrites those to Jinja2 without adding or removing lines, so a template error still names the
right file and line. Native ``{% %}`` tags work unchanged. Autoescaping is always on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from server.currency import Currency

_TAG = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_BLOCK_WORDS = ("block", "if", "elif", "for", "with", "set", "macro", "call", "filter")
_END_WORDS = ("endblock", "endif", "endfor", "endwith", "endmacro", "endcall", "endfilter", "else")
_STRING_ARG = r"""\s*(?P<q>['"])(?P<arg>[^'"]*)(?P=q)"""


def _translate_tag(body: str, app_name: str | None) -> str | None:
    """Jinja2 for one ``{{ ... }}`` oTree tag, or None to leave it as an expression."""
    word = body.split(None, 1)[0] if body.split() else ""
    rest = body[len(word) :].strip()
    if word == "load":
        return ""
    if word == "extends":
        return "{% extends " + rest + " %}"
    if word in ("include",):
        return "{% include " + rest + " %}"
    if word == "include_sibling":
        match = re.fullmatch(_STRING_ARG, rest)
        if match and app_name:
            return '{% include "' + app_name + "/" + match.group("arg") + '" %}'
        return "{% include " + rest + " %}"
    if word in _BLOCK_WORDS and rest:
        if word == "elif" or word == "if" or word == "for" or word == "block":
            return "{% " + word + " " + rest + " %}"
        return "{% " + body + " %}"
    if word in _END_WORDS and not rest:
        return "{% " + word + " %}"
    if word == "formfields" and not rest:
        return "{{ grove_formfields() }}"
    if word == "formfield" and rest:
        return "{{ grove_formfield(" + _formfield_args(rest) + ") }}"
    if word == "formfield_errors" and rest:
        return "{{ grove_formfield_errors(" + _field_name(rest) + ") }}"
    if word == "next_button" and not rest:
        return "{{ grove_next_button() }}"
    if word == "static" and rest:
        return "{{ grove_static(" + rest + ") }}"
    if word == "chat":
        return "{{ grove_chat(" + _keyword_args(rest) + ") }}"
    return None


def _field_name(argument: str) -> str:
    argument = argument.strip()
    if argument[:1] in "'\"":
        return argument
    # {{ formfield player.age }} names the field by attribute.
    return repr(argument.rsplit(".", 1)[-1])


def _formfield_args(rest: str) -> str:
    match = re.match(r"""\s*((?:['"][^'"]*['"])|[\w.]+)\s*(.*)$""", rest, re.DOTALL)
    if not match:
        return repr(rest)
    name, extra = match.group(1), match.group(2).strip()
    kwargs = _keyword_args(extra)
    return _field_name(name) + (", " + kwargs if kwargs else "")


def _keyword_args(text: str) -> str:
    """``label="x" nickname=y`` -> ``label="x", nickname=y`` (already comma-separated is fine)."""
    text = text.strip()
    if not text:
        return ""
    if "," in text:
        return text
    pairs = re.findall(r"""(\w+)\s*=\s*((?:"[^"]*")|(?:'[^']*')|[^\s]+)""", text)
    return ", ".join(f"{key}={value}" for key, value in pairs)


def translate(source: str, app_name: str | None = None) -> str:
    """Rewrite oTree tags to Jinja2, keeping every newline where it was."""

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        translated = _translate_tag(body, app_name)
        if translated is None:
            return match.group(0)
        # Keep the line count: the tag may have spanned lines.
        return translated + "\n" * match.group(0).count("\n")

    translated = _TAG.sub(replace, source)
    if "{% extends" not in translated and "<html" not in translated.lower():
        # A page template without ``extends`` gets the default page layout.
        if "{% block" in translated:
            translated = '{% extends "global/Page.html" %}' + translated
        else:
            translated = (
                '{% extends "global/Page.html" %}{% block content %}'
                + translated
                + "{% endblock %}"
            )
    return translated


class OTreeLoader(jinja2.BaseLoader):
    """Finds templates in the project (``_templates/``, ``apps/``) then in Grove's own."""

    def __init__(self, search_path: list[Path]) -> None:
        self.search_path = [p.resolve() for p in search_path]

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses "..": no escape
        for base in self.search_path:
            path = base.joinpath(*pieces)
            if path.is_file() and base in path.resolve().parents:
                source = path.read_text(encoding="utf-8")
                app_name = pieces[0] if len(pieces) > 1 else None
                mtime = path.stat().st_mtime
                return (
                    translate(source, app_name),
                    str(path),
                    lambda p=path, m=mtime: p.stat().st_mtime == m,
                )
        raise jinja2.TemplateNotFound(template)


def _to_places(places: int) -> Callable[[Any], str]:
    def formatter(value: Any) -> str:
        return f"{float(value):.{places}f}"

    return formatter


def make_environment(
    project_root: Path, builtin_templates: Path, *, auto_reload: bool = True
) -> jinja2.Environment:
    """The Jinja2 environment for a project's templates, autoescaping everything.

    ``auto_reload`` re-reads a template whose file changed (a ``stat`` per render): on for
    development, off in production (OTREE_PRODUCTION), where templates do not change.
    """
    loader = OTreeLoader([project_root / "_templates", project_root / "apps", builtin_templates])
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        auto_reload=auto_reload,
    )
    env.filters.update(
        c=Currency,
        cu=Currency,
        to0=_to_places(0),
        to1=_to_places(1),
        to2=_to_places(2),
        json=lambda value: Markup(json.dumps(value)),
    )
    return env
