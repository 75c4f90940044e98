"""The benchmark's table and target checks, built from the results document."""

from __future__ import annotations

from typing import Any

Row = tuple[str, str, str, str, str]


def _rate(record: dict | None) -> float | None:
    return None if record is None else record.get("rate")


def _fmt_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}/s"


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f} ms"


def _fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.2f} s"


def _ratio(grove: float | None, otree: float | None, *, lower_is_better: bool = False) -> str:
    """Grove/oTree as a speed-up: above 1 means Grove is better."""
    if not grove or not otree:
        return "n/a"
    value = otree / grove if lower_is_better else grove / otree
    return f"{value:,.1f}x"


def _cpu(record: dict | None) -> float | None:
    return None if record is None else record.get("server_cpu_ms")


def _cpu_row(g: dict | None, o: dict | None, f: dict | None = None) -> Row:
    """The servers' CPU milliseconds per request (all their processes, from /proc): less
    sensitive to the machine's other load than the rates."""

    def cell(record: dict | None) -> str:
        value = _cpu(record)
        return "n/a" if value is None else f"{value:.2f} ms"

    return (
        "   server CPU per request",
        cell(g),
        cell(o),
        cell(f) if f is not None else "",
        _ratio(_cpu(g), _cpu(o), lower_is_better=True),
    )


def _failed(record: dict | None) -> str:
    if record is None:
        return "n/a"
    return f"{record.get('failed_groups', 0)} of {record['groups']}"


def _latency(record: dict | None) -> str:
    if record is None:
        return "n/a"
    return f"{record['p50_ms']:.1f} / {record['p99_ms']:.1f} ms"


def _measured(part: Any) -> dict[str, Any]:
    """A server's results without the metrics that failed (they carry an "error")."""
    if not isinstance(part, dict) or "error" in part:
        return {}
    return {
        key: value
        for key, value in part.items()
        if not (isinstance(value, dict) and "error" in value)
    }


def _parts(results: dict[str, Any]) -> tuple[dict, dict, dict]:
    return (
        _measured(results.get("grove")),
        _measured(results.get("otree")),
        _measured(results.get("floor")),
    )


def build_rows(results: dict[str, Any]) -> list[Row]:
    """The table rows: metric, Grove, oTree, floor, Grove vs oTree."""
    grove, otree, floor = _parts(results)
    rows: list[Row] = []
    for key in grove.get("form_page", {}):
        kind, clients = key.rsplit("_c", 1)
        verb = "GET" if kind == "get" else "valid POST"
        g, o = grove["form_page"][key], otree.get("form_page", {}).get(key)
        f = floor.get(key)
        rows.append(
            (
                f"1. page {verb}, {clients} clients",
                _fmt_rate(_rate(g)),
                _fmt_rate(_rate(o)),
                _fmt_rate(_rate(f)),
                _ratio(_rate(g), _rate(o)),
            )
        )
        rows.append(("   p50 / p99 latency", _latency(g), _latency(o), _latency(f), ""))
        if _cpu(g) is not None:
            rows.append(_cpu_row(g, o, f))
    for key, label in (("by_label", "by room and label"), ("by_code", "by participant code")):
        for name, g in grove.get("participant_vars", {}).items():
            if not name.startswith(key):
                continue
            clients = name.rsplit("_c", 1)[1]
            o = otree.get("participant_vars", {}).get(name)
            f = floor.get(f"post_c{clients}")
            rows.append(
                (
                    f"2. participant_vars {label}, {clients} clients",
                    _fmt_rate(_rate(g)),
                    _fmt_rate(_rate(o)),
                    _fmt_rate(_rate(f)),
                    _ratio(_rate(g), _rate(o)),
                )
            )
            if _cpu(g) is not None:
                rows.append(_cpu_row(g, o, f))
    g_create = grove.get("session_creation", {})
    o_create = otree.get("session_creation", {})
    o_by_size = {c["participants"]: c for c in o_create.get("creations", [])}
    for creation in g_create.get("creations", []):
        size = creation["participants"]
        other = o_by_size.get(size, {}).get("median_s")
        rows.append(
            (
                f"3. POST /api/sessions/, {size} participants",
                _fmt_s(creation["median_s"]),
                _fmt_s(other),
                "",
                _ratio(creation["median_s"], other, lower_is_better=True),
            )
        )
    if g_create:
        g_during = g_create["concurrent_gets"]["during"]
        o_during = (o_create.get("concurrent_gets") or {}).get("during")
        size = g_create["concurrent_gets"]["participants"]
        rows.append(
            (
                f"   page GET p99 while {size} are created",
                _fmt_ms(g_during["p99_ms"]),
                _fmt_ms(o_during and o_during["p99_ms"]),
                "",
                _ratio(g_during["p99_ms"], o_during and o_during["p99_ms"], lower_is_better=True),
            )
        )
    g_wait, o_wait = grove.get("wait_page"), otree.get("wait_page")
    if g_wait:
        rows.append(
            (
                "4. wait page: last arrival to all moved on, p50",
                _fmt_ms(g_wait["p50_ms"]),
                _fmt_ms(o_wait and o_wait["p50_ms"]),
                "",
                _ratio(g_wait["p50_ms"], o_wait and o_wait["p50_ms"], lower_is_better=True),
            )
        )
        rows.append(
            (
                "   p99",
                _fmt_ms(g_wait["p99_ms"]),
                _fmt_ms(o_wait and o_wait["p99_ms"]),
                "",
                _ratio(g_wait["p99_ms"], o_wait and o_wait["p99_ms"], lower_is_better=True),
            )
        )
        rows.append(("   groups that failed", _failed(g_wait), _failed(o_wait), "", ""))
    for prior, record in _measured(grove.get("urn_api")).items():
        rows.append(
            (
                f"5. urn randomizations, {int(prior):,} prior",
                _fmt_rate(_rate(record)),
                "n/a (no urn)",
                "",
                "",
            )
        )
        if _cpu(record) is not None:
            rows.append(_cpu_row(record, None))
    bots = _measured(results.get("bots"))
    if bots:
        g_total = bots["grove"]["total_s"]
        o_total = (bots.get("otree") or {}).get("total_s")
        rows.append(
            (
                f"6. bots over {len(bots['configs'])} sample configs",
                _fmt_s(g_total),
                _fmt_s(o_total),
                "",
                _ratio(g_total, o_total, lower_is_better=True),
            )
        )
        every = bots.get("grove_all_sample_configs")
        if every:
            rows.append(
                (
                    "   Grove: every sample config (with the urn trial)",
                    _fmt_s(every["total_s"]),
                    "n/a",
                    "",
                    "",
                )
            )
    rows += _bot_rate_rows(_measured(results.get("bot_rate")))
    rows += _live_rows(grove.get("live"), otree.get("live"))
    return rows


