"""The urn's starting seed: random (64 bits from ``secrets``) when the session config gives
none, kept by every session of a shared study, never shown to key holders; a small fixed seed
is warned about in production."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.api_keys import create_key
from server.app import create_app
from server.config import Settings
from server.randomization.service import get_study, verify
from server.randomization.urn import WEAK_SEED_LIMIT
from tests import databases
from tests.conftest import REPO_ROOT

URN = {
    "treatments": ["Control", "Intervention"],
    "factors": {"age_group": ["18-40", "41-65", "65+"], "sex": ["Male", "Female"]},
}


DEFAULTS = {"real_world_currency_per_point": 1.0, "participation_fee": 0.0}


def _project(root: Path, configs: dict[str, dict]) -> Path:
    """A project of one app (payment_info) with a session config per urn config."""
    shutil.copytree(REPO_ROOT / "apps" / "payment_info", root / "apps" / "payment_info")
    listed = ", ".join(
        f"dict(name={name!r}, app_sequence=['payment_info'], urn={urn!r})"
        for name, urn in configs.items()
    )
    (root / "session_configs.py").write_text(f"SESSION_CONFIGS = [{listed}]\n")
    return root


@contextmanager
def keyed_urn_client(tmp_path: Path, configs: dict[str, dict]) -> Iterator[tuple[TestClient, str]]:
    """A client of a project with a session config per urn config (``_project``), sending a
    write key of its own; yields the client and the key."""
    settings = Settings(
        root=_project(tmp_path / "project", configs),
        database_url=databases.database_url(tmp_path),
        session_config_defaults=DEFAULTS,
    )
    app = create_app(settings)
    with app.state.grove.db.transaction() as db:
        key = create_key(db, "alice", "write")
    try:
        with TestClient(app) as client:
            client.headers.update({"otree-rest-key": key})
            yield client, key
    finally:
        app.state.grove.db.dispose()


@pytest.fixture
def urn_api(tmp_path):
    with keyed_urn_client(
        tmp_path,
        {
            "trial": URN,
            "shared": {**URN, "study": "shared-trial"},
            "seeded": {**URN, "starting_seed": 7},
        },
    ) as client_and_key:
        yield client_and_key


def _session(client: TestClient, config: str = "trial") -> str:
    response = client.post(
        "/api/sessions/", json={"session_config_name": config, "num_participants": 2}
    )
    assert response.status_code == 200, response.text
    return response.json()["code"]


def _draw(client: TestClient, key: str, study: str, participant: str) -> str:
    response = client.post(
        "/study_participants",
        params={
            "api_key": key,
            "study": study,
            "id": participant,
            "age_group": "18-40",
            "sex": "Female",
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["results"][0]["trt"]


def _seed(client: TestClient, study: str) -> int:
    with client.app.state.grove.db.read() as db:
        return get_study(db, study).config["starting_seed"]


def test_a_study_without_a_seed_gets_a_random_64_bit_one(urn_api):
    client, key = urn_api
    first, second = _session(client), _session(client)
    seeds = [_seed(client, first), _seed(client, second)]
    assert seeds[0] != seeds[1]
    assert all(WEAK_SEED_LIMIT <= seed < 2**64 for seed in seeds)
    # Holders of read and write keys never see it.
    shown = client.get("/study_config", params={"api_key": key, "study": first}).json()
    assert shown["results"]["starting_seed"] is None
    assert str(seeds[0]) not in client.get(f"/api/sessions/{first}").text


def test_every_session_of_a_shared_study_keeps_its_seed(urn_api):
    client, key = urn_api
    _session(client, "shared")
    seed = _seed(client, "shared-trial")
    for number in range(3):
        _draw(client, key, "shared-trial", f"P{number}")
    # A second session of the study, its config again without a seed: not a changed config.
    _session(client, "shared")
    assert _seed(client, "shared-trial") == seed
    _draw(client, key, "shared-trial", "P3")
    with client.app.state.grove.db.read() as db:
        assert verify(db, "shared-trial") == []


def test_an_explicit_seed_is_kept(urn_api):
    client, _key = urn_api
    code = _session(client, "seeded")
    assert _seed(client, code) == 7


@pytest.mark.parametrize(
    ("seed", "warned"),
    [(100, True), (WEAK_SEED_LIMIT - 1, True), (WEAK_SEED_LIMIT, False), (None, False)],
)
def test_production_warns_about_a_small_seed(tmp_path, caplog, seed, warned):
    urn = URN if seed is None else {**URN, "starting_seed": seed}
    root = _project(tmp_path / "project", {"trial": urn})
    settings = Settings(
        root=root,
        database_url=databases.database_url(tmp_path),
        production=True,
        secret_key="s" * 40,
        admin_password="pw",
        session_config_defaults=DEFAULTS,
    )
    with caplog.at_level(logging.WARNING, logger="grove"):
        app = create_app(settings)
    app.state.grove.db.dispose()
    messages = [r.getMessage() for r in caplog.records if "starting_seed" in r.getMessage()]
    assert bool(messages) == warned, messages
    if warned:
        assert f"starting_seed {seed} is below 2**32" in messages[0]
        assert "'trial'" in messages[0] or "(trial)" in messages[0]
