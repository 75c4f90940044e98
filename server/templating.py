"""oTree's template syntax, translated to Jinja2 when a template loads.

oTree writes tags as ``{{ if x }}``, ``{{ formfields }}``, ``{{ block content }}``. The loader
rewrites those to Jinja2 without adding or removing lines, so a template error still names the
right file and line. Native ``{% %}`` tags work unchanged. Autoescaping is always on.

What oTree's template language does and Jinja2 does not, Grove adds:

- a page template without ``extends`` gets the page layout; a fragment it includes
  (``{{ include_sibling }}``, ``{{ include }}``) is inserted as it is;
- a method named without parentheses is called (``{{ participant.payoff_plus_participation_fee }}``,
  ``{{ for p in group.get_players }}``), as oTree (like Django) calls it;
- an undefined name or attribute is an error naming the template and line, not an empty string;
- ``|json`` and ``js_vars`` are safe inside ``<script>`` (``<``, ``>``, ``&`` and ``'`` escaped).
"""

from __future__ import annotations

import inspect
import json
import re
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from server.currency import FORMAT, Currency, format_number

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


PAGE_PREFIX = "page:"
WAIT_PAGE_PREFIX = "waitpage:"
_LAYOUTS = {PAGE_PREFIX: "global/Page.html", WAIT_PAGE_PREFIX: "global/WaitPage.html"}


def page_template_name(name: str, *, wait_page: bool = False) -> str:
    """The name under which a page's own template loads with the page layout if it lacks one.

    oTree adds ``extends`` to the template a page renders and to nothing else: a fragment
    included from it, or a template it extends, loads by its plain name, unchanged.
    """
    return (WAIT_PAGE_PREFIX if wait_page else PAGE_PREFIX) + name


def translate(source: str, app_name: str | None = None, layout: str | None = None) -> str:
    """Rewrite oTree tags to Jinja2, keeping every newline where it was.

    With ``layout`` (a page's own template), a template without ``extends`` extends it: its
    blocks fill the layout's, or, without blocks, the whole template is the content block.
    """

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        translated = _translate_tag(body, app_name)
        if translated is None:
            return match.group(0)
        # Keep the line count: the tag may have spanned lines.
        return translated + "\n" * match.group(0).count("\n")

    translated = _TAG.sub(replace, source)
    if layout is None or "{% extends" in translated or "<html" in translated.lower():
        return translated
    if "{% block" in translated:
        return '{% extends "' + layout + '" %}' + translated
    return '{% extends "' + layout + '" %}{% block content %}' + translated + "{% endblock %}"


class OTreeLoader(jinja2.BaseLoader):
    """Finds a template in the first folder of ``search_path`` that has it (project_search_path
    says which folders a project has); a name cannot lead out of its folder."""

    def __init__(self, search_path: list[Path]) -> None:
        self.search_path = [p.resolve() for p in search_path]

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        layout = None
        for prefix, prefix_layout in _LAYOUTS.items():
            if template.startswith(prefix):
                template, layout = template[len(prefix) :], prefix_layout
        pieces = jinja2.loaders.split_template_path(template)  # refuses "..": no escape
        for base in self.search_path:
            path = base.joinpath(*pieces)
            if path.is_file() and base in path.resolve().parents:
                source = path.read_text(encoding="utf-8")
                app_name = pieces[0] if len(pieces) > 1 else None
                mtime = path.stat().st_mtime
                return (
                    translate(source, app_name, layout),
                    str(path),
                    lambda p=path, m=mtime: p.stat().st_mtime == m,
                )
        raise jinja2.TemplateNotFound(template)


def _to_places(places: int) -> Callable[[Any], str]:
    """oTree's ``to0``..``to3`` filters: a number with that many decimals (Python's rounding of
    the float, as oTree's: ``0.125|to2`` is ``0.12``) in the language's separators
    (``1234,50`` in German); a Currency amount printed as points or money with those places."""

    def formatter(value: Any) -> str:
        if isinstance(value, Currency):
            return value.format_places(places)
        return format_number(float(value), places)

    return formatter


def show_number_in_language(value: Any) -> Any:
    """How ``{{ value }}`` prints: a plain float with the language's decimal separator.

    oTree prints ``{{ 2.5 }}`` as ``2,5`` in German. Currency amounts format themselves.
    """
    if type(value) is float and FORMAT.decimal_separator != ".":
        return str(value).replace(".", FORMAT.decimal_separator)
    return value


