"""The layering rule: domain modules know no HTTP (nothing from Starlette)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
HTTP_PACKAGES = ("server/web", "server/rest", "server/cli", "server/bots")
HTTP_MODULES = {"server/app.py", "server/asgi.py", "server/__main__.py"}


def _domain_modules() -> list[Path]:
    modules = []
    for path in sorted(SERVER.rglob("*.py")):
        relative = path.relative_to(SERVER.parent).as_posix()
        if relative in HTTP_MODULES or relative.startswith(HTTP_PACKAGES):
            continue
        modules.append(path)
    return modules


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda p: p.relative_to(SERVER).as_posix())
def test_domain_module_imports_no_http(path):
    forbidden = {
        name
        for name in _imports(path)
        if name.split(".")[0] in {"starlette", "uvicorn", "httpx"}
        or name.startswith(("server.web", "server.rest"))
    }
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"
