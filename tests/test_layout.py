"""The direction of imports (README "Layout"), read from the source with ast, nothing imported.

Imports inside a function count as much as those at the top of a module: they only move the
moment the dependency bites.  Each edge says which kind it is, so a failure shows where to look.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog", "recognition", "jamjar_site")

# What catalog may use of recognition: the Django-free engine, the settings, fingerprinting a file.
LOWER_LAYER = ("recognition.engine", "recognition.conf", "recognition.analysis")
# The only modules of jamjar_site that wire the apps in.
SITE_WIRING = ("jamjar_site.urls", "jamjar_site.asgi")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    kind: str  # "module" (runs on import) or "function" (runs when the function does)

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.kind}-level, line {self.line})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


MODULES = all_modules()


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def resolve(node: ast.ImportFrom, *, importer: str, is_package: bool) -> str:
    """The absolute module a `from ... import` names."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def targets(node: ast.Import | ast.ImportFrom, *, importer: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = resolve(node, importer=importer, is_package=is_package)
    # `from catalog import services` imports the module catalog.services, not just the package.
    found = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES]
    return found or [module]


def imports_of(name: str, path: Path) -> list[Edge]:
    edges: list[Edge] = []
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in targets(child, importer=name, is_package=is_package):
                    if target.split(".")[0] in PACKAGES:
                        edges.append(Edge(name, target, child.lineno, kind))
            inner = (
                "function" if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else kind
            )
            visit(child, inner)

    visit(ast.parse(path.read_text(), filename=str(path)), "module")
    return edges


EDGES = [edge for name, path in MODULES.items() for edge in imports_of(name, path)]


def cycles_among(edges: list[Edge], *, nodes) -> list[list[str]]:
    """Strongly connected groups of more than one node (Tarjan), or a node importing itself."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.target in nodes:
            graph.setdefault(edge.source, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_graph_sees_known_imports():
    """A parser that found nothing would pass every test below."""
    assert "catalog.services" in MODULES and "recognition.engine.audio" in MODULES
    assert any(edge.source == "catalog.services" and edge.target == "catalog.models" for edge in EDGES)
    assert any(edge.source == "recognition.services" and edge.kind == "function" for edge in EDGES)


def cyclic_edges(edges: list[Edge], *, nodes) -> list[list[str]]:
    """For each cycle, the imports that make it."""
    return [
        [str(edge) for edge in edges if edge.source in group and edge.target in group]
        for group in cycles_among(edges, nodes=nodes)
    ]


def test_no_module_imports_another_that_imports_it_back():
    assert cyclic_edges(EDGES, nodes=MODULES) == []


def test_catalog_uses_only_the_lower_layer_of_recognition():
    upward = [
        str(edge)
        for edge in EDGES
        if within(edge.source, "catalog")
        and within(edge.target, "recognition")
        and edge.target != "recognition"
        and not any(within(edge.target, lower) for lower in LOWER_LAYER)
    ]
    assert upward == []


@pytest.mark.parametrize(
    "lower, allowed",
    [
        ("recognition.engine", ("recognition.engine",)),
        ("recognition.conf", ("recognition.engine", "recognition.conf")),
        ("recognition.analysis", LOWER_LAYER),
    ],
)
def test_the_lower_layer_stands_on_its_own(lower, allowed):
    """The engine imports only itself; the settings and the analysis only the engine (and the
    analysis the settings): none of them imports catalog or the rest of recognition."""
    outward = [
        str(edge)
        for edge in EDGES
        if within(edge.source, lower)
        and edge.target != "recognition"
        and not any(within(edge.target, target) for target in allowed)
    ]
    assert outward == []


def layer(module: str) -> str:
    if module in SITE_WIRING:
        return "site wiring (urls, asgi)"
    if within(module, "jamjar_site"):
        return "site infrastructure"
    if any(within(module, lower) for lower in LOWER_LAYER) or module == "recognition":
        return "recognition's lower layer"
    return module.split(".")[0]


def test_no_layer_imports_a_layer_that_imports_it_back():
    """Modules may be acyclic while their apps are not: catalog.api -> jamjar_site.api -> catalog.uploads."""
    between = [
        Edge(
            layer(edge.source), layer(edge.target), edge.line, f"{edge.source} -> {edge.target}, {edge.kind}"
        )
        for edge in EDGES
        if layer(edge.source) != layer(edge.target)
    ]
    assert cyclic_edges(between, nodes={edge.target for edge in between}) == []


def test_the_site_imports_the_apps_only_to_wire_them():
    reaching = [
        str(edge)
        for edge in EDGES
        if within(edge.source, "jamjar_site")
        and edge.source not in SITE_WIRING
        and not within(edge.target, "jamjar_site")
    ]
    assert reaching == []
