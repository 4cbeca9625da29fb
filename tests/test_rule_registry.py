"""The rule registry (core/registry.py): one record per ID, two ways to register, a runner that never hides a crash."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.core import registry
from katib_gitops.core.diagnostics import FindingsError, Severity
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.core.registry import RAISE_ENV, RULES, Finding, Rule
from katib_gitops.rules import framework, validator
from katib_gitops.yamlio.writer import dump
from tests.helpers import write_specs
from tests.validate.helpers import VALID


@pytest.fixture
def private_registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Rule]:
    """Registrations made by a test go to a copy of the registry, dropped afterwards."""
    framework.rules()  # Katib's rules first, or a module imported now would register into the copy only
    copied = dict(RULES)
    monkeypatch.setattr(registry, "RULES", copied)
    return copied


def boom(*_: Any) -> Iterator[Finding]:
    raise RuntimeError("boom")


def raising(monkeypatch: pytest.MonkeyPatch, rule_id: str) -> None:
    """Rule `rule_id` raises from now on, and the runner reports it instead of re-raising (as outside tests)."""
    framework.rules()  # registers Katib's rules
    monkeypatch.setitem(RULES, rule_id, RULES[rule_id]._replace(check=boom))
    monkeypatch.delenv(RAISE_ENV)


# ------------------------------------------------------------------ registering


def test_both_ways_of_registering_make_the_same_record(private_registry: dict[str, Rule]) -> None:
    @registry.rule("ZZ-01", "ADVISORY", "A check.")
    def check(_: Any) -> Iterator[Finding]:
        yield Finding(("spec",), "found")

    declared = registry.declare("made-up", "TOOL", "An ID a stage emits.", remediation="Fix it.")
    assert private_registry["ZZ-01"] == Rule(
        "ZZ-01", "ADVISORY", Severity.WARNING, "A check.", check=check, module=__name__
    )
    assert (
        declared
        == private_registry["made-up"]
        == Rule("made-up", "TOOL", Severity.ERROR, "An ID a stage emits.", "Fix it.", module=__name__)
    )
    assert registry.checks("ADVISORY")[-1].id == "ZZ-01" and registry.lookup("made-up") is declared


@pytest.mark.parametrize(
    ("rule_id", "level", "doc", "problem"),
    [
        ("COUNT-04", "ADMIT", "Again.", "duplicate rule id COUNT-04"),
        ("count-04", "ADMIT", "Lower case.", "bad rule registration"),
        ("TS-NEW", "ADMIT", "A spec ID at a Katib level.", "bad rule registration"),
        ("MIG-1", "MIGRATE", "One digit.", "bad rule registration"),
        ("new-id", "NOLEVEL", "No such level.", "bad rule registration"),
        ("new-id", "TOOL", "not a sentence", "is not a sentence"),
    ],
)
def test_bad_registrations_are_refused(
    private_registry: dict[str, Rule], rule_id: str, level: str, doc: str, problem: str
) -> None:
    framework.rules()
    with pytest.raises(ValueError, match=problem):
        registry.declare(rule_id, level, doc)


def test_since_and_until_bound_the_katib_versions_a_rule_applies_to() -> None:
    rule = Rule("X-01", "ADMIT", Severity.ERROR, "A rule.", since=(0, 15), until=(0, 18))
    assert [rule.applies(v) for v in ((0, 14), (0, 15), (0, 17), (0, 18))] == [False, True, True, False]


# ------------------------------------------------------------------ a rule that raises


def test_a_raising_check_is_an_internal_error_finding_naming_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RAISE_ENV)
    rule = Rule("X-01", "ADMIT", Severity.WARNING, "A rule.", check=boom)
    [(reported, finding)] = registry.run([rule], object())
    assert reported is registry.INTERNAL_ERROR and reported.id == "internal-error"
    assert reported.severity is Severity.ERROR and finding.path == ()
    assert finding.message == "rule X-01 failed: RuntimeError: boom; please report it"


def test_under_the_tests_a_raising_check_raises() -> None:
    rule = Rule("X-01", "ADMIT", Severity.ERROR, "A rule.", check=boom)
    with pytest.raises(RuntimeError, match="boom"):
        list(registry.run([rule], object()))


def validate(path: Path, *skip: str) -> list[tuple[int, int, str, str, Severity]]:
    options = validator.Options(paths=(str(path),), skip=frozenset(skip))
    outcome = validator.validate(options, io.StringIO())
    return [(d.line, d.column, d.rule_id, d.message, d.severity) for d in outcome.diagnostics]


def test_validate_reports_a_raising_katib_rule_at_the_experiment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("# the Experiment\n" + dump(VALID))
    raising(monkeypatch, "COUNT-04")
    assert validate(path) == [
        (2, 1, "internal-error", "rule COUNT-04 failed: RuntimeError: boom; please report it", Severity.ERROR)
    ]
    assert validate(path, "COUNT-04") == []  # a skipped rule does not run


def test_a_raising_rule_skipped_by_annotation_does_not_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = {**VALID, "metadata": {**VALID["metadata"], "annotations": {validator.SKIP_ANNOTATION: "COUNT-04"}}}
    path = tmp_path / "e.yaml"
    path.write_text(dump(data))
    raising(monkeypatch, "COUNT-04")
    assert validate(path) == []


def test_generate_reports_a_raising_spec_rule_at_the_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = write_specs(tmp_path)
    raising(monkeypatch, "TS-NAME")
    with pytest.raises(FindingsError) as caught:
        planning.load(folder)
    [problem] = caught.value.diagnostics
    assert (Path(problem.file).name, problem.line, problem.column, problem.rule_id) == (
        "demo.yaml",
        1,
        1,
        "internal-error",
    )
    assert problem.message == "rule TS-NAME failed: RuntimeError: boom; please report it"


# ------------------------------------------------------------------ wrongly typed parts


def replaced(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "parameters"), 1),
        (("spec", "parameters", 0, "name"), []),
        (("spec", "parameters", 0, "name"), ["x"]),
        (("spec", "parameters", 0, "parameterType"), []),
        (("spec", "objective", "objectiveMetricName"), []),
        (("spec", "earlyStopping"), {"algorithmName": []}),
        (("spec", "trialTemplate", "trialParameters", 0, "name"), ["x"]),
        (("spec", "trialTemplate", "trialParameters", 0, "reference"), ["x"]),
        (("spec", "trialTemplate", "trialSpec", "spec", "template", "spec", "containers"), 1),
    ],
)
def test_no_katib_rule_raises_on_a_wrongly_typed_part(path: tuple[str | int, ...], value: Any) -> None:
    """Such parts are G-03's errors; every rule still judges the rest (the test suite re-raises a rule's exception)."""
    data = replaced(path, value)
    if path[-1] == "parameterType":
        data["spec"]["algorithm"] = {"algorithmName": "sobol"}  # goptuna's (GO-04)
    if path[1] == "objective":
        data["spec"]["objective"]["metricStrategies"] = [{"name": "loss", "value": "min"}]
    assert len(framework.rules()) > 100
    for version in ((0, 14), KATIB_VERSION):
        found = list(framework.run(framework.context_for(data, version=version)))
        assert registry.INTERNAL_ERROR not in [rule for rule, _ in found]
