"""Page forms: which fields a page shows, validating a submission, and rendering widgets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from server.currency import Currency
from server.fields import (
    BooleanField,
    Field,
    FieldValueError,
    NumberField,
    choice_form_value,
    normalise_choices,
)
from server.i18n import gettext
from server.project import AppSpec


@dataclass(frozen=True)
class FieldLabel:
    """A label in manual rendering, as oTree's: ``{{ form.x.label }}`` prints the whole
    ``<label for="id_x">`` element, ``{{ form.x.label.text }}`` (or ``str()``) the text."""

    text: str
    for_id: str

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return str(Markup('<label for="{}">{}</label>').format(self.for_id, self.text))


@dataclass
class BoundField:
    """A field of a page's form, with the value to show and any error."""

    name: str
    field: Field
    label_text: str
    choices: list[tuple[Any, str]] | None
    minimum: Any
    maximum: Any
    value: Any = None
    error: str | None = None

    @property
    def widget(self) -> str:
        return self.field.widget_name(self.choices is not None)

    @property
    def id(self) -> str:
        return f"id_{self.name}"

    @property
    def label(self) -> FieldLabel:
        """``{{ form.x.label }}``: the label element; ``.text`` is the text alone."""
        return FieldLabel(self.label_text, self.id)

    @property
    def data(self) -> Any:
        """``{{ form.x.data }}``: the value the field shows (stored or just submitted)."""
        return self.value

    @property
    def errors(self) -> list[str]:
        """``{{ for error in form.x.errors }}``: the field's error messages (none or one)."""
        return [self.error] if self.error else []

    def __html__(self) -> str:
        """``{{ form.my_field }}``: the input element(s) alone (oTree's manual rendering)."""
        return str(render_widget(self))

    def __iter__(self) -> Iterator[RadioChoice]:
        """``{{ for choice in form.my_field }}``: each choice's radio button, for custom layouts."""
        for index, (value, label) in enumerate(self.choices or []):
            yield RadioChoice(self, index, value, label)

    def __getitem__(self, index: int) -> RadioChoice:
        """``{{ form.my_field.0 }}``: one choice, by its position."""
        return list(self)[index]


@dataclass(frozen=True)
class RadioChoice:
    """One choice in manual rendering, as oTree's: ``{{ choice }}`` is its radio button
    (an ``<option>`` for a drop-down field), ``{{ choice.label }}`` its ``<label>`` element,
    ``{{ choice.label.text }}`` (or Django's ``choice_label``) the text alone."""

    bound: BoundField
    index: int
    data: Any
    choice_label: str

    @property
    def id(self) -> str:
        return f"id_{self.bound.name}-{self.index}"

    id_for_label = id

    @property
    def label(self) -> FieldLabel:
        return FieldLabel(self.choice_label, self.id)

    @property
    def checked(self) -> bool:
        return _is_current(self.data, self.bound.value)

    @property
    def tag(self) -> Markup:
        """Django's ``{{ choice.tag }}`` (oTree 3): the input alone, as ``{{ choice }}``."""
        return Markup(self.__html__())

    def __html__(self) -> str:
        if self.bound.widget in ("RadioSelect", "RadioSelectHorizontal"):
            return str(_radio_input(self.bound, self.index, self.data))
        return str(_option(self.bound, self.data, self.choice_label))


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

    def __getattr__(self, name: str) -> BoundField:
        """``{{ form.my_field }}`` in a template (oTree's manual field rendering)."""
        if name.startswith("_"):
            raise AttributeError(name)
        bound = self.get(name)
        if bound is None:
            raise AttributeError(f"{name!r} is not a field of this page's form")
        return bound

    def __iter__(self) -> Iterator[BoundField]:
        """``{{ for field in form }}``: the page's fields in order."""
        return iter(self.fields)

    def __getitem__(self, name: str) -> BoundField:
        """``form["my_field"]``, as on oTree's form."""
        bound = self.get(name)
        if bound is None:
            raise KeyError(name)
        return bound

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


def _call_hook(app: AppSpec, name: str, *args: Any) -> Any:
    hook = app.hook(name)
    return hook(*args) if hook is not None else None


def default_label(name: str) -> str:
    """The label of a field without ``label=``: its name in title case (``my_age`` -> ``My Age``),
    as oTree shows it."""
    return name.replace("_", " ").title()


