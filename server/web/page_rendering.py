"""Rendering a participant's page: the template context and oTree's template tags."""

from __future__ import annotations

import time
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse

from server import flow
from server.forms import PageForm, render_field
from server.models.core import Participant
from server.project import PageEntry
from server.templating import page_template_name, script_safe_json
from server.web.context import Grove


@jinja2.pass_context
def _formfields(context: jinja2.runtime.Context) -> Markup:
    form: PageForm | None = context.get("form")
    if form is None:
        return Markup("")
    return Markup("").join(render_field(bound) for bound in form.fields)


@jinja2.pass_context
def _formfield(context: jinja2.runtime.Context, name: str, label: str | None = None) -> Markup:
    form: PageForm | None = context.get("form")
    bound = form.get(name) if form is not None else None
    if bound is None:
        raise jinja2.TemplateRuntimeError(f"formfield {name!r} is not in this page's form_fields")
    return render_field(bound, label)


@jinja2.pass_context
def _formfield_errors(context: jinja2.runtime.Context, name: str) -> Markup:
    form: PageForm | None = context.get("form")
    bound = form.get(name) if form is not None else None
    if bound is None or not bound.error:
        return Markup("")
    return Markup('<div class="grove-error">{}</div>').format(bound.error)


def _next_button() -> Markup:
    # otree-btn-next is the class oTree documents for styling the button.
    return Markup(
        '<button type="submit" class="otree-btn-next btn btn-primary grove-next">Next</button>'
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


def _template_for(grove: Grove, entry: PageEntry) -> str:
    """The page's own template, loaded so that it gets the page layout if it has none."""
    explicit = getattr(entry.page_cls, "template_name", None)
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


def _page_hooks_context(page_cls: type[Any], player: Any) -> dict[str, Any]:
    """``vars_for_template`` and ``js_vars`` of a page or wait page (oTree calls both)."""
    context = dict(page_cls.vars_for_template(player) or {})
    context["js_vars"] = script_safe_json(page_cls.js_vars(player) or {})
    return context


def base_context(
    grove: Grove, participant: Participant, entry: PageEntry, player: Any
) -> dict[str, Any]:
    """The names every page template can use."""
    app = grove.project.apps[entry.app_name]
    return {
        "player": player,
        "group": player.group,
        "subsession": player.subsession,
        "participant": participant,
        "session": participant.session,
        "C": app.constants,
        "Constants": app.constants,
        "page_url": flow.page_url(grove.project, participant, entry),
        "page_index": entry.index,
        "page_name": entry.page_name,
        "round_number": entry.round_number,
        "num_pages": len(flow.page_sequence_of(grove.project, participant)),
    }


def render_page(
    grove: Grove,
    participant: Participant,
    entry: PageEntry,
    player: Any,
    form: PageForm | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a (non-wait) page with its form, vars_for_template, js_vars and timer."""
    context = base_context(grove, participant, entry, player)
    page_cls = entry.page_cls
    if form is None:
        form = flow.page_form(grove.project, entry, player)
    context["form"] = form
    context.update(_page_hooks_context(page_cls, player))
    deadline = participant.page_deadline
    context["timer_seconds_left"] = (
        None if deadline is None else max(0.0, round(deadline - time.time(), 1))
    )
    context["timer_text"] = getattr(page_cls, "timer_text", "")
    return grove.render(_template_for(grove, entry), context, status_code)


def render_wait_page(
    grove: Grove, participant: Participant, entry: PageEntry, player: Any
) -> HTMLResponse:
    """Render a wait page that polls until its group is complete."""
    context = base_context(grove, participant, entry, player)
    context.update(_page_hooks_context(entry.page_cls, player))
    context["title_text"] = entry.page_cls.title_text
    context["body_text"] = entry.page_cls.body_text
    context["status_url"] = context["page_url"] + "/status"
    return grove.render(_template_for(grove, entry), context)