def _bot_rate_rows(rate: dict[str, Any]) -> list[Row]:
    if not rate:
        return []
    g, o = rate.get("grove") or {}, rate.get("otree") or {}
    n1, n2 = rate["participants"]
    return [
        (
            f"   bots: pages submitted per second once started ({rate['config']}, "
            f"{n1} and {n2} participants)",
            _fmt_rate(g.get("pages_per_s")),
            _fmt_rate(o.get("pages_per_s")),
            "",
            _ratio(g.get("pages_per_s"), o.get("pages_per_s")),
        ),
        (
            "   bots: start-up (the time at 0 participants)",
            _fmt_s(g.get("startup_s")),
            _fmt_s(o.get("startup_s")),
            "",
            _ratio(g.get("startup_s"), o.get("startup_s"), lower_is_better=True),
        ),
    ]


# The PostgreSQL runs beside SQLite's, by the keys of ``results["postgresql"]``.
POSTGRES_RUNS = (("workers_1", "PostgreSQL, 1 worker"), ("workers_2", "PostgreSQL, 2 workers"))


def build_database_rows(results: dict[str, Any]) -> list[tuple[str, ...]]:
    """Grove's rows of metrics 1-5 on SQLite beside the same on PostgreSQL with 1 and 2
    workers: metric, then one column per run. Rows are matched by their label under the
    metric they belong to."""
    runs = [("SQLite", results.get("grove"))]
    runs += [(label, (results.get("postgresql") or {}).get(key)) for key, label in POSTGRES_RUNS]
    columns: list[dict[tuple[str, str], str]] = []
    order: list[tuple[str, str]] = []
    for _, part in runs:
        values: dict[tuple[str, str], str] = {}
        metric = ""
        measured = {k: v for k, v in _measured(part).items() if k != "live"}
        for row in build_rows({"grove": measured}):
            if not row[0].startswith(" "):
                metric = row[0]
            key = (metric, row[0])
            values[key] = row[1]
            if key not in order:
                order.append(key)
        columns.append(values)
    return [(key[1], *(column.get(key, "n/a") for column in columns)) for key in order]


def database_header(results: dict[str, Any]) -> tuple[str, ...]:
    """The PostgreSQL table's header: SQLite's workers, then the PostgreSQL runs."""
    workers = (results.get("workers") or {}).get("grove", "?")
    return ("metric", f"SQLite, {workers} workers", *(label for _, label in POSTGRES_RUNS))


