"""Read an HTML form the way a browser does, and submit it the way a browser would.

Bots and tests fill the form a page actually renders, so a page whose radio buttons have no
``value`` (a browser then submits ``on``) or whose options submit the wrong string is caught
where a participant would meet it. Browser rules (HTML's "constructing the entry list"):

- a text, number, hidden or other ``<input>`` submits its ``value`` (``""`` if absent);
- a radio button or check box submits only when checked, its ``value`` or ``on`` if absent;
- a ``<select>`` submits its selected option's ``value`` (its text if the option has no
  ``value``), the first option when none is marked selected;
- a ``<textarea>`` submits its text;
- disabled controls, controls without a name, and buttons other than the submitter submit
  nothing; the submitter (the submit button clicked) submits its ``value`` when it has a
  name, so a page can take a field's value from the button clicked (oTree's sample prisoner's
  dilemma: ``<button name="cooperate" value="True">``). A disabled submit button may be
  clicked: the page's JavaScript enables it (oTree's bots take it as a button too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

_NO_SUBMIT_TYPES = ("submit", "button", "reset", "image", "file")


class FormFillError(ValueError):
    """A value cannot be entered in the form as a participant could (no such control or choice)."""


@dataclass
class Option:
    """One choice of a radio group or a select: what it submits and what the participant reads."""

    value: str
    label: str
    selected: bool = False


@dataclass
class Control:
    """One named control: an input, a select or a text area."""

    tag: str
    type: str
    name: str
    value: str | None = None
    checked: bool = False
    disabled: bool = False
    required: bool = False
    id: str | None = None
    text: str = ""
    options: list[Option] = field(default_factory=list)


@dataclass
class HtmlForm:
    """A parsed ``<form>``: its attributes and controls in document order."""

    attributes: dict[str, str]
    controls: list[Control] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str | None:
        return self.attributes.get("action")

    def has_submit_button(self) -> bool:
        """Whether the form holds a button that submits it (a participant can leave the page).

        A disabled one counts, as in oTree 6.0.15's bots (MissingHtmlButtonError looks for the
        tag, not its state): pages commonly disable their Next button until their JavaScript
        enables it (a timer, a slider moved)."""
        return any(_submits(c) for c in self.controls)

    def names(self) -> list[str]:
        """The names of the form's controls, each once, in document order."""
        return list(dict.fromkeys(c.name for c in self.controls if c.name))

    def controls_named(self, name: str) -> list[Control]:
        return [c for c in self.controls if c.name == name]

    def kind(self, name: str) -> str:
        """``radio``, ``checkbox``, ``select``, ``textarea`` or the input's type."""
        controls = self.controls_named(name)
        if not controls:
            raise FormFillError(f"the form has no control named {name!r}")
        first = controls[0]
        return first.tag if first.tag in ("select", "textarea") else first.type

    def choices(self, name: str) -> list[Option]:
        """What a participant can pick for a radio group or select, empty options left out.

        Each option's label is the text the participant reads (a radio's ``<label for>``).
        """
        controls = self.controls_named(name)
        if not controls:
            raise FormFillError(f"the form has no control named {name!r}")
        if controls[0].tag == "select":
            return [o for o in controls[0].options if o.value != ""]
        return [
            Option(
                value=c.value if c.value is not None else "on",
                label=self.labels.get(c.id or "", ""),
                selected=c.checked,
            )
            for c in controls
            if c.type == "radio"
        ]

    def _names_buttons(self, name: str) -> bool:
        """Whether ``name`` is a name of submit buttons only (its value is the one clicked)."""
        controls = self.controls_named(name)
        return any(_submits(c) for c in controls) and all(
            c.tag == "button" or c.type in _NO_SUBMIT_TYPES for c in controls
        )

    def _submitter(self, name: str, value: str) -> Control:
        """The submit button named ``name`` whose value is ``value``: the one a participant
        clicks to enter that value. FormFillError if the page has none. A disabled one counts,
        as for ``has_submit_button`` (the page's JavaScript enables it; oTree 6.0.15's bot
        posts the choice)."""
        buttons = [c for c in self.controls_named(name) if _submits(c)]
        for button in buttons:
            if (button.value or "") == value:
                return button
        offered = [button.value or "" for button in buttons]
        raise FormFillError(
            f"{name}: the page offers no submit button with the value {value!r} "
            f"(its buttons submit {offered})"
        )

    def has_empty_option(self, name: str) -> bool:
        """Whether the select ``name`` has an option submitting "" (a blank field's
        ``--------``, which a participant can leave selected)."""
        controls = self.controls_named(name)
        return bool(controls) and any(o.value == "" for o in controls[0].options)

    def submission(
        self, values: Mapping[str, str | bool | None] | None = None
    ) -> list[tuple[str, str]]:
        """The (name, value) pairs a browser sends after the participant entered ``values``.

        ``values`` maps a name to the text typed (inputs, text areas), the ``value`` of the
        radio button or option clicked (radios, selects) or of the submit button clicked (a
        name only submit buttons carry), or True/False for a check box.
        A value with no control or no matching choice raises FormFillError: a participant
        could not have entered it.
        """
        entered = dict(values or {})
        unknown = [name for name in entered if not self.controls_named(name)]
        if unknown:
            raise FormFillError(f"the form has no control named {unknown[0]!r}")
        submitter: Control | None = None
        for name, value in entered.items():
            if self._names_buttons(name):
                if submitter is not None:
                    raise FormFillError(
                        f"{name}: a participant clicks one submit button, and the value of "
                        f"{submitter.name!r} is given too"
                    )
                submitter = self._submitter(name, _text(value))
            elif self.kind(name) in ("radio", "select") and value is not None:
                offered = [o.value for o in self.choices(name)]
                if str(value) not in offered and not (
                    str(value) == "" and self.has_empty_option(name)
                ):
                    raise FormFillError(
                        f"{name}: the page offers no choice submitting {value!r} "
                        f"(it offers {offered})"
                    )
        pairs: list[tuple[str, str]] = []
        for control in self.controls:
            if not control.name:
                continue
            if control.disabled and control is not submitter and control.name not in entered:
                # A browser sends no disabled control. One the bot enters a value in was
                # enabled by the page's script first (as oTree 6.0.15's bots take it).
                continue
            name = control.name
            given = entered.get(name, _UNSET)
            if control.tag == "select":
                pairs.extend(_select_pairs(control, given))
            elif control.tag == "textarea":
                pairs.append((name, control.text if given is _UNSET else _text(given)))
            elif control.tag == "button" or control.type in _NO_SUBMIT_TYPES:
                if control is submitter:
                    pairs.append((name, control.value or ""))
            elif control.type == "radio":
                own = control.value if control.value is not None else "on"
                chosen = control.checked if given is _UNSET else own == _text(given)
                if chosen:
                    pairs.append((name, own))
            elif control.type == "checkbox":
                ticked = control.checked if given is _UNSET else bool(given)
                if ticked:
                    pairs.append((name, control.value if control.value is not None else "on"))
            else:
                pairs.append((name, (control.value or "") if given is _UNSET else _text(given)))
        return pairs


