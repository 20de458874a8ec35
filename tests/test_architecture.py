"""The package's structure (STYLE.md "The layers"): imports go one way, none in a cycle — imports
inside functions count — and no layer names one above it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "funnelmetrics"


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports() -> dict[str, set[str]]:
    """Module → the package modules it imports anywhere in its file (a `from pkg import sub` of
    a submodule counts as importing the submodule, not the package's __init__)."""
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                targets = [node.args[0].value]
            for target in targets:
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(imports()) == []


def _below(prefixes: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """Imports from modules under `prefixes` of modules under `forbidden`."""
    return sorted(f"{m} -> {t}" for m, targets in imports().items()
                  if m.startswith(prefixes) for t in targets if t.startswith(forbidden))


def test_the_compiler_names_no_derived_entity_module():
    # derived entities and columns declare themselves; the compiler asks the semantic model
    assert _below(("funnelmetrics.compile", "funnelmetrics.query"),
                  ("funnelmetrics.revenue", "funnelmetrics.attribution")) == []


def test_the_semantic_model_names_no_layer_above_it():
    assert _below(("funnelmetrics.semantic",),
                  ("funnelmetrics.catalog", "funnelmetrics.compile.compiler",
                   "funnelmetrics.query", "funnelmetrics.workspace", "funnelmetrics.revenue",
                   "funnelmetrics.attribution", "funnelmetrics.web", "funnelmetrics.cli")) == []


def test_only_surfaces_and_answers_name_the_workspace_facade():
    lower = ("funnelmetrics.semantic", "funnelmetrics.compile", "funnelmetrics.catalog",
             "funnelmetrics.query", "funnelmetrics.ingest", "funnelmetrics.connection")
    assert _below(lower, ("funnelmetrics.workspace",)) == []


def test_the_web_does_not_import_the_cli():
    assert _below(("funnelmetrics.web",), ("funnelmetrics.cli",)) == []
