"""Urn randomizations per second, in-process and through the urn API, at 100, 10,000 and
100,000 prior assignments: the cost of a draw must not grow with the history.

Run: ``python -m bench.urn_throughput [--draws 300] [--sizes 100,10000,100000]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import sqlalchemy as sa

from bench.machine import describe_machine
from server.app import create_app
from server.config import load_settings
from server.models.urn import UrnAssignment
from server.project import load_project
from server.randomization.service import counts_to_json, get_study, randomize
from server.randomization.urn import UrnConfig, empty_counts
from server.sessions import create_session
from tests.live_server import REPO_ROOT, live_server

# The reference package's measured rates (issue 7), for the ratio column.
REFERENCE_RATES = {100: 31.0, 20_000: 2.7}
LEVELS = [{"age_group": a, "sex": s} for a in ("18-40", "41-65", "65+") for s in ("Male", "Female")]


def seed_history(database_url: str, prior: int, root: Path = REPO_ROOT) -> str:
    """A randomized_trial session whose study already has ``prior`` assignments."""
    settings = load_settings(root, {"DATABASE_URL": database_url, "OTREE_REST_KEY": "bench"})
    app = create_app(settings)
    db = app.state.grove.db
    with db.transaction() as session_db:
        code = create_session(session_db, load_project(settings), "randomized_trial", 2).code
    with db.transaction() as session_db:
        study = get_study(session_db, code)
        config = UrnConfig.from_dict(study.config)
        counts = empty_counts(config)
        rows = []
        for i in range(prior):
            levels = LEVELS[i % len(LEVELS)]
            index = i % 2
            for factor, level in levels.items():
                counts[(factor, level)][index] += 1
            rows.append(
                {
                    "study_id": study.id,
                    "sequence": i + 1,
                    "participant_key": f"H{i}",
                    "levels": levels,
                    "treatment": config.treatments[index],
                    "treatment_index": index,
                    "user": "history",
                    "rng_state_before": study.rng_state,
                    "imported": True,
                }
            )
        session_db.execute(sa.insert(UrnAssignment), rows)
        study.num_assigned = prior
        study.counts = counts_to_json(counts)
    db.dispose()
    return code


def in_process_rate(database_url: str, code: str, draws: int) -> float:
    """Draws per second, each in its own transaction, through the service."""
    settings = load_settings(REPO_ROOT, {"DATABASE_URL": database_url})
    app = create_app(settings)
    db = app.state.grove.db
    start = time.perf_counter()
    for i in range(draws):
        with db.transaction() as session_db:
            randomize(session_db, code, f"IP{i}", LEVELS[i % len(LEVELS)], user="bench")
    elapsed = time.perf_counter() - start
    db.dispose()
    return draws / elapsed


def api_rate(database_url: str, code: str, draws: int, concurrency: int = 8) -> float:
    """Draws per second through POST /study_participants on a 2-worker server."""
    with (
        live_server(database_url, workers=2, extra_env={"OTREE_REST_KEY": "bench"}) as base,
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        client.post(
            "/study_participants",
            params={"api_key": "bench", "study": code, "id": "warmup", **LEVELS[0]},
        )

        def one(i: int) -> int:
            return client.post(
                "/study_participants",
                params={"api_key": "bench", "study": code, "id": f"API{i}", **LEVELS[i % 6]},
            ).status_code

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(one, range(draws)))
        elapsed = time.perf_counter() - start
    if set(statuses) != {200}:
        raise RuntimeError(f"unexpected statuses {set(statuses)}")
    return draws / elapsed


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; save the results as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--sizes", default="100,10000,100000")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for prior in sizes:
            url = f"sqlite:///{Path(folder) / f'urn_{prior}.sqlite3'}"
            code = seed_history(url, prior)
            results.append(
                {
                    "prior_assignments": prior,
                    "in_process_per_s": in_process_rate(url, code, args.draws),
                    "api_per_s": api_rate(url, code, args.draws),
                }
            )
    first = results[0]
    print(
        f"{'prior':>8} {'in-process/s':>13} {'API/s':>8} {'API vs first':>13} "
        f"{'reference/s':>12} {'API/reference':>14}"
    )
    for row in results:
        reference = REFERENCE_RATES.get(row["prior_assignments"])
        if reference is None:
            reference = REFERENCE_RATES[20_000] if row["prior_assignments"] > 100 else 31.0
        print(
            f"{row['prior_assignments']:>8} {row['in_process_per_s']:>13.0f} "
            f"{row['api_per_s']:>8.0f} {row['api_per_s'] / first['api_per_s']:>13.2f} "
            f"{reference:>12.1f} {row['api_per_s'] / reference:>14.0f}x"
        )
    print(
        "reference: the urand package measured 31/s at 100 and 2.7/s at 20,000 prior "
        "assignments; rows above 100 compare with its 20,000 figure (its best case there)."
    )
    if not args.no_save:
        out = Path(__file__).parent / "results" / "urn_throughput.json"
        out.write_text(
            json.dumps(
                {"machine": describe_machine(), "draws": args.draws, "results": results}, indent=2
            )
        )
        print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
