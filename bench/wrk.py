"""Throughput with wrk (Debian's ``wrk`` package), driven by a generated Lua script.

The script spreads requests over a list of paths, each wrk thread taking every T-th path. With
``once=True`` no path is requested twice and a thread stops when its share is used up (wrk
may leave a path or two unrequested), so a list of fresh participants gives only valid form
submissions. The
rate is computed from the requests actually made and wrk's own measured time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_SCRIPT = r"""
local paths = {PATHS}
local method = "{METHOD}"
local body = {BODY}
local bodies = {BODIES}
local headers = {HEADERS}
local once = {ONCE}
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  count = 0
  statuses = {}
  nthreads = {NTHREADS}
end

function request()
  local i = count * nthreads + tid
  count = count + 1
  if once and i >= #paths then
    wrk.thread:stop()
    return wrk.format("GET", "/__wrk_stopped__")
  end
  local k = (i % #paths) + 1
  if bodies then return wrk.format(method, paths[k], headers, bodies[k]) end
  return wrk.format(method, paths[k], headers, body)
end

function response(status, hdrs, resp_body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, table.concat(parts, ", ")))
end
"""


@dataclass
class WrkResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    statuses: dict[str, int]

    @property
    def ok_requests(self) -> int:
        """Requests answered with a 2xx or 3xx status (all of them if wrk saw no status)."""
        if not self.statuses:
            return self.requests
        return sum(n for status, n in self.statuses.items() if status.startswith(("2", "3")))

    @property
    def rate(self) -> float:
        """Requests answered with success per second: a refusal (429, 503) is not work done."""
        return self.ok_requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready record."""
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "not_ok": self.requests - self.ok_requests,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "errors": self.errors,
            "statuses": self.statuses,
        }


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for ASCII text


def _lua_table(items: list[str]) -> str:
    return "{" + ", ".join(_lua_string(item) for item in items) + "}"


def wrk_available() -> bool:
    """Whether the wrk binary is on PATH."""
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str,
    paths: list[str],
    *,
    connections: int,
    seconds: float,
    method: str = "GET",
    body: str | None = None,
    bodies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    once: bool = False,
) -> WrkResult:
    """Load ``base_url`` + ``paths`` with ``connections`` keep-alive clients for ``seconds``.

    ``bodies``, when given, holds one request body per path (instead of one ``body``).
    """
    if not paths:
        raise ValueError("wrk needs at least one path")
    threads = max(1, min(2, connections))
    header_table = (
        "{"
        + ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in (headers or {}).items())
        + "}"
    )
    script = (
        _SCRIPT.replace("{PATHS}", _lua_table(paths))
        .replace("{METHOD}", method)
        .replace("{BODY}", "nil" if body is None else _lua_string(body))
        .replace("{BODIES}", "nil" if bodies is None else _lua_table(bodies))
        .replace("{HEADERS}", header_table)
        .replace("{ONCE}", "true" if once else "false")
        .replace("{NTHREADS}", str(threads))
    )
    with tempfile.TemporaryDirectory() as folder:
        script_path = Path(folder) / "bench.lua"
        script_path.write_text(script)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(script_path),
            base_url,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=seconds + 60
        )
    for line in completed.stdout.splitlines():
        if line.startswith("WRKJSON "):
            data = json.loads(line[len("WRKJSON ") :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                errors=data["errors"],
                statuses=data["statuses"],
            )
    raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
