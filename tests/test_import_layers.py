"""The import graph, read from the source: no import loop anywhere in facetrust, and the scan
stages import only downwards: io -> faces -> detectors -> fusion -> report (a stage may import
earlier stages and the shared low-level modules, never a later stage or a front door).

Every ``import`` counts, also those inside functions (a lazy import hides a loop, it does not
remove it); only ``if TYPE_CHECKING:`` imports are left out (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import facetrust

ROOT = Path(facetrust.__file__).resolve().parent
STAGES = ("io", "faces", "detectors", "fusion", "report")
SHARED = ("errors", "registry")  # low-level modules any stage may use


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    return skip


def imports_of(module: str) -> set[str]:
    """The facetrust modules ``module`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skip = _type_checking_nodes(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "facetrust"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "facetrust":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES and m != module}


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _upward(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        stage = _stage(module)
        if stage not in STAGES:
            continue
        allowed = set(STAGES[: STAGES.index(stage) + 1]) | set(SHARED)
        bad += [f"{module} -> {t}" for t in sorted(targets) if _stage(t) not in allowed]
    return bad


def test_the_walk_sees_the_package():
    assert {"facetrust.registry", "facetrust.io.sniff", "facetrust.detectors.base", "facetrust.report"} <= set(GRAPH)
    assert "facetrust.registry" in GRAPH["facetrust.detectors.base"]
    assert "facetrust.io.sniff" in GRAPH["facetrust.io.image"]


def test_no_import_loop():
    assert _cycles(GRAPH) == []


def test_the_checker_finds_a_loop_and_an_upward_import():
    """The two checks below are not vacuous: a planted loop and upward import are caught."""
    planted = {k: set(v) for k, v in GRAPH.items()}
    planted["facetrust.io.sniff"].add("facetrust.report.schema")
    assert "facetrust.io.sniff -> facetrust.report.schema" in _upward(planted)
    planted["facetrust.report.schema"].add("facetrust.io.sniff")
    assert any({"facetrust.io.sniff", "facetrust.report.schema"} <= set(c) for c in _cycles(planted))


def test_stages_import_only_earlier_stages_and_shared_modules():
    assert _upward(GRAPH) == []
