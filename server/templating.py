"""oTree's templates in Jinja2: loading, the rewrite of oTree's tags, rendering.

oTree writes tags as ``{{ if x }}``, ``{{ formfields }}``, ``{% formfield player.age %}``.
The loader rewrites those to Jinja2 (server/template_dialect.py) without adding or removing
lines, so a template error still names the right file and line. Autoescaping is always on.

What oTree's template language does and Jinja2 does not, Grove adds:

- a page template without ``extends`` gets the page layout; a fragment it includes
  (``{{ include_sibling }}``, ``{{ include }}``) is inserted as it is;
- a method named without parentheses is called (``{{ participant.payoff_plus_participation_fee }}``,
  ``{{ for p in group.get_players }}``), as oTree (like Django) calls it;
- an undefined name or attribute is an error naming the template and line, not an empty string;
- ``|json`` and ``js_vars`` are safe inside ``<script>`` (``<``, ``>``, ``&`` and ``'`` escaped).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import re
import sys
import types
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from server import template_dialect
from server.currency import FORMAT, Currency, format_number
from server.json_data import plain_amounts
from server.template_dialect import ForLoop, TemplateErrorTag, translate

PAGE_PREFIX = "page:"
WAIT_PAGE_PREFIX = "waitpage:"
_LAYOUTS = {PAGE_PREFIX: "global/Page.html", WAIT_PAGE_PREFIX: "global/WaitPage.html"}


def page_template_name(name: str, *, wait_page: bool = False) -> str:
    """The name under which a page's own template loads with the page layout if it lacks one.

    oTree adds ``extends`` to the template a page renders and to nothing else: a fragment
    included from it, or a template it extends, loads by its plain name, unchanged.
    """
    return (WAIT_PAGE_PREFIX if wait_page else PAGE_PREFIX) + name


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


@jinja2.pass_eval_context
def show_number_in_language(_eval_context: Any, value: Any) -> Any:
    """How ``{{ value }}`` prints: a plain float with the language's decimal separator.

    oTree prints ``{{ 2.5 }}`` as ``2,5`` in German. Currency amounts format themselves.
    It takes the evaluation context so that it runs when the page renders: Jinja2 would
    otherwise print a literal (``{{ 2.5 }}``) when it compiles, escaped to text first, so
    the float never reached it (``2.5`` in German).
    """
    if type(value) is float and FORMAT.decimal_separator != ".":
        return str(value).replace(".", FORMAT.decimal_separator)
    return value


def script_safe_json(value: Any) -> Markup:
    """``value`` as JSON that is safe inside ``<script>`` and inside HTML attributes.

    ``<``, ``>``, ``&`` and ``'`` are written as ``\\u`` escapes, so a participant's text
    containing ``</script>`` cannot end the script. A Currency is a number as oTree 6.0.15
    writes it (points ``cu(100)``: ``100``; money: ``3.0``); other values JSON cannot hold
    (dates) are written as their ``str``.
    """
    return jinja2.utils.htmlsafe_json_dumps(plain_amounts(value), dumps=json.dumps, default=str)


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


def linebreaks(value: Any) -> Markup:
    """``|linebreaks`` as Django's: a paragraph per blank-line-separated part, ``<br>`` for a
    single newline, the text escaped (unless it is already markup)."""
    text = re.sub(r"\r\n|\r", "\n", str(value) if not hasattr(value, "__html__") else value)
    paragraphs = re.split(r"\n{2,}", text)
    return Markup("\n\n").join(
        Markup("<p>{}</p>").format(escape(part)).replace("\n", Markup("<br>"))
        for part in paragraphs
    )


def default_if_falsy(value: Any, fallback: Any = "") -> Any:
    """oTree's ``|default(x)``: ``x`` when the value is false (``""``, ``0``, ``None``, ``[]``) or
    undefined; Jinja2's own only replaces an undefined value (it stays as ``|d``)."""
    if isinstance(value, jinja2.Undefined):
        return fallback
    return value or fallback


