"""The rule registry against the code and the tests: every ID emitted is registered, every registered ID is tested.

The IDs this file names do not count as tests of them (ONLY_LISTS).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from katib_gitops.cli.catalog import all_rules
from tests.conftest import ROOT

PACKAGE = ROOT / "generator"
TESTS = ROOT / "tests"
# Test files that only list IDs (none today): an ID they name still needs a test of its own.
ONLY_LISTS: frozenset[Path] = frozenset({Path(__file__).resolve()})
# The shapes of the catalogue's IDs (COUNT-04, TT-R3, TS-NAME, MIG-08): such a string anywhere in the code is a rule ID.
CATALOGUE_ID = re.compile(r"([A-Z]+(-[A-Z0-9]+)*-R?\d+[a-z]?|TS(-[A-Z]+)+|MIG-\d\d)\Z")
NOT_RULES = frozenset({"UTF-16", "UTF-32"})  # encodings the reader names
RULE_PARAMETERS = ("rule_id", "rule")


def registered() -> set[str]:
    return {rule.id for rule in all_rules()}


# ------------------------------------------------------------------ every registered ID has a test


def test_every_registered_rule_is_named_by_a_test() -> None:
    """A test names the ID as a string ('ID', "ID") or as the text reports show it ([ID])."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(TESTS.rglob("*.py")) if path not in ONLY_LISTS]
    untested = [
        rule_id
        for rule_id in sorted(registered())
        if not any(re.search(f"[\"'\\[]{re.escape(rule_id)}[\"'\\]]", text) for text in texts)
    ]
    assert untested == [], "add a test asserting each one's finding (rule ID and position)"


# ------------------------------------------------------------------ every emitted ID is registered


def _modules() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py"))}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _rule_positions(trees: dict[Path, ast.Module]) -> dict[str, int]:
    """Callable name -> index of its rule-ID argument, for every function, method and record of the package taking one.

    A name defined several times counts only when every definition takes the ID at the same place.
    """
    seen: dict[str, set[int | None]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                names = names[1:] if names[:1] in (["self"], ["cls"]) else names
            elif isinstance(node, ast.ClassDef):
                init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
                names = (
                    [a.arg for a in init.args.args[1:]]
                    if init is not None
                    else [
                        s.target.id
                        for s in node.body
                        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                    ]
                )
            else:
                continue
            index = next((names.index(p) for p in RULE_PARAMETERS if p in names), None)
            seen.setdefault(node.name, set()).add(index)
    return {name: index for name, found in seen.items() if len(found) == 1 for index in found if index is not None}


def _results(node: ast.expr) -> list[ast.expr]:
    """The expressions `node` may evaluate to: both arms of `a if c else b`, each operand of `a or b`."""
    if isinstance(node, ast.IfExp):
        return _results(node.body) + _results(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [part for value in node.values for part in _results(value)]
    return [node]


def _strings(node: ast.expr) -> list[str]:
    return [r.value for r in _results(node) if isinstance(r, ast.Constant) and isinstance(r.value, str)]


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    """Names assigned string literals anywhere in a module (module constants and local variables)."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, []).extend(_strings(node.value))
    return found


def _emitted(trees: dict[Path, ast.Module]) -> Iterator[tuple[str, str]]:
    """(where, ID) of every string given as the rule ID to a Diagnostic, Note or other rule-taking call."""
    positions = _rule_positions(trees)
    for path, tree in trees.items():
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            arguments = [k.value for k in node.keywords if k.arg in RULE_PARAMETERS]
            index = positions.get(_name(node.func))
            if index is not None and index < len(node.args):
                arguments.append(node.args[index])
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for argument in arguments:
                yield from ((where, value) for value in _strings(argument))
                for result in _results(argument):
                    if isinstance(result, ast.Name):
                        yield from ((where, value) for value in constants.get(result.id, []))


def test_the_scan_finds_the_emitters() -> None:
    positions = _rule_positions(_modules())
    assert {"Diagnostic": 3, "diagnostic": 1, "Note": 3, "Fail": 2, "_problem": 3, "declare": 0}.items() <= (
        positions.items()
    )
    assert len({rule_id for _, rule_id in _emitted(_modules())}) > 40


def test_the_scan_would_catch_an_unregistered_id() -> None:
    example = """
def emit(document, problems):
    document.diagnostic([], "made-up", "a message")
    problems.note([], MADE_UP, "a message")
MADE_UP = "made-up-too"
"""
    trees = {**_modules(), PACKAGE / "example.py": ast.parse(example)}
    assert {rule_id for _, rule_id in _emitted(trees)} >= {"made-up", "made-up-too"}


def test_every_rule_id_the_package_emits_is_registered() -> None:
    known = registered()
    unknown = sorted({f"{where}: {rule_id}" for where, rule_id in _emitted(_modules()) if rule_id not in known})
    assert unknown == [], "register each with core.registry.declare (or @rule) in the module that emits it"


def test_every_catalogue_id_the_code_names_is_registered() -> None:
    """A catalogue-shaped string anywhere in the code (`d.rule_id == "TT-R3"`, a set of IDs) names a registered rule."""
    known = registered() | NOT_RULES
    unknown = []
    for path, tree in _modules().items():
        documented = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        unknown += [
            f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CATALOGUE_ID.match(node.value)
            and id(node) not in documented
            and node.value not in known
        ]
    assert unknown == []


@pytest.mark.parametrize("text", ["TT-R3", "COUNT-04", "TS-NAME", "MIG-08", "ENAS-08"])
def test_the_catalogue_shape_matches_its_ids(text: str) -> None:
    assert CATALOGUE_ID.match(text)
