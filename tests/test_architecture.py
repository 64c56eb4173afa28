"""The shape of the house, read from the source: which package imports which.

A package is a folder under engine/, stacks/ or components/, or a module at the
top of one (``terrane.engine.api``). Every import counts, a lazy one inside a
function or one under ``TYPE_CHECKING`` too: each is a dependency someone
reading the code has to follow. Inside each of engine's packages, the same holds
for its modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"engine": "terrane.engine", "stacks": "terrane.stacks", "components": "terrane.components"}


def _modules() -> Iterator[tuple[str, Path]]:
    for folder, prefix in SOURCES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((prefix, *parts)), path


def _imported(module: str, path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _source(module, path, node)
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _source(module: str, path: Path, node: ast.ImportFrom) -> str:
    """What ``from ... import`` imports from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _package(module: str) -> str | None:
    """``terrane.engine.drift.detect`` is in ``terrane.engine.drift``; ``terrane.engine`` is its own."""
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[0] == "terrane" and len(parts) >= 2 else None


def _graph() -> dict[str, set[str]]:
    known = {_package(module) for module, _ in _modules()}
    graph: dict[str, set[str]] = {}
    for module, path in _modules():
        source = _package(module)
        assert source is not None
        targets = {_package(name) for name in _imported(module, path)}
        graph.setdefault(source, set()).update(t for t in targets if t in known and t != source)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as the packages along it, or None."""
    done: set[str] = set()
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in trail:
            return [*trail[trail.index(node):], node]
        if node in done:
            return None
        trail.append(node)
        for following in sorted(graph.get(node, ())):
            if found := visit(following):
                return found
        trail.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if found := visit(start):
            return found
    return None


def test_no_package_imports_one_that_imports_it_back() -> None:
    graph = _graph()
    assert len(graph) > 20, "the graph was not read"
    cycle = _cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle or ())


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b", "c"}, "b": {"c"}, "c": {"b"}}, ["b", "c", "b"]),
])
def test_a_cycle_is_found_at_any_length(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert _cycle(graph) == expected


def test_the_ground_floor_imports_only_the_top_level_modules() -> None:
    allowed = {"terrane.engine.errors", "terrane.engine.files", "terrane.engine.project"}
    assert _graph()["terrane.engine.store"] <= allowed


def _module_graph(package: str) -> dict[str, set[str]]:
    """Which module of ``package`` (a folder) imports which other of its modules, the folder's ``__init__`` too.

    ``from package import module`` is an import of that module; importing a module is not counted as an
    import of the ``__init__`` above it, which Python runs first whatever imports what.
    """
    modules = {module: path for module, path in _modules() if module == package or module.startswith(f"{package}.")}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _source(module, path, node)
                named = {f"{source}.{alias.name}" for alias in node.names} & modules.keys()
                targets.update(named if len(named) == len(node.names) else {source, *named})
        graph[module] = {target for target in targets if target in modules and target != module}
    return graph


def _engine_packages() -> list[str]:
    """The folders under engine/."""
    return sorted(f"terrane.engine.{folder.name}" for folder in (ROOT / "engine").iterdir()
                  if (folder / "__init__.py").is_file())


@pytest.mark.parametrize("package", _engine_packages())
def test_no_module_imports_one_that_imports_it_back(package: str) -> None:
    cycle = _cycle(_module_graph(package))
    assert cycle is None, "import circle: " + " -> ".join(cycle or ())


def test_the_cli_reaches_the_engine_only_through_its_api() -> None:
    """The CLI parses, calls the Engine and renders: it imports the Engine and what it returns, the errors, and
    itself; nothing behind the Engine."""
    allowed = ("terrane.engine.api", "terrane.engine.results", "terrane.engine.errors", "terrane.engine.cli")
    cli = [(module, path) for module, path in _modules() if module.startswith("terrane.engine.cli")]
    assert len(cli) > 10, "the CLI's modules were not read"
    reached = {f"{path.name}: {name}" for module, path in cli for name in _imported(module, path)
               if name.split(".")[0] == "terrane" and not name.startswith(tuple(f"{a}." for a in allowed))
               and name not in allowed}
    assert not reached, "the CLI reaches past the Engine: " + ", ".join(sorted(reached))


MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60


def test_product_files_and_functions_are_small() -> None:
    """A file a newcomer can read in one sitting, a function in one screen."""
    too_big = []
    for module, path in _modules():
        source = path.read_text(encoding="utf-8")
        if (lines := source.count("\n")) > MAX_FILE_LINES:
            too_big.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_big.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {length} lines")
    assert not too_big, "over the limits: " + "; ".join(too_big)