def truncate_characters(value: Any, length: int) -> Any:
    """oTree's ``|truncate_(n)``: the first ``n`` characters, nothing added."""
    return value[:length]


class OTreeEnvironment(jinja2.Environment):
    """Jinja2 with oTree's reading of a template: methods named without parentheses are called,
    ``forloop.counter`` works in loops, and oTree's filters that Jinja2 lacks are there."""

    def __init__(self, **options: Any) -> None:
        options["extensions"] = [*options.get("extensions", ()), TemplateErrorTag]
        super().__init__(**options)
        self.globals["grove_forloop"] = ForLoop
        self.filters.update(
            default=default_if_falsy,
            linebreaks=linebreaks,
            truncate_=truncate_characters,
            # oTree's to0..to4
            **{f"to{places}": _to_places(places) for places in range(5)},
        )

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
        json=script_safe_json,
    )
    env.globals["grove_call_method"] = call_method
    return env


# Where a project's compiled templates are kept between runs (bytecode_cache): beside its
# Python bytecode, in a folder every .gitignore and ``zip`` already leave out.
BYTECODE_CACHE_FOLDER = Path("__pycache__") / "grove_templates"


class _ProjectBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja2's file cache of compiled templates, where a file that cannot be read or written
    is no cache: the template is compiled from its source, as without one."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unpickling a damaged checksum raises errors of many kinds
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


@cache
def _compiler_digest() -> str:
    """What, besides a template's source, decides the code it compiles to: Jinja2's and
    Python's versions, this module and the tag rewrite (the environment's options, its
    extension and the transformer of ``_parse``), and the modules of the filters Jinja2 may
    apply to literals while it compiles (``{{ 0.5|to2 }}``, ``{{ "Next"|gettext }}``: the
    currency's and numbers' formats, the translations, amounts in JSON). 16 hex digits of a
    SHA-256."""
    digest = hashlib.sha256(f"{jinja2.__version__}|{sys.version}".encode())
    here = Path(__file__)
    for module_file in (
        here,
        Path(template_dialect.__file__),
        here.with_name("currency.py"),
        here.with_name("i18n.py"),
        here.with_name("json_data.py"),
    ):
        digest.update(module_file.read_bytes())
    return digest.hexdigest()[:16]


def bytecode_cache(project_root: Path) -> jinja2.BytecodeCache | None:
    """A cache of the project's compiled templates in ``<root>/__pycache__/grove_templates/``
    (None when that folder cannot be made, as in a read-only project).

    A template is compiled once, not at every run that renders it (about 1.5 ms a template).
    Jinja2 keys each file by the template's name and path and keeps the SHA-1 of the source
    it was compiled from: a changed template (or a changed rewrite of oTree's tags, which
    changes the source Jinja2 sees) is compiled afresh. The file names carry
    ``_compiler_digest``, so a Grove, Jinja2 or Python that would compile differently never
    reads another's files, and ``_printing_digest``, so neither do runs under other currency
    or language settings (read now: call it after the project's settings are applied).
    Python's ``PYTHONDONTWRITEBYTECODE`` is about Python's modules and does not turn it off.
    """
    folder = project_root / BYTECODE_CACHE_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        digest = _compiler_digest()
    except OSError:
        return None
    return _ProjectBytecodeCache(str(folder), f"{digest}-{_printing_digest()}-%s.cache")


def _printing_digest() -> str:
    """What else the compiled code holds: Jinja2 computes an expression of literals when it
    compiles (``{{ 10|c }}``, ``{{ 0.5|to2 }}``, ``{{ "Next"|gettext }}`` are text in the
    code), printed as the project's currency and language settings (``FORMAT``) print it
    then. 8 hex digits of a SHA-256 of those settings, so a run under other settings (say
    ``USE_POINTS = False`` since the last run) compiles afresh."""
    return hashlib.sha256(repr(FORMAT).encode()).hexdigest()[:8]
