"""oTree template syntax -> Jinja2, line numbers kept, autoescaping on."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from server.http.context import BUILTIN_TEMPLATES
from server.templating import make_environment, page_template_name, translate
from server.web.page_rendering import install_template_tags


@pytest.mark.parametrize(
    ("otree", "jinja"),
    [
        ('{{ extends "global/Page.html" }}', '{% extends "global/Page.html" %}'),
        ("{{ block content }}x{{ endblock }}", "{% block content %}x{% endblock %}"),
        ("{{ formfields }}", "{{ grove_formfields() }}"),
        ("{{ formfield 'age' }}", "{{ grove_formfield('age') }}"),
        ("{{ formfield player.age }}", "{{ grove_formfield('age') }}"),
        (
            '{{ formfield "age" label="How old?" }}',
            '{{ grove_formfield("age", label=("How old?"|safe)) }}',
        ),
        ("{{ next_button }}", "{{ grove_next_button() }}"),
        ("{{ include_sibling 'part.html' }}", '{% include "survey/part.html" %}'),
        (
            "{{ if a }}1{{ elif b }}2{{ else }}3{{ endif }}",
            "{% if a %}1{% elif b %}2{% else %}3{% endif %}",
        ),
        ("{{ for x in xs }}{{ x }}{{ endfor }}", "{% for x in xs %}{{ x }}{% endfor %}"),
        ("{{ static 'img/a.png' }}", "{{ grove_static('img/a.png') }}"),
        ("{{ load otree }}", ""),
        ("{{ player.payoff }}", "{{ player.payoff }}"),
        ("{% if x %}native{% endif %}", "{% if x %}native{% endif %}"),
    ],
)
def test_tags_translate(otree, jinja):
    wrapped = '{% extends "global/Page.html" %}'
    assert translate(wrapped + otree, "survey") == wrapped + jinja


def test_page_template_without_extends_gets_the_page_layout():
    translated = translate("<p>{{ x }}</p>", layout="global/Page.html")
    assert translated.startswith('{% extends "global/Page.html" %}{% block content %}')


def test_an_included_fragment_is_inserted_as_it_is():
    assert translate("<p>{{ x }}</p>", "survey") == "<p>{{ x }}</p>"


def test_line_numbers_are_kept():
    source = "{{ block content }}\n{{ formfield\n 'age' }}\n{{ if x }}\n"
    assert translate(source).count("\n") == source.count("\n")


def _environment(tmp_path: Path) -> jinja2.Environment:
    env = make_environment(tmp_path, BUILTIN_TEMPLATES)
    install_template_tags(env)
    return env


def test_template_error_names_file_and_line(tmp_path):
    app_dir = tmp_path / "apps" / "demo_app"
    app_dir.mkdir(parents=True)
    (app_dir / "Broken.html").write_text(
        "{{ block title }}T{{ endblock }}\n{{ block content }}\n"
        "<p>ok</p>\n{{ for x }}\n{{ endblock }}\n"
    )
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        _environment(tmp_path).get_template("demo_app/Broken.html")
    assert caught.value.filename.endswith("apps/demo_app/Broken.html")
    assert caught.value.lineno == 4


def test_autoescape_and_no_path_escape(tmp_path):
    env = _environment(tmp_path)
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "x.html").write_text("<html>{{ value }}</html>")
    assert env.get_template("x.html").render(value="<b>") == "<html>&lt;b&gt;</html>"
    with pytest.raises(jinja2.TemplateNotFound):
        env.get_template("../settings.py")


def test_project_can_override_global_page(tmp_path):
    (tmp_path / "_templates" / "global").mkdir(parents=True)
    (tmp_path / "_templates" / "global" / "Page.html").write_text(
        "<html>CUSTOM {% block content %}{% endblock %}</html>"
    )
    (tmp_path / "apps" / "a").mkdir(parents=True)
    (tmp_path / "apps" / "a" / "P.html").write_text("{{ block content }}hello{{ endblock }}")
    page = _environment(tmp_path).get_template(page_template_name("a/P.html"))
    assert page.render() == "<html>CUSTOM hello</html>"


# Measured on oTree 6.0.15 with LANGUAGE_CODE "en" and "de": the to0..to3 filters round the
# float as Python does (0.125 -> 0.12), and {{ x }} prints a float with the language's comma.
@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", 0.125, ["0", "0.1", "0.12", "0.125"]),
        ("en", 2.675, ["3", "2.7", "2.67", "2.675"]),
        ("en", 1234.5, ["1234", "1234.5", "1234.50", "1234.500"]),
        ("en", 3, ["3", "3.0", "3.00", "3.000"]),
        ("en", -0.5, ["-0", "-0.5", "-0.50", "-0.500"]),
        ("de", 0.125, ["0", "0,1", "0,12", "0,125"]),
        ("de", 1234.5, ["1234", "1234,5", "1234,50", "1234,500"]),
        ("de", -0.5, ["-0", "-0,5", "-0,50", "-0,500"]),
    ],
)
def test_to_places_filters_as_otree(tmp_path, language, value, expected):
    from server.currency import configure_currency

    configure_currency(True, "USD", language_code=language)
    try:
        env = _environment(tmp_path)
        shown = [env.from_string(f"{{{{ x|to{p} }}}}").render(x=value) for p in range(4)]
    finally:
        configure_currency(True, "USD")
    assert shown == expected


def test_floats_print_with_the_languages_decimal_separator(tmp_path):
    from server.currency import Currency, configure_currency

    configure_currency(True, "USD", language_code="de")
    try:
        env = _environment(tmp_path)
        shown = env.from_string("{{ x }} {{ y }} {{ z }} {{ w }}").render(
            x=2.5, y=1 / 3, z=Currency(2), w=3
        )
    finally:
        configure_currency(True, "USD")
    assert shown == "2,5 0,3333333333333333 2 Punkte 3"
