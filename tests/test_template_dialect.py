"""oTree's template dialect, played over HTTP with tests/projects/dialect.

Expected values are what oTree 6.0.15 renders for the same apps (copied into an oTree
project with ``from otree.api import *``): structure, names and values, not bytes. Two
deliberate differences: Grove escapes what a template prints (oTree 6 does not), and
``|linebreaks`` is Django's (paragraphs and ``<br>``), where oTree 6 keeps a shim that
returns the text unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.bots.html_form import page_form
from server.config import load_settings
from server.fields import IntegerField, StringField
from server.forms import BoundField, PageForm
from server.http.context import BUILTIN_TEMPLATES
from server.templating import make_environment, page_template_name, translate
from server.web.page_rendering import install_template_tags
from tests import databases
from tests.conftest import create_demo_session
from tests.form_filling import Click, fill_and_submit

PROJECT = Path(__file__).parent / "projects" / "dialect"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(load_settings(PROJECT, {"DATABASE_URL": databases.database_url(tmp_path)}))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    app.state.grove.db.dispose()


def _start(client: TestClient, config: str) -> list[str]:
    _code, links = create_demo_session(client, config)
    return [client.get(link, follow_redirects=False).headers["location"] for link in links]


def _by_id(html: str, element_id: str) -> str:
    """The inside of the (not nested) element with that id."""
    match = re.search(r'<(\w+)[^>]* id="' + element_id + r'"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert match, f"no element with id {element_id!r}"
    return match.group(2)


def _stored(client: TestClient, app_name: str) -> object:
    grove = client.app.state.grove  # type: ignore[attr-defined]
    player_cls = grove.project.apps[app_name].player_cls
    with grove.db.read() as db:
        player = db.query(player_cls).one()
        db.expunge(player)
        return player


def test_percent_spelling_of_otrees_tags(client):
    """{% formfield player.x label=".." %}, {% formfield 'x' %}, {% include_sibling %},
    {% static %}, {% load otree static %}, {% comment %}, {% empty %}, {% next_button %}."""
    (url,) = _start(client, "percent")
    html = client.get(url).text
    form = page_form(html)
    assert '<label class="col-form-label grove-label" for="id_age">How old are you?</label>' in html
    assert form.kind("age") == "number"
    assert [o.label for o in form.choices("colour")] == ["Red", "Blue"]
    assert _by_id(html, "part") == "Included from a sibling file, player 1"
    assert '<script id="static-js" src="/static/percent/app.js"></script>' in html
    # Nothing of a comment is shown, and what is inside it is never evaluated.
    assert "commented" not in html
    assert _by_id(html, "items") == "<li>1:a</li><li>2:b</li>"
    assert _by_id(html, "no-items") == "<li>none</li>"
    assert _by_id(html, "native-if") == "yes"
    # oTree's include ... with a=x & b=y, and its shims trans and blocktrans.
    assert _by_id(html, "greeting") == "Hello Ann, 2 items"
    assert _by_id(html, "trans") == "Thank you|Hi a"
    assert form.has_submit_button()
    response = fill_and_submit(client, url, {"age": "30", "colour": Click("Blue")})
    assert response.status_code == 303
    all_fields = response.headers["location"]
    form = page_form(client.get(all_fields).text)
    assert (form.kind("note"), form.kind("agree")) == ("textarea", "checkbox")
    response = fill_and_submit(client, all_fields, {"note": "hi", "agree": True})
    assert response.status_code == 303
    chat_page = client.get(response.headers["location"]).text
    assert 'class="grove-chat"' in chat_page
    player = _stored(client, "percent")
    assert (player.age, player.colour, player.note, player.agree) == (30, "Blue", "hi", True)


def _positions(html: str, ids: list[str]) -> list[int]:
    positions = [html.find(f'id="{element_id}"') for element_id in ids]
    assert -1 not in positions, dict(zip(ids, positions, strict=True))
    return positions


def test_layout_blocks_in_otrees_order(client):
    """global_styles, app_styles, styles in the head; after the layout's own scripts,
    global_scripts, app_scripts, scripts: the project's layout, then the app's, then the page's."""
    first, second = _start(client, "layout")
    html = client.get(first).text
    head_end = html.index("</head>")
    styles = _positions(html, ["global-style", "app-style", "page-style"])
    assert styles == sorted(styles)
    assert styles[-1] < head_end
    bundle = html.index("bootstrap.bundle.min.js")
    scripts = _positions(html, ["global-script", "app-script", "page-script"])
    assert bundle < scripts[0]
    assert scripts == sorted(scripts)
    assert _by_id(html, "content") == "Page content"
    assert "<title>Styled</title>" in html
    wait_url = fill_and_submit(client, first, {}).headers["location"]
    html = client.get(wait_url).text
    assert "grove-wait" in html
    styles = _positions(html, ["wait-app-style", "wait-style"])
    assert styles == sorted(styles)
    assert styles[-1] < html.index("</head>")
    scripts = _positions(html, ["wait-app-script", "wait-script"])
    assert html.index("bootstrap.bundle.min.js") < scripts[0]
    assert scripts == sorted(scripts)
    assert _by_id(html, "wait-body")
    del second


