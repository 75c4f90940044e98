"""oTree template syntax -> Jinja2, line numbers kept, autoescaping on."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from server.templating import make_environment, page_template_name, translate
from server.web.context import BUILTIN_TEMPLATES
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
            '{{ grove_formfield("age", label="How old?") }}',
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
