"""The stage order of eo_ray, checked on its source (no import is executed).

Every module is parsed with ``ast``; every import counts, at any depth (inside functions too),
except those under ``if TYPE_CHECKING:``. A lazy stage reached as an attribute of the root
package (``import eo_ray as eo; eo.models.get(...)``) counts as an import of that stage.

The order, from the ground up (a stage may import its own level's base and every level below,
never a level above, and never another stage of its own level)::

    config/storage/runtime/... -> datasets -> tracking -> ingest -> featurestore -> hpo
    -> {experiments, ablation, train} -> models -> {mapping, serving}
    -> {monitoring, analysis} -> pipelines -> ui -> cli

Top-level modules of ``eo_ray`` other than ``cli`` (``config``, ``storage``, ``runtime``,
``errors``, private helpers such as ``_ray_data``) form the base. The top-level ``cli`` and the
root package (the lazy facade ``eo.ingest``, ``eo.feature_store``...) may import everything.
Modules inside one stage must not import each other in a cycle either.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eo_ray"
BASE = "<base>"  # the top-level modules: config, storage, runtime, errors, _ray_data, ...
ROOT = "<eo_ray>"  # the root package: the facade that loads every stage on first use
ORDER: list[set[str]] = [
    {BASE},
    {"datasets"},
    {"tracking"},
    {"ingest"},
    {"featurestore"},
    {"hpo"},
    {"experiments", "ablation", "train"},
    {"models"},
    {"mapping", "serving"},
    {"monitoring", "analysis"},
    {"pipelines"},
    {"ui"},
    {"cli", ROOT},
]
TOP = {"cli", ROOT}  # may import every stage
LEVEL = {stage: level for level, stages in enumerate(ORDER) for stage in stages}


@dataclass(frozen=True)
class Import:
    """One import: where it is written, and the eo_ray module it loads."""

    source: str  # importing module, e.g. "eo_ray.hpo._search"
    target: str  # imported module, e.g. "eo_ray.experiments._records"
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


def module_name(path: Path) -> str:
    """The dotted name of the module in ``path`` (a package by its folder's name)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``name`` (dotted, under eo_ray) is a module or package of the source tree."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def stage_of(module: str) -> str:
    """The stage package of an eo_ray module (ROOT for the package itself, BASE for its
    top-level modules but ``cli``)."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT
    if parts[1] == "cli" and len(parts) == 2:
        return "cli"
    if (PACKAGE / parts[1] / "__init__.py").is_file():
        return parts[1]
    return BASE


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector(ast.NodeVisitor):
    def __init__(self, source: str, file: Path, lines: list[str]) -> None:
        self.source = source
        self.file = str(file.relative_to(PACKAGE.parent))
        self.lines = lines
        self.package = source if file.name == "__init__.py" else source.rpartition(".")[0]
        self.root_aliases: set[str] = set()
        self.imports: list[Import] = []

    def _add(self, node: ast.AST, target: str) -> None:
        is_import = isinstance(node, ast.Import | ast.ImportFrom)
        text = ast.unparse(node) if is_import else self.lines[node.lineno - 1].strip()
        found = Import(self.source, target, self.file, node.lineno, text)
        if found not in self.imports:
            self.imports.append(found)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "eo_ray":
                self.root_aliases.add(alias.asname or "eo_ray")
            elif alias.name.startswith("eo_ray."):
                self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        if module != "eo_ray" and not module.startswith("eo_ray."):
            return
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            self._add(node, sub if is_module(sub) else module)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if (
            isinstance(value, ast.Name)
            and value.id in self.root_aliases
            and (PACKAGE / node.attr / "__init__.py").is_file()
        ):
            self._add(node, f"eo_ray.{node.attr}")
        self.generic_visit(node)


def collect_imports() -> list[Import]:
    """Every eo_ray-internal import of every module of the package."""
    imports = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        collector = _Collector(module_name(path), path, source.splitlines())
        collector.visit(ast.parse(source, str(path)))
        imports.extend(i for i in collector.imports if i.target != i.source)
    return imports


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def _cycle_report(component: list[str], imports: list[Import], key) -> str:
    members = set(component)
    lines = [f"cycle between {', '.join(component)}:"]
    lines += [
        f"    {i}"
        for i in imports
        if key(i.source) in members and key(i.target) in members and key(i.source) != key(i.target)
    ]
    return "\n".join(lines)


IMPORTS = collect_imports()


def test_the_parser_sees_imports_inside_functions_and_skips_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import eo_ray as eo\n"
        "if TYPE_CHECKING:\n"
        "    from eo_ray.models import registry\n"
        "def f():\n"
        "    from eo_ray.hpo import search\n"
        "    return eo.serving\n"
    )
    collector = _Collector("eo_ray.ingest.x", PACKAGE / "ingest" / "x.py", source.splitlines())
    collector.visit(ast.parse(source))
    assert [i.target for i in collector.imports] == ["eo_ray.hpo", "eo_ray.serving"]


def test_every_stage_package_has_a_place_in_the_order() -> None:
    stages = {stage_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    unknown = sorted(stages - set(LEVEL))
    assert not unknown, f"stage packages missing from the order in {__file__}: {unknown}"


def test_no_stage_imports_a_stage_above_or_beside_it() -> None:
    wrong = []
    for imp in IMPORTS:
        src, dst = stage_of(imp.source), stage_of(imp.target)
        if src == dst or src in TOP:
            continue
        if LEVEL[dst] > LEVEL[src]:
            wrong.append(f"{imp}\n    ({src} imports {dst}, which is above it)")
        elif LEVEL[dst] == LEVEL[src]:
            wrong.append(f"{imp}\n    ({src} imports {dst}, which is on the same level)")
    assert not wrong, "imports against the stage order:\n" + "\n".join(wrong)


def test_no_cycle_between_stage_packages() -> None:
    edges: dict[str, set[str]] = {}
    for imp in IMPORTS:
        src, dst = stage_of(imp.source), stage_of(imp.target)
        if src != dst:
            edges.setdefault(src, set()).add(dst)
    found = cycles(edges)
    assert not found, "\n".join(_cycle_report(c, IMPORTS, stage_of) for c in found)


@pytest.mark.parametrize("stage", sorted(LEVEL))
def test_no_cycle_between_modules_of_one_stage(stage: str) -> None:
    inside = [i for i in IMPORTS if stage_of(i.source) == stage == stage_of(i.target)]
    edges: dict[str, set[str]] = {}
    for imp in inside:
        edges.setdefault(imp.source, set()).add(imp.target)
    found = cycles(edges)
    assert not found, "\n".join(_cycle_report(c, inside, lambda m: m) for c in found)