def test_manual_field_rendering_submits_what_is_clicked(client):
    """{{ form.x }}, {{ form.x.label }}, {{ for choice in form.x }}, {{ choice.label }},
    {{ formfield_errors 'x' }}, {{ form.x.errors }},
    {{ for field in form }}{{ formfield field }}{{ endfor }}."""
    (url,) = _start(client, "byhand")
    html = client.get(url).text
    form = page_form(html)
    # oTree: seven bare radio buttons, each named pizza with its choice as value.
    assert [o.value for o in form.choices("pizza")] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert "<label" not in _by_id(html, "scale")
    assert _by_id(html, "pizza-data") == "None"
    assert _by_id(html, "comment-label") == '<label for="id_comment">Anything else?</label>'
    assert _by_id(html, "comment-text") == "Anything else?"
    assert form.kind("comment") == "text"
    assert [(o.value, o.label) for o in form.choices("level")] == [
        ("1", "Low"),
        ("2", "Medium"),
        ("3", "High"),
    ]
    # Radio buttons in a table: each choice's input and its <label for> in their own cells.
    assert '<td class="choice-label"><label for="id_cooperate-0">Defect</label></td>' in html
    assert [(o.value, o.label) for o in form.choices("cooperate")] == [
        ("False", "Defect"),
        ("True", "Cooperate"),
    ]
    actions = {
        "pizza": "-2",
        "comment": "ab",
        "level": Click("Medium"),
        "cooperate": Click("Defect"),
    }
    response = fill_and_submit(client, url, actions)
    assert response.status_code == 200
    html = response.text
    # {{ formfield_errors 'comment' }} is oTree's <div class="form-control-errors">.
    assert re.search(
        r'<div class="[^"]*form-control-errors[^>]*>Write at least three letters<', html
    )
    assert _by_id(html, "comment-errors") == "<li>Write at least three letters</li>"
    assert _by_id(html, "pizza-data") == "-2"
    form = page_form(html)
    assert [o.value for o in form.choices("pizza") if o.selected] == ["-2"]
    assert [o.value for o in form.choices("level") if o.selected] == ["2"]
    assert [o.value for o in form.choices("cooperate") if o.selected] == ["False"]
    response = fill_and_submit(client, url, {**actions, "comment": "thin crust"})
    assert response.status_code == 303
    table = response.headers["location"]
    html = client.get(table).text
    assert '<th><label for="id_offer_1">Offer 1</label></th>' in html
    assert [o.value for o in page_form(html).choices("offer_2")] == ["1", "2", "3"]
    loop = fill_and_submit(client, table, {"offer_1": "3", "offer_2": "1"}).headers["location"]
    html = client.get(loop).text
    assert 'for="id_age">Age</label>' in html
    assert 'for="id_city">City</label>' in html
    assert fill_and_submit(client, loop, {"age": "5", "city": "Bern"}).status_code == 303
    player = _stored(client, "byhand")
    assert (player.pizza, player.comment, player.level, player.cooperate) == (
        -2,
        "thin crust",
        2,
        False,
    )
    assert (player.offer_1, player.offer_2, player.age, player.city) == (3, 1, 5, "Bern")


def test_filters_as_otree(client):
    (url,) = _start(client, "filters")
    html = client.get(url).text
    assert _by_id(html, "linebreaks") == (
        "<p>First line<br>second line</p>\n\n<p>A new paragraph &amp; &lt;b&gt;</p>"
    )
    # oTree's default replaces any false value, not only an undefined one.
    assert _by_id(html, "default") == "none|zero|[1, 2, 3]"
    assert _by_id(html, "escape") == "&lt;b&gt;bold&lt;/b&gt;"
    assert _by_id(html, "safe") == "<b>bold</b>"
    assert _by_id(html, "length") == "3"
    assert _by_id(html, "places") == "3|3.1|3.14|3.142|3.1416"
    assert _by_id(html, "currency") == "5 points|5 points"
    assert _by_id(html, "truncate") == "abc"
    assert _by_id(html, "json") == "[1, 2, 3]"
    # oTree's print forms: the first true of a || b (or "or"), and t ?? yes :: no.
    assert _by_id(html, "or") == "third|second|yes|no"