_UNSET: Any = object()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _select_pairs(control: Control, given: Any) -> list[tuple[str, str]]:
    if not control.options:
        return []
    if given is not _UNSET:
        return [(control.name, _text(given))]
    chosen = next((o for o in control.options if o.selected), control.options[0])
    return [(control.name, chosen.value)]


# The controls a form holds, and the type each has when its ``type`` attribute is missing.
_DEFAULT_TYPES = {"input": "text", "button": "submit", "select": "select", "textarea": "textarea"}


def _control(tag: str, attributes: dict[str, str | None]) -> Control:
    """A control from its start tag (selects and text areas have no ``type`` attribute)."""
    kind = _DEFAULT_TYPES[tag]
    if tag in ("input", "button"):
        kind = (attributes.get("type") or kind).lower()
    return Control(
        tag=tag,
        type=kind,
        name=attributes.get("name") or "",
        value=attributes.get("value") if tag in ("input", "button") else None,
        checked="checked" in attributes,
        disabled="disabled" in attributes,
        required="required" in attributes,
        id=attributes.get("id"),
    )


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self._form: HtmlForm | None = None
        self._select: Control | None = None
        self._option: tuple[dict[str, str | None], list[str]] | None = None
        self._textarea: Control | None = None
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._labels: dict[str, str] = {}
        # Controls whose form attribute names their form (HTML's form-associated elements):
        # theirs wherever they stand, given to it once the whole page is read.
        self._owned: list[tuple[str, Control]] = []
        # Whether a submit button stands anywhere on the page, in a form or not.
        self.any_submit_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._form = HtmlForm({k: v or "" for k, v in attributes.items()})
            self.forms.append(self._form)
        elif tag == "label":
            self._label_for = attributes.get("for") or ""
            self._label_text = []
        elif tag in _DEFAULT_TYPES:
            control = _control(tag, attributes)
            self.any_submit_button |= _submits(control)
            owner = attributes.get("form")
            if owner is not None:
                self._owned.append((owner, control))
            else:
                self._add(control)
            if tag == "select":
                self._select = control
            elif tag == "textarea":
                self._textarea = control
        elif tag == "option" and self._select is not None:
            self._finish_option()
            self._option = (attributes, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "label" and self._label_for is not None:
            if self._label_for:
                self._labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None
        elif tag == "option":
            self._finish_option()
        elif tag == "select":
            self._finish_option()
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # A browser drops one newline right after <textarea>.
            text = self._textarea.text
            self._textarea.text = text[1:] if text.startswith("\n") else text
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self._label_text.append(data)
        if self._option is not None:
            self._option[1].append(data)
        if self._textarea is not None:
            self._textarea.text += data

    def _finish_option(self) -> None:
        if self._option is None or self._select is None:
            return
        attributes, text_parts = self._option
        text = " ".join("".join(text_parts).split())
        value = attributes.get("value")
        self._select.options.append(
            Option(
                value=text if value is None else value,
                label=text,
                selected="selected" in attributes,
            )
        )
        self._option = None

    def _add(self, control: Control) -> None:
        if self._form is not None:
            self._form.controls.append(control)

    def close(self) -> None:
        super().close()
        by_id = {form.attributes.get("id"): form for form in reversed(self.forms)}
        for owner, control in self._owned:
            if owner in by_id:
                by_id[owner].controls.append(control)
        for form in self.forms:
            form.labels = dict(self._labels)


def _submits(control: Control) -> bool:
    return control.type == "submit" and control.tag in ("button", "input")


def has_any_submit_button(html: str) -> bool:
    """Whether a submit button stands anywhere on the page, in its form or not: what
    oTree 6.0.15's bots look for before they submit a page (MissingHtmlButtonError), since a
    page may submit its form from a button of its own layout (``form="form"``, or its
    JavaScript)."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.any_submit_button


def parse_forms(html: str) -> list[HtmlForm]:
    """Every ``<form>`` of a page, with its controls and the page's ``<label for>`` texts."""
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def page_form(html: str, form_id: str = "form") -> HtmlForm:
    """The participant page's form (``id="form"``, as oTree's layout names it)."""
    for form in parse_forms(html):
        if form.attributes.get("id") == form_id:
            return form
    raise FormFillError(f'the page has no <form id="{form_id}">')


def pairs_to_dict(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A submission as a dict (the last value of a repeated name wins, as Starlette reads it)."""
    return dict(pairs)
