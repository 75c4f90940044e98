"""Page forms: which fields a page shows, validating a submission, and rendering widgets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from server.fields import BooleanField, Field, FieldValueError
from server.project import AppSpec


@dataclass
class BoundField:
    """A field of a page's form, with the value to show and any error."""

    name: str
    field: Field
    label: str
    choices: list[tuple[Any, str]] | None
    minimum: Any
    maximum: Any
    value: Any = None
    error: str | None = None

    @property
    def widget(self) -> str:
        return self.field.widget_name(self.choices is not None)


@dataclass
class PageForm:
    """The form of one page for one player."""

    fields: list[BoundField]
    non_field_error: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> BoundField | None:
        for bound in self.fields:
            if bound.name == name:
                return bound
        return None


def _call_hook(app: AppSpec, name: str, *args: Any) -> Any:
    hook = app.hook(name)
    return hook(*args) if hook is not None else None


def form_field_names(page_cls: type[Any], player: Any) -> list[str]:
    """The page's form fields: ``get_form_fields(player)`` if defined, else ``form_fields``."""
    getter = getattr(page_cls, "get_form_fields", None)
    if callable(getter):
        return list(getter(player))
    return list(getattr(page_cls, "form_fields", []) or [])


def build_form(app: AppSpec, page_cls: type[Any], player: Any, form_object: Any) -> PageForm:
    """The bound form of a page, with the stored values as initial values."""
    model_fields = app.fields_of(type(form_object)) if form_object is not None else {}
    bound_fields: list[BoundField] = []
    for name in form_field_names(page_cls, player):
        model_field = model_fields.get(name)
        if model_field is None:
            raise LookupError(
                f"apps/{app.name}: page {page_cls.__name__} lists form field {name!r}, which "
                f"is not a field of {type(form_object).__name__}"
            )
        dynamic_choices = _call_hook(app, f"{name}_choices", form_object)
        choices = model_field.choices
        if dynamic_choices is not None:
            from server.fields import _normalise_choices

            choices = _normalise_choices(dynamic_choices)
        minimum = _call_hook(app, f"{name}_min", form_object)
        maximum = _call_hook(app, f"{name}_max", form_object)
        bound_fields.append(
            BoundField(
                name=name,
                field=model_field,
                label=model_field.label if model_field.label is not None else name,
                choices=choices,
                minimum=model_field.min if minimum is None else minimum,
                maximum=model_field.max if maximum is None else maximum,
                value=getattr(form_object, name, None),
            )
        )
    return PageForm(bound_fields)


def validate_submission(
    app: AppSpec,
    page_cls: type[Any],
    player: Any,
    form: PageForm,
    submitted: Mapping[str, str],
) -> dict[str, Any] | None:
    """Check a submission; return the clean values, or None with errors set on ``form``."""
    values: dict[str, Any] = {}
    for bound in form.fields:
        raw = submitted.get(bound.name)
        bound.value = raw
        try:
            value = bound.field.clean(raw, bound.choices, bound.minimum, bound.maximum)
        except FieldValueError as exc:
            bound.error = str(exc)
            form.errors[bound.name] = str(exc)
            continue
        bound.value = value
        # Field hooks get the object the field belongs to (player or group), as in oTree.
        owner = player.group if getattr(page_cls, "form_model", None) == "group" else player
        message = _call_hook(app, f"{bound.name}_error_message", owner, value)
        if message:
            bound.error = str(message)
            form.errors[bound.name] = str(message)
            continue
        values[bound.name] = value
    if form.errors:
        return None
    page_message = page_cls.error_message(player, dict(values))
    if isinstance(page_message, dict):
        for name, message in page_message.items():
            bound_field = form.get(name)
            if bound_field is not None:
                bound_field.error = str(message)
            form.errors[name] = str(message)
        return None
    if page_message:
        form.non_field_error = str(page_message)
        return None
    return values


def _attrs(**attributes: Any) -> Markup:
    parts = []
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float) and not isinstance(value, bool):
            # Currency prints "10 points"; an HTML attribute needs the bare number.
            number = float(value)
            value = int(number) if number.is_integer() else number
        parts.append(name if value is True else f'{name}="{escape(value)}"')
    return Markup(" ".join(parts))


def _same(choice_value: Any, current: Any) -> bool:
    if current is None:
        return False
    return str(choice_value) == str(current) or choice_value == current


def render_widget(bound: BoundField) -> Markup:
    """The HTML input(s) of one bound field."""
    name, value, widget = bound.name, bound.value, bound.widget
    required = not bound.field.blank
    if widget in ("RadioSelect", "RadioSelectHorizontal") and bound.choices is not None:
        inline = " grove-inline" if widget == "RadioSelectHorizontal" else ""
        items = []
        for index, (choice_value, label) in enumerate(bound.choices):
            input_id = f"id_{name}_{index}"
            attrs = _attrs(
                type="radio",
                name=name,
                id=input_id,
                value=choice_value,
                checked=_same(choice_value, value),
                required=required,
            )
            items.append(
                Markup('<label class="grove-choice{}" for="{}"><input {}> {}</label>').format(
                    inline, input_id, attrs, label
                )
            )
        return Markup('<div class="grove-radio" id="id_{}">{}</div>').format(
            name, Markup("").join(items)
        )
    if widget == "CheckboxInput":
        attrs = _attrs(type="checkbox", name=name, id=f"id_{name}", checked=bool(value) is True)
        return Markup("<input {}>").format(attrs)
    if bound.choices is not None:
        options = [Markup('<option value="">---------</option>')]
        for choice_value, label in bound.choices:
            options.append(
                Markup("<option {}>{}</option>").format(
                    _attrs(value=choice_value, selected=_same(choice_value, value)), label
                )
            )
        return Markup('<select class="form-select" {}>{}</select>').format(
            _attrs(name=name, id=f"id_{name}", required=required), Markup("").join(options)
        )
    if widget == "Textarea":
        return Markup('<textarea class="form-control" {}>{}</textarea>').format(
            _attrs(name=name, id=f"id_{name}", rows=4, required=required),
            "" if value is None else value,
        )
    kind = bound.field.kind
    input_type = "number" if kind in ("integer", "float", "currency") else "text"
    step = {"integer": "1", "float": "any", "currency": "any"}.get(kind)
    attrs = _attrs(
        type=input_type,
        class_="form-control",
        name=name,
        id=f"id_{name}",
        value="" if value is None else value,
        min=bound.minimum,
        max=bound.maximum,
        step=step,
        required=required,
        maxlength=bound.field.max_length if input_type == "text" else None,
    )
    return Markup("<input {}>").format(attrs)


def render_field(bound: BoundField, label: str | None = None) -> Markup:
    """A field with its label, widget and error message."""
    error = (
        Markup('<div class="grove-error" role="alert">{}</div>').format(bound.error)
        if bound.error
        else Markup("")
    )
    shown_label = bound.label if label is None else label
    if isinstance(bound.field, BooleanField) and bound.widget == "CheckboxInput":
        return Markup('<div class="grove-field{}"><label for="id_{}">{} {}</label>{}</div>').format(
            " has-error" if bound.error else "",
            bound.name,
            render_widget(bound),
            shown_label,
            error,
        )
    return Markup(
        '<div class="grove-field{}"><label class="grove-label" for="id_{}">{}</label>{}{}</div>'
    ).format(
        " has-error" if bound.error else "", bound.name, shown_label, render_widget(bound), error
    )