def test_unknown_tag_is_an_error_naming_file_and_line(client):
    (url,) = _start(client, "faulty")
    response = client.get(url)
    assert response.status_code == 500
    assert "faulty/Unknown.html, line 4" in response.text
    assert "unknown tag &#39;frobnicate&#39;" in response.text


@pytest.mark.parametrize(
    ("otree", "jinja"),
    [
        ("{% formfield player.age %}", "{{ grove_formfield('age') }}"),
        ("{% formfield group.bid %}", "{{ grove_formfield('bid') }}"),
        (
            '{% formfield player.age label="How old?" %}',
            "{{ grove_formfield('age', label=(\"How old?\"|safe)) }}",
        ),
        ("{% formfield 'age' %}", "{{ grove_formfield('age') }}"),
        (
            "{{ formfield field }}",
            "{{ grove_formfield((field if field is defined else 'field')) }}",
        ),
        ("{% formfields %}", "{{ grove_formfields() }}"),
        ("{% next_button %}", "{{ grove_next_button() }}"),
        ("{% load otree static %}", ""),
        ('{% static "x.js" %}', '{{ grove_static("x.js") }}'),
        ("{% include_sibling 'part.html' %}", '{% include "survey/part.html" %}'),
        ("{% chat %}", "{{ grove_chat() }}"),
        (
            "{{ include 'a/x.html' with n=1 & m=b.c }}",
            "{% with n=1, m=b.c %}{% include 'a/x.html' %}{% endwith %}",
        ),
        ("{% include 'a/x.html' with context %}", "{% include 'a/x.html' with context %}"),
        ("{% trans 'Hi' %}{% blocktrans %}x{% endblocktrans %}", "{{ gettext('Hi') }}x"),
        ("{{ a || 'x||y' }}", "{{ a or 'x||y' }}"),
        ("{{ t ?? 'a::b' :: c }}", "{{ ('a::b') if (t) else (c) }}"),
        ("{% chat nickname='x' %}", "{{ grove_chat(nickname='x') }}"),
        ("{% formfield_errors 'age' %}", "{{ grove_formfield_errors('age') }}"),
        ("{% if a %}1{% else %}2{% endif %}", "{% if a %}1{% else %}2{% endif %}"),
        (
            "{% for x in xs %}{{ x }}{% empty %}-{% endfor %}",
            "{% for x in xs %}{{ x }}{% else %}-{% endfor %}",
        ),
        (
            "{{ for x in xs }}{{ x }}{{ empty }}-{{ endfor }}",
            "{% for x in xs %}{{ x }}{% else %}-{% endfor %}",
        ),
        ("a{{ comment }}{{ formfield }}\n{{ endcomment }}b", "a\nb"),
        ("a{% comment %}x{% comment %}y{% endcomment %}{# z #}{% endcomment %}b", "ab"),
        ("{%- if a -%}x{%- endif %}", "{%- if a -%}x{%- endif %}"),
        (
            "{{ not a }}{{ a if b else c }}{{ a and b }}",
            "{{ not a }}{{ a if b else c }}{{ a and b }}",
        ),
    ],
)
def test_percent_tags_translate(otree, jinja):
    wrapped = '{% extends "global/Page.html" %}'
    assert translate(wrapped + otree, "survey") == wrapped + jinja


