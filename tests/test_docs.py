"""README.md and docs/*.md: their examples run, their links resolve, and the README stays short.

The conventions a page follows (docs/development.md, "Examples in the docs", says the same to writers):

- A ```sh block runs line by line, in-process, against a fresh copy of the sample project (one copy per
  page, its blocks in order; each block starts in the project's root). A line is ``terrane ARGS``,
  ``cd DIR`` or a comment. A ``# ... exit N ...`` comment after a command is the exit code it must
  return (0 otherwise); ``> FILE`` writes its stdout to FILE. In a block that shows a transcript, the
  commands start with ``$ `` and every line shown under one must appear in what it printed (stdout or
  stderr; ``...`` stands for any text, runs of spaces for any amount of space).
- ```sh no-run (and ```python no-run) marks an example that needs a cloud or the Pulumi CLI: it is not
  run, and NO_RUN counts such blocks per page, so they cannot grow unnoticed. A ```sh block without a
  terrane command (installing, building, testing) is not an example of terrane and is not run.
- A ```python block is executed; one with ``>>>`` lines is a doctest, whose shown results must match.
- ``file=PATH`` after the language names a file of the project: if the sample has it, the block must
  say the same (YAML compared as data); otherwise the block is written there for the page's examples.
- Every ```yaml and ```json block parses.
"""

from __future__ import annotations

import doctest
import json
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from terrane.engine.cli import main
from terrane.engine.cli.app import cli
from terrane.stacks.spec import environments as spec
from tests.helpers.project import REPO, SampleProject

README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]
README_LINE_BUDGET = 80

PLAN_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/terrane plan aws-dev"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest -q"

# Examples that need a cloud account or the Pulumi CLI, by page: shown, never run.
NO_RUN = {
    "README.md": 3,
    "docs/accounts.md": 4,
    "docs/audit.md": 0,
    "docs/components.md": 0,
    "docs/development.md": 0,
    "docs/drift.md": 6,
    "docs/environments.md": 0,
    "docs/migration.md": 8,
    "docs/operations.md": 4,
    "docs/python-api.md": 2,
    "docs/scaling.md": 2,
}

# The spec's models, by the path their fields have in an environment file.
SPEC_MODELS: dict[str, type[BaseModel]] = {
    "": spec.Environment,
    "network.": spec.NetworkSpec,
    "cluster.": spec.ClusterSpec,
    "cluster.node_pools[].": spec.NodePool,
    "secrets.": spec.SecretsSpec,
    "kubernetes.": spec.KubernetesSpec,
    "kubernetes.namespaces[].": spec.NamespaceSpec,
    "drift.": spec.DriftSpec,
    "drift.ignore[].": spec.IgnoreRule,
}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+)(?P<info>.*)$")
_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_HIDDEN_TERRANE = re.compile(r"(^|[\s/&;|(])terrane\s")
_EXIT = re.compile(r"\bexit (\d)\b")


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: Path
    line: int
    info: tuple[str, ...]
    text: str

    @property
    def language(self) -> str:
        return self.info[0] if self.info else ""

    @property
    def runs(self) -> bool:
        return "no-run" not in self.info

    @property
    def file(self) -> str | None:
        return next((word.removeprefix("file=") for word in self.info if word.startswith("file=")), None)

    @property
    def where(self) -> str:
        return f"{relative(self.page)}:{self.line}"


@dataclass(frozen=True)
class Page:
    path: Path
    blocks: tuple[Block, ...]
    prose: str
    """The page without its code blocks."""


def read_page(path: Path) -> Page:
    blocks: list[Block] = []
    prose: list[str] = []
    opened: tuple[int, str, str, tuple[str, ...]] | None = None
    body: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = _FENCE.match(line)
        if opened is None:
            if fence:
                opened = (number, fence["indent"], fence["fence"], tuple(fence["info"].split()))
                body = []
            else:
                prose.append(line)
        elif fence and fence["fence"] == opened[2] and not fence["info"].strip():
            start, indent, _, info = opened
            text = "\n".join(row[len(indent):] if row.startswith(indent) else row.lstrip() for row in body)
            blocks.append(Block(path, start, info, text + "\n"))
            opened = None
        else:
            body.append(line)
    assert opened is None, f"{relative(path)}:{opened[0]}: a code block is never closed"
    return Page(path, tuple(blocks), "\n".join(prose))


