"""The package's layers: every import, lazy ones too, goes to its own layer or a lower one (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "generator"
# Lowest first. A module may import from its own layer and the layers before it.
LAYERS = ("core", "yamlio", "kustomize", "schema", "spec", "expand", "rules", "migration", "commands", "cli")
# Modules at the top of the package: the version is a core fact, `python -m katib_gitops` is the command line.
TOP = {"katib_gitops": "core", "katib_gitops.__main__": "cli"}
SHARED_BY_COMMANDS = {"katib_gitops.commands.report"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("katib_gitops", *parts))


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    if module in TOP:
        return TOP[module]
    return module.split(".")[1]


def command(module: str) -> str | None:
    """The command a module belongs to ('generate', 'importer', ...), or None outside commands/ or for shared ones."""
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "commands" or module in SHARED_BY_COMMANDS:
        return None
    return parts[2]


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of the package in a file, at any depth (lazy and TYPE_CHECKING ones too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names if alias.name.startswith("katib_gitops"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("katib_gitops"):
            known = modules()
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield node.lineno, submodule if submodule in known else node.module


def test_every_module_is_in_a_layer() -> None:
    assert {layer(m) for m in modules()} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_go_down_the_layers(module: str) -> None:
    rank = LAYERS.index(layer(module))
    upward = [
        f"line {line}: {target}" for line, target in imports(modules()[module]) if LAYERS.index(layer(target)) > rank
    ]
    assert upward == [], f"{module} ({layer(module)}) imports from higher layers"


@pytest.mark.parametrize("module", sorted(m for m in modules() if command(m)))
def test_no_command_imports_another_commands_modules(module: str) -> None:
    own = command(module)
    foreign = [f"line {line}: {t}" for line, t in imports(modules()[module]) if command(t) not in (None, own)]
    assert foreign == []


def dynamic_imports(path: Path) -> Iterator[int]:
    """Lines of `import_module(...)` calls that may load a module of the package (anything but a literal outside it)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            target = node.args[0] if node.args else None
            if not (isinstance(target, ast.Constant) and not str(target.value).startswith("katib_gitops")):
                yield node.lineno


def test_no_module_of_the_package_is_imported_by_a_name_in_a_string() -> None:
    """Imports are explicit, so this test and a reader see every one of them."""
    found = [f"{m}:{line}" for m, path in modules().items() for line in dynamic_imports(path)]
    assert found == []
