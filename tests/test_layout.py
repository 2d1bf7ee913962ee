"""The library's layout (lib/README.md): layers that import only downwards, no import circle,
no module over the size limit. Built from the module graph with ``ast``, imports inside
functions and under ``TYPE_CHECKING`` included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"
PACKAGE = LIB / "plusdig"

#: The layers, bottom to top: a module may import from its own layer or a lower one.
RANKS: dict[str, int] = {"core": 0, "data": 1, "present": 2, "survey": 3, "publish": 4,
                         "sphinx": 5, "authoring": 6}
#: ``plusdig/__init__.py`` (the chapter API) and ``plusdig/__main__.py`` sit on top of them all.
TOP = len(RANKS)
#: No module of the library is longer than this (lines).
MAX_LINES = 500
#: Modules known to be over the limit, each with the reason; strict xfail, so the entry must go
#: as soon as the module is split.
OVER_LIMIT_PENDING: dict[str, str] = {
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return TOP
    return RANKS[parts[1]]


def imports(module: str) -> set[str]:
    """The library modules ``module`` imports (anywhere in its code)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from plusdig.x import y``: y may be a module of its own
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                       for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != module)
    return found


GRAPH: dict[str, set[str]] = {m: imports(m) for m in MODULES}


def test_every_module_is_in_a_layer() -> None:
    unplaced = [m for m in MODULES if m.count(".") >= 1 and m.split(".")[1] not in RANKS
                and m != "plusdig.__main__"]
    assert not unplaced, f"modules outside the layers of lib/README.md: {unplaced}"


def test_no_upward_import() -> None:
    upward = sorted(f"{m} (layer {rank(m)}) imports {t} (layer {rank(t)})"
                    for m, targets in GRAPH.items() for t in targets if rank(t) > rank(m))
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (its modules in order, the first repeated), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_circle() -> None:
    circle = find_circle(GRAPH)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_the_circle_finder_finds_a_circle() -> None:
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=OVER_LIMIT_PENDING[m]))
    if m in OVER_LIMIT_PENDING else m for m in sorted(MODULES)])
def test_module_size(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module]}: {lines} lines (limit {MAX_LINES}); split it"


def test_the_old_flat_modules_are_gone() -> None:
    flat = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert not flat, f"modules outside a layer's folder: {flat}"
