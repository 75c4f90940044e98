"""Rendering a participant's page: the template context and oTree's template tags."""

from __future__ import annotations

import inspect
from typing import Any

import jinja2
from markupsafe import Markup, escape

from server.forms import BoundField, PageForm, render_field
from server.http.context import Grove
from server.i18n import gettext
from server.participant_pages import PageRenderer
from server.project import PageEntry
from server.templating import page_template_name, render_template, script_safe_json
from server.web.debug_panel import with_debug_panel


@jinja2.pass_context
def _formfields(context: jinja2.runtime.Context) -> Markup:
    form: PageForm | None = context.get("form")
    if form is None:
        return Markup("")
    return Markup("").join(render_field(bound) for bound in form.fields)


def _bound_field(context: jinja2.runtime.Context, field: Any, tag: str) -> BoundField:
    """The form field a tag names: by name (``'age'``), or the field itself (``{{ for field in
    form }}{{ formfield field }}``). TemplateRuntimeError if the page's form has no such field."""
    if isinstance(field, BoundField):
        return field
    form: PageForm | None = context.get("form")
    bound = form.get(field) if form is not None and isinstance(field, str) else None
    if bound is None:
        raise jinja2.TemplateRuntimeError(f"{tag} {field!r} is not in this page's form_fields")
    return bound


@jinja2.pass_context
def _formfield(context: jinja2.runtime.Context, field: Any, label: str | None = None) -> Markup:
    return render_field(_bound_field(context, field, "formfield"), label)


@jinja2.pass_context
def _formfield_errors(context: jinja2.runtime.Context, field: Any) -> Markup:
    bound = _bound_field(context, field, "formfield_errors")
    if not bound.error:
        return Markup("")
    # form-control-errors is oTree's class for it.
    return Markup(
        '<div class="grove-error form-control-errors" data-grove-error-field="{}">{}</div>'
    ).format(bound.name, bound.error)


def _next_button() -> Markup:
    # otree-btn-next is the class oTree documents for styling the button.
    return Markup(
        '<button type="submit" class="otree-btn-next btn btn-primary grove-next">'
        f"{escape(gettext('Next'))}</button>"
    )


def _static(path: str) -> str:
    return "/static/" + str(path).lstrip("/")


@jinja2.pass_context
def _chat(context: jinja2.runtime.Context, channel: Any = None, nickname: Any = None) -> Markup:
    renderer = context.environment.globals.get("grove_chat_renderer")
    if callable(renderer):
        return renderer(context, channel=channel, nickname=nickname)
    return Markup("")


def install_template_tags(env: jinja2.Environment) -> None:
    """Register the functions oTree's tags translate to."""
    env.globals.update(
        grove_formfields=_formfields,
        grove_formfield=_formfield,
        grove_formfield_errors=_formfield_errors,
        grove_next_button=_next_button,
        grove_static=_static,
        grove_chat=_chat,
    )


_PAGE_ATTRIBUTES = ("player", "group", "subsession", "participant", "session", "round_number")


_TEMPLATE_NAME_METHODS: dict[type, Any] = {}


def _get_template_name_of(page_cls: type) -> Any:
    """The page class's own ``get_template_name`` as defined (a staticmethod stays one), or
    None; looked up once per class (``inspect.getattr_static`` on every GET was a tenth of
    the render's own work). A development server's reloads make new classes: the cache
    starts over past 1,000."""
    try:
        return _TEMPLATE_NAME_METHODS[page_cls]
    except KeyError:
        pass
    if len(_TEMPLATE_NAME_METHODS) >= 1000:
        _TEMPLATE_NAME_METHODS.clear()
    method = inspect.getattr_static(page_cls, "get_template_name", None)
    _TEMPLATE_NAME_METHODS[page_cls] = method
    return method


def _chosen_template_name(entry: PageEntry, context: dict[str, Any]) -> str | None:
    """The template the page names: ``get_template_name()`` if it defines one (oTree calls it
    on the page, whose ``self.player``, ``self.round_number``... it may read; a staticmethod
    taking ``player`` works too), else ``template_name``."""
    page_cls = entry.page_cls
    method = _get_template_name_of(page_cls)
    if method is None:
        return getattr(page_cls, "template_name", None)
    if isinstance(method, staticmethod):
        name = method.__func__(context["player"])
    else:
        page = object.__new__(page_cls)  # oTree's page instance, without a request
        for attribute in _PAGE_ATTRIBUTES:
            setattr(page, attribute, context[attribute])
        name = page.get_template_name()
    if not isinstance(name, str) or not name:
        raise TypeError(f"{entry.page_name}.get_template_name() must return a template's path")
    return name


def _template_for(grove: Grove, entry: PageEntry, context: dict[str, Any]) -> str:
    """The page's own template, loaded so that it gets the page layout if it has none."""
    explicit = _chosen_template_name(entry, context)
    own = explicit or f"{entry.app_name}/{entry.page_name}.html"
    if entry.is_wait_page:
        candidate = page_template_name(own, wait_page=True)
        try:
            grove.templates.get_template(candidate)
            return candidate
        except jinja2.TemplateNotFound:
            if explicit:
                raise
            return "global/WaitPage.html"
    return page_template_name(own)


def page_renderer(grove: Grove) -> PageRenderer:
    """Renders a participant's page or wait page with the project's templates.

    ``js_vars`` reaches the page as JSON that is safe inside ``<script>``.
    """

    def render(entry: PageEntry, context: dict[str, Any]) -> str:
        context = dict(context)
        context["js_vars"] = script_safe_json(context.get("js_vars") or {})
        template = grove.templates.get_template(_template_for(grove, entry, context))
        html = render_template(template, context)
        if grove.settings.debug_info:
            html = with_debug_panel(html, entry, context)
        return html

    return render