def _environment(tmp_path: Path) -> jinja2.Environment:
    env = make_environment(tmp_path, BUILTIN_TEMPLATES)
    install_template_tags(env)
    return env


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{% frobnicate %}", "unknown tag 'frobnicate'"),
        ("{{ frobnicate 'x' }}", "unknown tag 'frobnicate'"),
        ("{{ formfield }}", "formfield needs the name of a field"),
        ("{{ formfield 'a' 'b' 'c' }}", "formfield takes a field"),
        ("{% formfield 'a' label = 'b' %}", "formfield takes a field"),
        ("{% formfield player.a with label='b' %}", "delete the word 'with'"),
        ("{{ formfield_errors }}", "formfield_errors takes a field's name"),
        ("{{ static }}", "static takes one path"),
        ("{% static 'a\\b.png' %}", "backslash"),
        ("{{ next_button 'x' }}", "next_button takes no arguments"),
        ("{{ include_sibling 'a/b.html' }}", "include_sibling takes a file name with no folder"),
        ("{{ if x }}a{{ else if y }}b{{ endif }}", "write {{ elif ... }}"),
        ("{{ empty }}", "empty belongs directly inside a for loop"),
        ("{{ comment }} never closed", "comment is not closed by {{ endcomment }}"),
        ("{{ endcomment }}", "endcomment without a comment before it"),
        ("{% %}", "empty tag"),
        ("{{ back_button }}", "back_button (a page's allow_back_button) is not supported"),
        ("{{ include 'a.html' with x }}", "write with name=value & other=value"),
    ],
)
def test_malformed_tags_are_errors_naming_file_and_line(tmp_path, line, message):
    (tmp_path / "apps" / "an_app").mkdir(parents=True)
    (tmp_path / "apps" / "an_app" / "Page.html").write_text(
        "{{ block title }}T{{ endblock }}\n{{ block content }}\n<p>fine</p>\n"
        + line
        + "\n{{ endblock }}\n"
    )
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        _environment(tmp_path).get_template(page_template_name("an_app/Page.html"))
    assert caught.value.filename.endswith("apps/an_app/Page.html")
    assert caught.value.lineno == 4
    assert message in caught.value.message


def test_forloop_counter_and_lines_kept(tmp_path):
    env = _environment(tmp_path)
    source = "{{ for x in xs }}{{ forloop.counter }}{{ forloop.counter0 }}{{ x }} {{ endfor }}"
    assert env.from_string(translate(source)).render(xs="ab") == "10a 21b "
    source = "{% comment %}\n\n{% endcomment %}{{ formfield\n'x' }}\n{% for x in xs %}\n"
    assert translate(source).count("\n") == source.count("\n")


def test_formfield_of_a_field_object_with_another_fields_label(tmp_path):
    """{{ formfield field label=... }}: a label given as a field's label object shows its text."""
    city = BoundField("city", StringField(), "City", None, None, None)
    town = BoundField("town", StringField(), "Town", None, None, None)
    source = "{{ for field in form }}{{ formfield field label=form.town.label }}{{ endfor }}"
    html = _environment(tmp_path).from_string(translate(source)).render(form=PageForm([city, town]))
    assert html.count('for="id_city">Town</label>') == 1
    assert html.count('for="id_town">Town</label>') == 1
    assert "&lt;label" not in html


def test_a_choice_in_manual_rendering_has_otrees_attributes(tmp_path):
    """oTree's (WTForms') choice: id, data, checked, label.text; Django's choice_label and tag
    (oTree 3) too; form.x.1 is the second choice."""
    level = BoundField("level", IntegerField(), "Level", [(1, "Low"), (2, "High")], None, None, 2)
    source = (
        "{{ for c in form.level }}{{ c.id }},{{ c.data }},{{ c.checked }},{{ c.label.text }},"
        "{{ c.choice_label }};{{ endfor }}|{{ form.level.1.tag }}"
    )
    html = _environment(tmp_path).from_string(translate(source)).render(form=PageForm([level]))
    choices, tag = html.split("|")
    assert choices == "id_level-0,1,False,Low,Low;id_level-1,2,True,High,High;"
    assert tag == '<option value="2" selected>High</option>'


@pytest.mark.parametrize(
    "source",
    [
        "{{ block title }}T{{ endblock }}\n  <p>lost</p>\n{{ block content }}x{{ endblock }}\n",
        '{% extends "global/Page.html" %}\n<p>lost</p>\n{% block content %}x{% endblock %}\n',
    ],
)
def test_page_text_outside_every_block_is_an_error_as_in_otree(tmp_path, source):
    """oTree: "All content must be inside a block tag"; Jinja2 alone would drop it silently."""
    (tmp_path / "apps" / "an_app").mkdir(parents=True)
    (tmp_path / "apps" / "an_app" / "Page.html").write_text(source)
    env = _environment(tmp_path)
    with pytest.raises(jinja2.TemplateSyntaxError) as caught:
        env.get_template(page_template_name("an_app/Page.html"))
    assert caught.value.lineno == 2
    assert "outside every {{ block }}" in caught.value.message
    # A byte order mark (some Windows editors write one) is not text.
    without_text = "\ufeff" + source.replace("<p>lost</p>", "")
    assert "grove_template_error" not in translate(without_text, "an_app", "global/Page.html")
    # The same file loaded as a fragment (included, or extended) is left as it is.
    assert "grove_template_error" not in translate(source, "an_app")
