"""The default participant layout loads Bootstrap 5 and jQuery 3 as oTree's does, from Grove
itself: no page makes a request to another host (lab machines often have no internet)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from tests import databases
from tests.conftest import create_demo_session
from tests.live_server import live_server

VENDOR = Path(__file__).resolve().parents[1] / "server" / "static" / "vendor"


class AssetTags(HTMLParser):
    """Records, in document order, every stylesheet and script tag and where <main> opens."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []  # ("css" | "js" | "inline-js" | "main", url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "link" and "stylesheet" in values.get("rel", "").split():
            self.tags.append(("css", values.get("href", "")))
        elif tag == "script":
            src = values.get("src")
            self.tags.append(("js", src) if src else ("inline-js", ""))
        elif tag == "main":
            self.tags.append(("main", ""))

    def position(self, kind: str, pattern: str) -> int:
        """Index of the first tag of this kind whose URL matches the regex; fails if none."""
        for index, (tag_kind, url) in enumerate(self.tags):
            if tag_kind == kind and re.search(pattern, url):
                return index
        raise AssertionError(f"no {kind} tag matching {pattern!r} in {self.tags}")


def asset_tags(html: str) -> AssetTags:
    parser = AssetTags()
    parser.feed(html)
    return parser


BOOTSTRAP_CSS = r"^/grove_static/vendor/bootstrap-5\.[\d.]+/bootstrap\.min\.css$"
BOOTSTRAP_JS = r"^/grove_static/vendor/bootstrap-5\.[\d.]+/bootstrap\.bundle\.min\.js$"
JQUERY = r"^/grove_static/vendor/jquery-3\.[\d.]+/jquery\.min\.js$"


def first_page(client: TestClient, config: str, participant: int = 0) -> str:
    _, links = create_demo_session(client, config)
    response = client.get(links[participant])
    assert response.status_code == 200
    return response.text


def assert_layout_loads_vendored_files(client: TestClient, html: str) -> None:
    tags = asset_tags(html)
    css = tags.position("css", BOOTSTRAP_CSS)
    assert css < tags.position("css", r"^/grove_static/grove\.css$")  # grove.css refines it
    jquery = tags.position("js", JQUERY)
    assert jquery < tags.position("main", "")  # in the head: inline scripts in content use $
    bundle = tags.position("js", BOOTSTRAP_JS)
    assert bundle < tags.position("js", r"^/grove_static/grove\.js$")
    for kind, pattern, banner in [
        ("css", BOOTSTRAP_CSS, b"Bootstrap  v5."),
        ("js", BOOTSTRAP_JS, b"Bootstrap v5."),
        ("js", JQUERY, b"jQuery v3."),
    ]:
        url = tags.tags[tags.position(kind, pattern)][1]
        response = client.get(url)
        assert response.status_code == 200, url
        expected_type = "text/css" if kind == "css" else "javascript"
        assert expected_type in response.headers["content-type"], url
        assert banner in response.content[:300], url


def test_participant_page_loads_bootstrap_and_jquery_from_grove(client):
    html = first_page(client, "survey")
    assert_layout_loads_vendored_files(client, html)
    tags = asset_tags(html)
    # js_vars is defined in <head> after jQuery (as in oTree), so a script anywhere in the
    # template's content can read js_vars and use $(...); Bootstrap's bundle loads at the end.
    first_inline = next(i for i, (kind, _) in enumerate(tags.tags) if kind == "inline-js")
    assert first_inline > tags.position("js", JQUERY)


def test_wait_page_loads_bootstrap_and_jquery_from_grove(client):
    html = first_page(client, "trust", participant=1)  # the trustee waits for the trustor
    assert 'id="grove-wait"' in html
    assert_layout_loads_vendored_files(client, html)


def test_pages_carry_otrees_documented_css_selectors(client):
    html = first_page(client, "public_goods")  # a timed page
    for selector in ("otree-body", "otree-title", "otree-timer"):
        assert re.search(rf'class="[^"]*\b{selector}\b', html), selector
    wait = first_page(client, "trust", participant=1)
    for selector in ("otree-wait-page", "otree-wait-page__title", "otree-wait-page__body"):
        assert re.search(rf'class="[^"]*\b{selector}\b', wait), selector


def assert_no_asset_from_another_host(html: str) -> None:
    for kind, url in asset_tags(html).tags:
        if kind in ("css", "js"):
            assert re.match(r"/[^/]", url), f"not a path on this server: {url}"


@pytest.mark.parametrize(
    ("config", "participant"),
    [("survey", 0), ("public_goods", 0), ("trust", 1), ("prisoner", 0), ("randomized_trial", 0)],
)
def test_no_participant_page_loads_anything_from_another_host(client, config, participant):
    assert_no_asset_from_another_host(first_page(client, config, participant))


def test_no_admin_or_room_page_loads_anything_from_another_host(client):
    for url in ("/demo", "/sessions", "/rooms", "/room/econ101/?participant_label=alice"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_asset_from_another_host(response.text)


def test_admin_pages_get_bootstrap_css_before_grove_css(client):
    tags = asset_tags(client.get("/demo").text)
    assert tags.position("css", BOOTSTRAP_CSS) < tags.position("css", r"^/grove_static/grove\.css$")


def test_vendored_files_are_the_registry_files_with_their_licences():
    readme = (VENDOR / "README.md").read_text()
    folders = sorted(path for path in VENDOR.iterdir() if path.is_dir())
    assert [folder.name.split("-")[0] for folder in folders] == ["bootstrap", "jquery"]
    for folder in folders:
        assert list(folder.glob("LICENSE*")), f"{folder.name} has no licence file"
        version = folder.name.split("-", 1)[1]
        assert f"| {version} |" in readme, f"README.md does not list {folder.name}"
        for file in folder.glob("*.min.*"):
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            assert digest in readme, f"{folder.name}/{file.name} differs from README.md's sha256"


# In headless Chromium (the browser fixture is in conftest.py).


@pytest.mark.slow
@pytest.mark.browser
def test_phone_sized_page_has_jquery_bootstrap_and_no_sideways_scroll(browser, tmp_path):
    with live_server(databases.database_url(tmp_path, "layout"), workers=1) as base:
        code = httpx.post(
            f"{base}/api/sessions/", json={"session_config_name": "survey", "num_participants": 1}
        ).json()["code"]
        participant = httpx.get(f"{base}/api/sessions/{code}").json()["participants"][0]["code"]
        page = browser.new_page(viewport={"width": 375, "height": 700})
        other_hosts: list[str] = []

        def note_other_host(request) -> None:
            if not request.url.startswith(base):
                other_hosts.append(request.url)

        page.on("request", note_other_host)
        page.goto(f"{base}/InitializeParticipant/{participant}")
        page.wait_for_selector("button.grove-next")
        versions = page.evaluate("[window.jQuery.fn.jquery, window.bootstrap.Tooltip.VERSION]")
        assert versions[0].startswith("3.")
        assert versions[1].startswith("5.")
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
        # Inputs use the phone's width (less the page's padding), not a desktop size.
        input_width = page.evaluate("document.querySelector('#id_age').offsetWidth")
        assert input_width > 375 * 0.8
        assert other_hosts == []
        page.close()
