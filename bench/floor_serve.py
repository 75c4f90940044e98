"""Serve the floor app (``bench.floor_app``) with exactly the uvicorn options of Grove's
``prodserver``. Run: ``python -m bench.floor_serve --port 8001 --workers 2``."""

from __future__ import annotations

import argparse

import uvicorn

from server.cli.serving import production_options


def main(argv: list[str] | None = None) -> int:
    """Parse the port and worker count, then serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    uvicorn.run(
        "bench.floor_app:app",
        **production_options(host="127.0.0.1", port=args.port, workers=args.workers),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