def script_safe_json(value: Any) -> Markup:
    """``value`` as JSON that is safe inside ``<script>`` and inside HTML attributes.

    ``<``, ``>``, ``&`` and ``'`` are written as ``\\u`` escapes, so a participant's text
    containing ``</script>`` cannot end the script. Values JSON cannot hold (Currency,
    dates) are written as their ``str``.
    """
    return jinja2.utils.htmlsafe_json_dumps(value, dumps=json.dumps, default=str)


def call_method(value: Any) -> Any:
    """Call a bound method that needs no arguments; anything else comes back unchanged.

    This is how oTree's templates read ``{{ player.get_others_in_group }}``: the method is
    called. Classes, plain functions and methods that need arguments are left alone (so
    ``{{ player.method(1) }}`` still works: the parser leaves called attributes alone).
    """
    if isinstance(value, jinja2.Undefined):
        return value
    if not (inspect.ismethod(value) or (inspect.isbuiltin(value) and value.__self__ is not None)):
        return value
    if isinstance(value.__self__, type | types.ModuleType):
        return value
    try:
        inspect.signature(value).bind()
    except (TypeError, ValueError):
        return value
    return value()


class _CallMethodsNamedWithoutParentheses(NodeTransformer):
    """Wrap every ``a.b`` that is not itself being called in ``grove_call_method(a.b)``."""

    def __init__(self) -> None:
        self.callees: set[int] = set()

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        self.callees.add(id(node.node))
        return self.generic_visit(node)

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        visited = self.generic_visit(node)
        if id(node) in self.callees or node.ctx != "load":
            return visited
        return nodes.Call(
            nodes.Name("grove_call_method", "load"), [visited], [], None, None, lineno=node.lineno
        )


class OTreeEnvironment(jinja2.Environment):
    """Jinja2 with oTree's reading of a template: methods named without parentheses are called."""

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        template = super()._parse(source, name, filename)
        transformed = _CallMethodsNamedWithoutParentheses().visit(template)
        assert isinstance(transformed, nodes.Template)
        return transformed


class TemplateRenderError(Exception):
    """A template failed while rendering; the message names the template file and line."""

    def __init__(self, message: str, filename: str | None, lineno: int | None) -> None:
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno


def render_template(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render ``template``; TemplateRenderError naming the file and line if it fails.

    An undefined name (``{{ player.no_such_field }}``) is such an error, as in oTree.
    """
    try:
        return template.render(context)
    except Exception as exc:
        filename, lineno = _template_position(exc)
        where = f"{filename}, line {lineno}" if filename else template.name or "a template"
        raise TemplateRenderError(
            f"{where}: {type(exc).__name__}: {exc}", filename, lineno
        ) from exc


def _template_position(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template frame of a traceback (Jinja2 rewrites frames to template lines)."""
    found: tuple[str | None, int | None] = (None, None)
    trace = exc.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_filename.endswith(".html") or code.co_name in (
            "template",
            "top-level template code",
        ):
            found = (code.co_filename, trace.tb_lineno)
        trace = trace.tb_next
    if found[0] is None and isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename, exc.lineno
    return found


def project_search_path(project_root: Path, app_directories: Iterable[Path] = ()) -> list[Path]:
    """Where a project's templates are, in lookup order: ``_templates/``, ``apps/`` (Grove's
    layout: ``my_app/Page.html`` is ``apps/my_app/Page.html``), the project root (oTree's
    layout) and each app's ``templates/`` folder (oTree 5's ``my_app/templates/my_app/``)."""
    return [
        project_root / "_templates",
        project_root / "apps",
        project_root,
        *(Path(directory) / "templates" for directory in app_directories),
    ]


def make_environment(
    project_root: Path,
    builtin_templates: Path,
    *,
    auto_reload: bool = True,
    app_directories: Iterable[Path] = (),
) -> jinja2.Environment:
    """The Jinja2 environment for a project's templates, autoescaping everything.

    ``app_directories`` are the project's app folders (their ``templates/`` are searched).

    ``auto_reload`` re-reads a template whose file changed (a ``stat`` per render): on for
    development, off in production (OTREE_PRODUCTION), where templates do not change.
    """
    loader = OTreeLoader([*project_search_path(project_root, app_directories), builtin_templates])
    env = OTreeEnvironment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=auto_reload,
        finalize=show_number_in_language,
    )
    env.filters.update(
        c=Currency,
        cu=Currency,
        to0=_to_places(0),
        to1=_to_places(1),
        to2=_to_places(2),
        to3=_to_places(3),
        json=script_safe_json,
    )
    env.globals["grove_call_method"] = call_method
    return env