def all_pages() -> list[Page]:
    return [read_page(path) for path in PAGES]


# --- the README -------------------------------------------------------------------------------------------------


def test_readme_starts_with_the_install_commands_ci_runs() -> None:
    first, second = read_page(README).blocks[:2]
    assert (first.info, first.text) == (("sh",), PLAN_COMMAND + "\n")
    assert (second.info, second.text) == (("sh",), TEST_COMMAND + "\n")
    assert README.read_text().index(PLAN_COMMAND) < README.read_text().index(TEST_COMMAND)
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text().splitlines()


def test_readme_fits_its_line_budget() -> None:
    assert len(README.read_text().splitlines()) <= README_LINE_BUDGET


def test_readme_links_every_docs_page() -> None:
    linked = {(README.parent / match["target"].split("#")[0]).resolve()
              for match in _LINK.finditer(read_page(README).prose)}
    assert set(PAGES[1:]) <= linked


# --- links --------------------------------------------------------------------------------------------------------


def anchors(page: Page) -> set[str]:
    """The anchors GitHub gives the page's headings."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+\s+(.+?)\s*$", page.prose, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            seen[f"{slug}-{count}"] = 1
    return set(seen)


@pytest.mark.parametrize("page", all_pages(), ids=lambda page: relative(page.path))
def test_relative_links_point_at_files_and_headings_of_the_repository(page: Page) -> None:
    for match in _LINK.finditer(page.prose):
        target = match["target"]
        if re.match(r"[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (page.path.parent / path_part).resolve() if path_part else page.path
        assert path.is_relative_to(REPO) and path.exists(), f"{relative(page.path)}: {target} does not exist"
        if anchor:
            assert anchor in anchors(read_page(path)), f"{relative(page.path)}: {target}: no such heading"


@pytest.mark.parametrize("page", all_pages(), ids=lambda page: relative(page.path))
def test_pages_cite_nothing_outside_the_repository(page: Page) -> None:
    text = page.path.read_text()
    assert "DESIGN.md" not in text and "../shared" not in text


# --- coverage of the spec and the commands -------------------------------------------------------------------------


def test_every_field_of_the_environment_spec_is_documented() -> None:
    text = (REPO / "docs" / "environments.md").read_text()
    missing = [f"{prefix}{name}" for prefix, model in SPEC_MODELS.items() for name in model.model_fields
               if f"`{prefix}{name}`" not in text]
    assert missing == []


def command_paths(group: object = cli, prefix: str = "terrane") -> Iterator[str]:
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            yield from command_paths(command, path)
        else:
            yield path


def test_every_command_is_documented() -> None:
    text = "\n".join(path.read_text() for path in PAGES)
    assert [path for path in command_paths() if path not in text] == []


# --- the examples ---------------------------------------------------------------------------------------------------


def test_no_run_blocks_are_the_expected_ones() -> None:
    counts = {relative(page.path): sum(not block.runs for block in page.blocks) for page in all_pages()}
    assert counts == NO_RUN


@dataclass
class Command:
    """A line of a ```sh example: ``terrane ARGS`` or ``cd DIR``, and what it must do."""

    words: list[str]
    exit_code: int
    stdout_to: str | None
    shown: list[str] = field(default_factory=list)


def commands(block: Block) -> list[Command]:
    """The commands of a runnable sh block; none for a block that is not an example of terrane."""
    lines = block.text.replace("\\\n", " ").splitlines()
    transcript = any(line.startswith("$ ") for line in lines)
    found: list[Command] = []
    others: list[str] = []
    for line in lines:
        if transcript and not line.startswith("$ "):
            if line.strip():
                assert found, f"{block.where}: output before the first $ command"
                found[-1].shown.append(line)
            continue
        code, _, comment = line.removeprefix("$ ").partition(" #")
        if not code.strip() or code.lstrip().startswith("#"):
            continue
        words = shlex.split(code)
        if words[0] not in ("terrane", "cd"):
            others.append(code)
            continue
        stdout_to = None
        if ">" in words:
            assert words.index(">") == len(words) - 2, f"{block.where}: '> FILE' ends a command"
            stdout_to = words[-1]
            words = words[:-2]
        exit_code = _EXIT.search(comment)
        found.append(Command(words, int(exit_code[1]) if exit_code else 0, stdout_to))
    if not found and not any(_HIDDEN_TERRANE.search(line) for line in others):
        return []
    assert not others, (f"{block.where}: {others[0]!r}: a runnable sh block holds only terrane commands and cd; "
                        "mark it 'sh no-run' if it needs a cloud or the Pulumi CLI")
    return found


def shown_in(shown: str, printed: str) -> bool:
    pattern = ".*".join(re.escape(" ".join(part.split())) for part in shown.split("..."))
    return any(re.search(pattern, " ".join(line.split())) for line in printed.splitlines())


@dataclass
class Reader:
    """Someone following a page: a copy of the sample project, the terrane command, a Python prompt."""

    root: Path
    capsys: pytest.CaptureFixture[str]
    chdir: Callable[[Path], None]

    def run(self, block: Block) -> None:
        if block.file:
            self.file(block)
        elif block.language == "sh" and block.text.strip() not in (PLAN_COMMAND, TEST_COMMAND):
            self.shell(block)
        elif block.language == "python" and ">>>" in block.text:
            self.doctest(block)
        elif block.language == "python":
            exec(compile(block.text, block.where, "exec"), {"__name__": "__docs__"})  # noqa: S102 - the example itself
        elif block.language == "yaml":
            assert list(yaml.safe_load_all(block.text)), block.where
        elif block.language == "json":
            json.loads(block.text)
        else:
            untested = [line for line in block.text.splitlines() if line.startswith(("terrane ", "$ terrane"))]
            assert not untested, f"{block.where}: a terrane example belongs in a sh block"

    def file(self, block: Block) -> None:
        path = self.root / str(block.file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        elif block.language == "yaml":
            assert yaml.safe_load(block.text) == yaml.safe_load(path.read_text()), f"{block.where}: not {block.file}"
        else:
            assert block.text == path.read_text(), f"{block.where}: not {block.file}"

    def shell(self, block: Block) -> None:
        self.chdir(self.root)
        for command in commands(block):
            if command.words[0] == "cd":
                self.chdir(Path.cwd() / command.words[1])
                continue
            self.capsys.readouterr()
            code = main(command.words[1:])
            out, err = self.capsys.readouterr()
            where = f"{block.where}: {shlex.join(command.words)}"
            assert code == command.exit_code, f"{where}: exit {code}\n{out}{err}"
            if command.stdout_to:
                (Path.cwd() / command.stdout_to).write_text(out)
            for line in command.shown:
                assert shown_in(line, out + err), f"{where}: {line!r} is not in\n{out}{err}"
        self.chdir(self.root)

    def doctest(self, block: Block) -> None:
        test = doctest.DocTestParser().get_doctest(block.text, {"__name__": "__docs__"}, block.where,
                                                   str(block.page), block.line)
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        result = runner.run(test, out=report.append)
        assert result.attempted and not result.failed, "".join(report)


@pytest.mark.parametrize("page", all_pages(), ids=lambda page: relative(page.path))
def test_examples_run_against_the_sample_project(page: Page, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SampleProject.copy_to(tmp_path / "project")
    for name in ("TERRANE_PROJECT", "TERRANE_PROGRAM"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.syspath_prepend(str(sample.root))
    imported = set(sys.modules)
    reader = Reader(sample.root, capsys, monkeypatch.chdir)
    try:
        for block in page.blocks:
            if block.runs:
                reader.run(block)
    finally:
        for name in set(sys.modules) - imported:
            module = sys.modules[name]
            origins = [getattr(module, "__file__", None) or "", *getattr(module, "__path__", [])]
            if any(origin.startswith(str(tmp_path)) for origin in origins):
                del sys.modules[name]