_LIVE_DATABASES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))


def _p50_p99(summary: dict | None) -> str:
    if not summary or summary.get("p99_ms") is None:
        return "n/a"
    return f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f} ms"


def _live_rows(grove_live: Any, otree_live: Any) -> list[Row]:
    """Metric 7: Grove's cross-worker round trip on each database against oTree's (one
    process, so every delivery is local), then messages delivered per second."""
    grove_live = _measured(grove_live)
    otree_live = otree_live if isinstance(otree_live, dict) and "error" not in otree_live else {}
    if not grove_live and not otree_live:
        return []
    o_all = otree_live.get("all")
    o_p99 = o_all and o_all["p99_ms"]
    players = next(
        (record["players"] for record in (*grove_live.values(), otree_live) if record), "?"
    )
    rows: list[Row] = []
    for key, label in _LIVE_DATABASES:
        record = grove_live.get(key)
        if record is None:
            continue
        cross = record["cross_worker"]
        rows.append(
            (
                f"7. live round trip p50 / p99, {players} players, {label}, across workers",
                _p50_p99(cross),
                _p50_p99(o_all),
                "",
                _ratio(cross["p99_ms"], o_p99, lower_is_better=True),
            )
        )
    for key, label in _LIVE_DATABASES:
        record = grove_live.get(key)
        if record is None:
            continue
        rows.append(
            (
                f"   deliveries at group members, {label} (sent {record['messages_per_s']:g}/s)",
                _fmt_rate(record["deliveries_per_s"]),
                _fmt_rate(otree_live.get("deliveries_per_s")),
                "",
                _ratio(record["deliveries_per_s"], otree_live.get("deliveries_per_s")),
            )
        )
        rows.append(
            (
                f"   deliveries missing, {label}",
                _missing(record),
                _missing(otree_live or None),
                "",
                "",
            )
        )
    return rows


def _missing(record: dict | None) -> str:
    if not record:
        return "n/a"
    return (
        f"{record['deliveries_expected'] - record['deliveries']} of {record['deliveries_expected']}"
    )


def format_table(
    rows: list[Row] | list[tuple[str, ...]], header: tuple[str, ...] | None = None
) -> str:
    """A plain-text table with aligned columns."""
    header = header or ("metric", "Grove", "oTree", "floor", "Grove vs oTree")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _largest_alone(create: dict | None) -> dict | None:
    """The largest session created with nothing else running (``creations``)."""
    creations = (create or {}).get("creations") or []
    return max(creations, key=lambda c: c["participants"]) if creations else None


