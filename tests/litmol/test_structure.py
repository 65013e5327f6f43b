"""The package layers: `cli → ui → agent → links → {retrieval, predictors} → litmol core`.

Every import in the source (module level or inside a function) is read with `ast`, resolved to the
package it lands in, and checked against the layer order: nothing imports a package above it, the
two lowest packages do not import each other, and there are no cycles between packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from litmol.paths import SOURCE_ROOT

# installed name -> source folder
FOLDERS = {"litmol.retrieval": "retrieval", "litmol.predictors": "predictors", "litmol.links": "links",
           "litmol.agent": "agent", "litmol.ui": "ui", "litmol.cli": "cli", "litmol": "litmol"}
LAYER = {"litmol": 0, "litmol.retrieval": 1, "litmol.predictors": 1, "litmol.links": 2, "litmol.agent": 3,
         "litmol.ui": 4, "litmol.cli": 5}
BARE = {"agent", "retrieval", "predictors", "ui", "links", "cli"}  # importable from a checkout, never used


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in FOLDERS.items():
        root = SOURCE_ROOT / folder
        for path in root.rglob("*.py"):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path
    return out


def _package_of(module: str) -> str | None:
    if not module.startswith("litmol"):
        return None
    best = max((p for p in LAYER if module == p or module.startswith(p + ".")), key=len, default=None)
    return best


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, node.lineno))
    return found


def package_graph() -> dict[str, dict[str, list[str]]]:
    """{package: {imported package: ["module:line", ...]}} over the whole source."""
    graph: dict[str, dict[str, list[str]]] = {p: {} for p in LAYER}
    for module, path in _modules().items():
        src = _package_of(module)
        for target, line in _imports(module, path):
            if target.split(".")[0] in BARE:
                graph[src].setdefault("BARE:" + target, []).append(f"{module}:{line}")
                continue
            dst = _package_of(target)
            if dst and dst != src:
                graph[src].setdefault(dst, []).append(f"{module}:{line}")
    return graph


def test_every_source_module_is_seen():
    modules = _modules()
    assert {"litmol.agent.loop", "litmol.retrieval.index", "litmol.links.table", "litmol.ui.app",
            "litmol.cli.main", "litmol.settings"} <= set(modules)


def test_nothing_imports_a_package_above_it_or_a_bare_name():
    wrong = []
    for src, targets in package_graph().items():
        for dst, where in targets.items():
            if dst.startswith("BARE:"):
                wrong.append(f"{where[0]} imports {dst[5:]} (use litmol.{dst[5:]})")
            elif LAYER[dst] >= LAYER[src]:
                wrong.append(f"{src} imports {dst} at {', '.join(where[:3])}")
    assert not wrong, "\n".join(wrong)


def test_no_cycles_between_packages():
    graph = {src: {d for d in targets if not d.startswith("BARE:")} for src, targets in package_graph().items()}

    def reach(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += graph.get(node, ())
        return seen

    cycles = [p for p in graph if p in reach(p)]
    assert not cycles, f"packages on an import cycle: {cycles}"


@pytest.mark.parametrize("folder", ["agent", "retrieval", "predictors", "links", "ui", "cli"])
def test_no_environment_reads_outside_the_settings_module(folder):
    hits = [f"{p.relative_to(SOURCE_ROOT)}:{n}" for p in (SOURCE_ROOT / folder).rglob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1) if "os.environ" in line or "os.getenv" in line]
    assert not hits, f"os.environ read outside litmol/settings.py: {hits}"
