"""The layering rule: domain modules know no HTTP (nothing from Starlette)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
HTTP_PACKAGES = (
    "server/web",
    "server/rest",
    "server/admin_api",
    "server/http",
    "server/cli",
    "server/bots",
)
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


ROUTE_PACKAGES = ("server/web", "server/rest", "server/admin_api")


def _route_modules() -> list[Path]:
    return [
        path
        for path in sorted(SERVER.rglob("*.py"))
        if path.relative_to(SERVER.parent).as_posix().startswith(ROUTE_PACKAGES)
    ]


@pytest.mark.parametrize("path", _route_modules(), ids=lambda p: p.relative_to(SERVER).as_posix())
def test_routes_reach_the_database_only_through_use_cases(path):
    """Routes parse, call a use case and respond: no SQL, no models, no transactions."""
    forbidden = {
        name
        for name in _imports(path)
        if name.split(".")[0] == "sqlalchemy" or name.startswith("server.models")
    }
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize(
    "path",
    [p for p in _route_modules() if "/server/web/" not in p.as_posix()],
    ids=lambda p: p.relative_to(SERVER).as_posix(),
)
def test_the_api_does_not_borrow_from_the_participant_pages(path):
    forbidden = {name for name in _imports(path) if name.startswith("server.web")}
    assert not forbidden, f"{path.name} imports {sorted(forbidden)}"


def _module_name(path: Path) -> str:
    relative = path.relative_to(SERVER.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_import_cycles_between_server_modules():
    """Runtime imports (``if TYPE_CHECKING`` blocks aside) form no cycle."""
    graph: dict[str, set[str]] = {}
    modules = {_module_name(p): p for p in SERVER.rglob("*.py")}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        checking_only = {
            id(child)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for child in ast.walk(node)
        }
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in checking_only:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("path", _route_modules(), ids=lambda p: p.relative_to(SERVER).as_posix())
def test_routes_open_no_unit_of_work(path):
    """A route calls one use case, which opens (and commits) its own unit of work."""
    source = path.read_text()
    opened = [call for call in (".transaction()", ".read()", "db.run(") if call in source]
    assert not opened, f"{path.name} opens a unit of work itself: {opened}"