def form_field_names(page_cls: type[Any], player: Any) -> list[str]:
    """The page's form fields: ``get_form_fields(player)`` if defined, else ``form_fields``."""
    getter = getattr(page_cls, "get_form_fields", None)
    if callable(getter):
        return list(getter(player))
    return list(getattr(page_cls, "form_fields", []) or [])


def _bounds(
    app: AppSpec,
    name: str,
    model_field: Field,
    choices: list[tuple[Any, str]] | None,
    form_object: Any,
) -> tuple[Any, Any]:
    """The (min, max) a field's answer must lie within; None for no bound.

    As oTree 6.0.15 measured: a ``<field>_min`` (``_max``) hook, when the app defines one,
    decides alone, so its None means no bound even on a field declared with ``min=2``;
    otherwise the field's own (a number field's ``min`` is 0 unless declared). A field
    with choices, or one that is not a number, has no bounds and its hooks are not called.
    """
    if choices is not None or not isinstance(model_field, NumberField):
        return None, None
    min_hook = app.hook(f"{name}_min")
    max_hook = app.hook(f"{name}_max")
    minimum = min_hook(form_object) if min_hook is not None else model_field.min
    maximum = max_hook(form_object) if max_hook is not None else model_field.max
    return minimum, maximum


def build_form(app: AppSpec, page_cls: type[Any], player: Any, form_object: Any) -> PageForm:
    """The bound form of a page, with the stored values as initial values."""
    model_fields = app.fields_of(type(form_object)) if form_object is not None else {}
    bound_fields: list[BoundField] = []
    for name in form_field_names(page_cls, player):
        model_field = model_fields.get(name)
        if model_field is None:
            raise LookupError(
                f"{app.location}: page {page_cls.__name__} lists form field {name!r}, which "
                f"is not a field of {type(form_object).__name__}"
            )
        dynamic_choices = _call_hook(app, f"{name}_choices", form_object)
        choices = model_field.choices
        if model_field.default_choices:
            # A BooleanField's own Yes/No, in LANGUAGE_CODE's language.
            choices = [(value, gettext(label)) for value, label in choices or []]
        if dynamic_choices is not None:
            choices = normalise_choices(dynamic_choices)
        minimum, maximum = _bounds(app, name, model_field, choices, form_object)
        bound_fields.append(
            BoundField(
                name=name,
                field=model_field,
                # The model's label is the experimenter's HTML, as in oTree (``<b>``, ``<i>``).
                label_text=(
                    Markup(model_field.label)
                    if model_field.label is not None
                    else default_label(name)
                ),
                choices=choices,
                minimum=minimum,
                maximum=maximum,
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
            if exc.read is not None:
                bound.value = exc.read  # shown as read, as oTree does ("11.00" for "11")
            # Grove's own message, in LANGUAGE_CODE's language (an app's own stay as written).
            bound.error = gettext(str(exc))
            form.errors[bound.name] = bound.error
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
    if isinstance(page_message, dict) and page_message:
        page_message = dict(page_message)
        # oTree: the "__all__" key is an error for the whole form, the others name fields.
        whole_form = page_message.pop("__all__", None)
        if whole_form:
            form.non_field_error = str(whole_form)
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


def _auto_submit_default(field: Field) -> Any:
    """What oTree stores in a field a timed-out page left missing or invalid: 0 by type."""
    return {
        "integer": 0,
        "float": 0.0,
        "currency": Currency(0),
        "boolean": False,
    }.get(field.kind, "")


def auto_submitted_values(
    app: AppSpec,
    page_cls: type[Any],
    player: Any,
    form: PageForm,
    submitted: Mapping[str, str],
) -> dict[str, Any]:
    """The values a page submitted by its timeout stores, as oTree 6 does.

    Valid values are kept; a field that is missing or invalid (type, bounds, choices, its
    ``<field>_error_message``) gets its value in the page's ``timeout_submission`` if it has
    one, else 0, 0.0, ``cu(0)``, False or ``""`` by type. A blank field
    left empty stays None (a text field gets ``""``). If the page's ``error_message`` returns
    an error for the whole form, or raises, every field gets its default; field errors it
    returns reset those fields only.
    """
    owner = player.group if getattr(page_cls, "form_model", None) == "group" else player
    values: dict[str, Any] = {}
    invalid: list[str] = []
    for bound in form.fields:
        raw = submitted.get(bound.name)
        try:
            value = bound.field.clean(raw, bound.choices, bound.minimum, bound.maximum)
        except FieldValueError:
            invalid.append(bound.name)
            continue
        if _call_hook(app, f"{bound.name}_error_message", owner, value):
            invalid.append(bound.name)
            continue
        if value is None and bound.field.kind in ("string", "longstring"):
            value = ""
        elif value is None and raw is None:
            continue  # a blank field the submission did not carry keeps its value
        values[bound.name] = value
    try:
        if invalid:
            # oTree asks error_message about the incomplete form: an answer discards it all.
            message = page_cls.error_message(player, {**values, **dict.fromkeys(invalid)})
            whole_form = bool(message)
        else:
            message = page_cls.error_message(player, dict(values))
            whole_form = bool(message) and (
                not isinstance(message, dict) or bool(message.get("__all__"))
            )
            if isinstance(message, dict) and not whole_form:
                invalid = [name for name in message if name in values]
    except Exception:
        whole_form = True
    if whole_form:
        invalid = [bound.name for bound in form.fields]
    # oTree's deprecated (still honoured) Page.timeout_submission: a field's value instead of
    # its type's default.
    chosen = getattr(page_cls, "timeout_submission", None) or {}
    for bound in form.fields:
        if bound.name in invalid:
            values[bound.name] = (
                chosen[bound.name] if bound.name in chosen else _auto_submit_default(bound.field)
            )
    return values


def _html(value: Any) -> str:
    """``value`` as ``Markup.format`` puts it in a template's ``{}``: its own HTML if it has
    some (``__html_format__``, ``__html__``), else its text, escaped. Without the string
    formatter's parsing, which took a tenth of a page GET's rendering."""
    if type(value) is str:
        return str(escape(value))
    if hasattr(value, "__html_format__"):
        shown = value.__html_format__("")
    elif hasattr(value, "__html__"):
        shown = value.__html__()
    else:
        shown = format(value, "")
    return str(escape(shown))


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


class WidgetError(LookupError):
    """A field's widget cannot render it (a radio or select without choices, say)."""


def _is_current(choice_value: Any, current: Any) -> bool:
    """Whether a choice is the field's current value (stored, or just submitted as text)."""
    if current is None:
        return False
    shown = current if isinstance(current, str) else choice_form_value(current)
    return choice_form_value(choice_value) == shown


def _radio_input(bound: BoundField, index: int, choice_value: Any) -> Markup:
    """The radio button of one choice (its value is what clicking it submits)."""
    return Markup("<input {}>").format(
        _attrs(
            class_="form-check-input",
            type="radio",
            name=bound.name,
            id=f"id_{bound.name}-{index}",
            value=choice_form_value(choice_value),
            checked=_is_current(choice_value, bound.value),
            required=not bound.field.blank,
        )
    )


def _choice_inputs(bound: BoundField, choices: list[tuple[Any, str]], inline: bool) -> Markup:
    """Radio buttons in Bootstrap's form-check markup, one per choice."""
    items = []
    for index, (choice_value, label) in enumerate(choices):
        items.append(
            Markup(
                '<div class="form-check{}">{}'
                '<label class="form-check-label" for="id_{}-{}">{}</label></div>'
            ).format(
                " form-check-inline" if inline else "",
                _radio_input(bound, index, choice_value),
                bound.name,
                index,
                label,
            )
        )
    return Markup('<div class="grove-radio" id="id_{}">{}</div>').format(
        bound.name, Markup("").join(items)
    )


def _option(bound: BoundField, choice_value: Any, label: str) -> Markup:
    """One choice of a drop-down list (selected if it is the current value)."""
    return Markup("<option {}>{}</option>").format(
        _attrs(
            value=choice_form_value(choice_value),
            selected=_is_current(choice_value, bound.value),
        ),
        label,
    )


def _select(bound: BoundField, choices: list[tuple[Any, str]]) -> Markup:
    """A drop-down list with an empty first option, so nothing is chosen by default."""
    options = [Markup('<option value="">--------</option>')]
    options.extend(_option(bound, choice_value, label) for choice_value, label in choices)
    return Markup('<select class="form-select" {}>{}</select>').format(
        _attrs(name=bound.name, id=f"id_{bound.name}", required=not bound.field.blank),
        Markup("").join(options),
    )


def render_widget(bound: BoundField) -> Markup:
    """The HTML input(s) of one bound field.

    Every input submits, by a browser's rules, a string ``Field.clean`` reads back as the
    value shown: a choice's ``value`` attribute is ``choice_form_value`` of it. Raises
    WidgetError for a radio or select widget without choices, or a check box on a field
    that is not a BooleanField.
    """
    name, value, widget = bound.name, bound.value, bound.widget
    required = not bound.field.blank
    if widget in ("RadioSelect", "RadioSelectHorizontal", "Select") and bound.choices is None:
        raise WidgetError(
            f"field {name!r} uses widgets.{widget} but has no choices (set choices= or "
            f"define {name}_choices)"
        )
    if widget == "CheckboxInput":
        if not isinstance(bound.field, BooleanField):
            raise WidgetError(
                f"field {name!r}: widgets.CheckboxInput is for a BooleanField, not a "
                f"{type(bound.field).__name__}"
            )
        attrs = _attrs(
            class_="form-check-input",
            type="checkbox",
            name=name,
            id=f"id_{name}",
            value="True",
            checked=value is True or _is_current(True, value),
        )
        return Markup(f"<input {attrs}>")
    if widget in ("RadioSelect", "RadioSelectHorizontal") and bound.choices is not None:
        return _choice_inputs(bound, bound.choices, inline=widget == "RadioSelectHorizontal")
    if bound.choices is not None and widget not in ("TextInput", "Textarea"):
        return _select(bound, bound.choices)
    if widget == "Textarea":
        return Markup('<textarea class="form-control" {}>{}</textarea>').format(
            _attrs(name=name, id=f"id_{name}", rows=4, required=required),
            "" if value is None else value,
        )
    field = bound.field
    if isinstance(field, NumberField):
        # oTree's input per field (see NumberInput): a browser then accepts "2,5" where the
        # server does, and the phone keyboard has a minus sign whenever one may be typed.
        number = field.number_input()
        minimum = bound.minimum
        non_negative = isinstance(minimum, int | float) and minimum >= 0
        attrs = _attrs(
            type=number.type,
            class_="form-control",
            inputmode=number.inputmode if non_negative else None,
            name=name,
            id=f"id_{name}",
            value=field.form_text(value),
            min=minimum,
            max=bound.maximum,
            required=required,
        )
        unit = field.unit_label()
        if unit is None:
            return Markup(f"<input {attrs}>")
        return Markup(
            f'<div class="input-group grove-number"><input {attrs}>'
            f'<span class="input-group-text">{_html(unit)}</span></div>'
        )
    attrs = _attrs(
        type="text",
        class_="form-control",
        name=name,
        id=f"id_{name}",
        value="" if value is None else value,
        required=required,
        maxlength=field.max_length,
    )
    return Markup(f"<input {attrs}>")


def render_field(bound: BoundField, label: str | FieldLabel | None = None) -> Markup:
    """A field with its label, widget and error message, in Bootstrap's form markup."""
    if isinstance(label, FieldLabel):
        label = label.text  # {{ formfield x label=form.y.label }}: its text, not its element
    # data-grove-error-field names the field, for bots' SubmissionMustFail(error_fields=...).
    name = _html(bound.name)
    error = (
        '<div class="invalid-feedback d-block grove-error form-control-errors" '
        f'data-grove-error-field="{name}" role="alert">{_html(bound.error)}</div>'
        if bound.error
        else ""
    )
    shown_label = _html(bound.label_text if label is None else label)
    invalid = " has-error" if bound.error else ""
    if bound.widget == "CheckboxInput":
        return Markup(
            f'<div class="mb-3 grove-field form-check{invalid}">{render_widget(bound)}'
            f'<label class="form-check-label" for="id_{name}">{shown_label}</label>{error}</div>'
        )
    return Markup(
        f'<div class="mb-3 grove-field{invalid}"><label class="col-form-label grove-label" '
        f'for="id_{name}">{shown_label}</label><div class="controls">{render_widget(bound)}'
        f"</div>{error}</div>"
    )