def check_targets(results: dict[str, Any]) -> list[tuple[str, bool | None, str]]:
    """Each target of issue 20's table (Grove on SQLite with its workers, against oTree and
    the floor from the same run), and issue 18's (the wait page release, the live round
    trip): its name, met (None: not measured) and the figures."""
    grove, otree, floor = _parts(results)
    checks: list[tuple[str, bool | None, str]] = []

    def ratio_check(
        name: str, g: float | None, o: float | None, goal: float, lower_is_better: bool = False
    ) -> None:
        if not g or not o:
            checks.append((name, None, "not measured"))
            return
        value = o / g if lower_is_better else g / o
        checks.append((name, value >= goal, f"{value:.1f}x (target {goal:g}x)"))

    for key, g in grove.get("form_page", {}).items():
        kind, clients = key.rsplit("_c", 1)
        goal = 20 if clients == "10" else 10
        verb = "GET" if kind == "get" else "valid POST"
        o = otree.get("form_page", {}).get(key)
        ratio_check(f"page {verb} at {clients} clients >= {goal}x oTree", _rate(g), _rate(o), goal)
    for key, g in grove.get("participant_vars", {}).items():
        kind, clients = key.rsplit("_c", 1)
        label = kind.replace("_", " ")
        ratio_check(
            f"participant_vars {label} >= 10x oTree",
            _rate(g),
            _rate(otree.get("participant_vars", {}).get(key)),
            10,
        )
        f = _rate(floor.get(f"post_c{clients}"))
        g_rate = _rate(g)
        if f and g_rate:
            checks.append(
                (
                    f"participant_vars {label} >= 20% of the floor",
                    g_rate / f >= 0.2,
                    f"{100 * g_rate / f:.0f}% of {f:,.0f}/s",
                )
            )
    urn = _measured(grove.get("urn_api"))
    for prior, record in urn.items():
        rate = _rate(record) or 0.0
        checks.append(
            (f"urn API >= 1,000/s at {int(prior):,} prior", rate >= 1000, f"{rate:,.0f}/s")
        )
    if len(urn) > 1:
        priors = sorted(urn, key=int)
        low, high = _rate(urn[priors[0]]) or 0.0, _rate(urn[priors[-1]]) or 0.0
        checks.append(
            (
                f"urn API flat: at {int(priors[-1]):,} prior >= 80% of the rate at "
                f"{int(priors[0]):,}",
                bool(low) and high >= 0.8 * low,
                f"{100 * high / low:.0f}%" if low else "n/a",
            )
        )
    # The bots' targets are printed even when their metric failed (as not measured).
    rate = _measured(results.get("bot_rate"))
    ratio_check(
        "bots: pages submitted per second once started >= 3x oTree's",
        (rate.get("grove") or {}).get("pages_per_s"),
        (rate.get("otree") or {}).get("pages_per_s"),
        3,
    )
    bots = _measured(results.get("bots"))
    ratio_check(
        "bots: one Grove command over the sample configs faster than `otree test`",
        (bots.get("grove") or {}).get("total_s"),
        (bots.get("otree") or {}).get("total_s"),
        1,
        lower_is_better=True,
    )
    g_start = (rate.get("grove") or {}).get("startup_s")
    o_start = (rate.get("otree") or {}).get("startup_s")
    name = "bots: `python -m server test` start-up no slower than `otree test`'s"
    if g_start is None or o_start is None:
        checks.append((name, None, "not measured"))
    else:
        checks.append((name, g_start <= o_start, f"{g_start:.2f} s against {o_start:.2f} s"))
    g_create, o_create = grove.get("session_creation"), otree.get("session_creation")
    if g_create:
        g_alone, o_alone = _largest_alone(g_create), _largest_alone(o_create)
        size = g_alone["participants"] if g_alone else "?"
        ratio_check(
            f"{size:,}-participant session created alone >= 10x oTree",
            g_alone and g_alone["median_s"],
            o_alone and o_alone["median_s"]
            if o_alone and o_alone["participants"] == size
            else None,
            10,
            lower_is_better=True,
        )
        during = g_create["concurrent_gets"]
        p99 = during["during"]["p99_ms"]
        checks.append(
            (
                f"page GET p99 while a {during['participants']:,}-participant session is "
                "created < 50 ms",
                p99 < 50,
                f"{p99:.1f} ms",
            )
        )
    g_wait = grove.get("wait_page")
    if g_wait:
        p50 = g_wait["p50_ms"]
        checks.append(
            (
                "wait page: last arrival to everyone moved on, p50 <= 10 ms",
                p50 <= 10,
                f"{p50:.1f} ms",
            )
        )
    for part, name in (
        ("form_page", "page GET and valid POST against oTree"),
        ("participant_vars", "participant_vars against oTree and the floor"),
        ("urn_api", "urn API >= 1,000/s"),
        ("session_creation", "session creation and page GET p99 during it"),
        ("wait_page", "wait page p50 <= 10 ms"),
    ):
        if not _measured(grove.get(part)):
            checks.append((name, None, "not measured"))
    releases = _measured(grove.get("wait_release"))
    for key, label in _LIVE_DATABASES:
        release = releases.get(f"grove_{key}")
        if release is None:
            continue
        p50 = release.get("p50_ms")
        checks.append(
            (
                # Issue 18: from the last arrival's answer (the completion's commit) to each
                # waiting member's page told to move on (bench/wait_release.py).
                f"wait page release p50 <= 10 ms, {label}",
                p50 is not None and p50 <= 10 and not release.get("not_released"),
                f"{'n/a' if p50 is None else f'{p50:.1f} ms'} "
                f"(p99 {release.get('p99_ms')} ms), {release.get('not_released', 0)} not released",
            )
        )
    for key, label in _LIVE_DATABASES:
        record = _measured(grove.get("live")).get(key)
        if record is None:
            continue
        p99 = record["cross_worker"]["p99_ms"]
        missing = record["deliveries_expected"] - record["deliveries"]
        # A delivery that never came is slower than any p99: more than 1% missing fails.
        met = p99 is not None and p99 < 100 and missing <= 0.01 * record["deliveries_expected"]
        checks.append(
            (
                f"live round trip across workers p99 < 100 ms, {label}",
                met,
                f"{'n/a' if p99 is None else f'{p99:.1f} ms'}, {missing} deliveries missing",
            )
        )
    return checks


def format_targets(checks: list[tuple[str, bool | None, str]]) -> str:
    """One line per target: met, missed or not measured."""
    marks = {True: "met   ", False: "MISSED", None: "n/a   "}
    return "\n".join(f"{marks[met]}  {name}: {figures}" for name, met, figures in checks)
