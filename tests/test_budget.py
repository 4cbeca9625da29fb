"""Budgets: a spec overrides a profile's per profile; a profile's budget that breaks a spec is reported at both."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from katib_gitops.commands.generate import command
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.expand import overlays
from tests.helpers import TARGETS, spec, write_specs

HYPERBAND = {"name": "hyperband", "settings": {"r_l": 9, "eta": 3, "resource_name": "--epochs"}}


def _targets(**profiles: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(TARGETS)
    out["spec"]["profiles"] = profiles
    return out


def _line(path: Path, *texts: str) -> int:
    """The line of the last of `texts`, each found after the one before it."""
    lines = path.read_text().splitlines()
    number = 0
    for text in texts:
        number = next(i for i, line in enumerate(lines, 1) if i > number and text in line)
    return number


def _problems(folder: Path) -> list[tuple[str, int, str, str, str]]:
    try:
        command.load(folder)
    except FindingsError as exc:
        return [(d.file.rsplit("/", 1)[-1], d.line, d.rule_id, d.path, d.message) for d in exc.diagnostics]
    return []


def test_a_spec_overrides_a_profiles_budget_for_that_profile(tmp_path: Path) -> None:
    targets = _targets(gpu={"budget": {"parallelTrials": 1, "maxFailedTrials": 1}}, cpu={})
    data = spec(
        targets={"namespaces": ["team-a"], "profiles": ["gpu", "cpu"], "budget": {"gpu": {"parallelTrials": 2}}}
    )
    (expansion,) = overlays.expand(command.load(write_specs(tmp_path, data, targets=targets)))
    counts = {
        o.profile: {k: v for k, v in o.experiment["spec"].items() if k.endswith("Count")} for o in expansion.overlays
    }
    assert counts == {
        # spec.targets.budget.gpu over the profile's budget over spec.budget
        "gpu": {"parallelTrialCount": 2, "maxTrialCount": 12, "maxFailedTrialCount": 1},
        "cpu": {"parallelTrialCount": 3, "maxTrialCount": 12, "maxFailedTrialCount": 3},
    }


def test_a_profile_budget_over_the_specs_max_trials_is_reported_at_the_profile_and_the_spec(tmp_path: Path) -> None:
    targets = _targets(big={"budget": {"parallelTrials": 20}})
    data = spec(targets={"namespaces": ["team-a"], "profiles": ["big"]})
    folder = write_specs(tmp_path, data, targets=targets)
    message = "parallelTrials (20) exceeds maxTrials (12)"
    profile_line = _line(folder / "targets.yaml", "big:", "parallelTrials:")
    assert _problems(folder) == [
        (
            "demo.yaml",
            _line(folder / "demo.yaml", "maxTrials:"),
            "TS-BUDGET",
            "spec.budget.maxTrials",
            f"{message} with profile 'big' ({_prefix(folder)}targets.yaml:{profile_line})",
        ),
        (
            "targets.yaml",
            profile_line,
            "TS-BUDGET",
            "spec.profiles.big.budget.parallelTrials",
            f"{message} for spec 'demo' ({_prefix(folder)}demo.yaml)",
        ),
    ]


def _prefix(folder: Path) -> str:
    """How the loader names files of `folder`: relative to the working directory when it can."""
    try:
        return folder.resolve().relative_to(Path.cwd().resolve()).as_posix() + "/"
    except ValueError:
        return str(folder) + "/"


def test_a_profile_too_small_for_a_hyperband_spec_is_reported_at_the_profile_and_the_spec(tmp_path: Path) -> None:
    targets = _targets(gpu={"budget": {"parallelTrials": 1}}, cpu={})
    data = spec(algorithm=HYPERBAND, budget={"maxTrials": 12, "parallelTrials": 9})
    folder = write_specs(tmp_path, data, targets=targets)
    message = "hyperband's brackets need parallelTrials of at least 9; it is 1 (HB-04)"
    profile_line = _line(folder / "targets.yaml", "gpu:", "parallelTrials:")
    assert _problems(folder) == [
        (
            "demo.yaml",
            _line(folder / "demo.yaml", "profiles:", "gpu"),
            "TS-BUDGET",
            "spec.targets.profiles[0]",
            f"{message} with profile 'gpu' ({_prefix(folder)}targets.yaml:{profile_line})",
        ),
        (
            "targets.yaml",
            profile_line,
            "TS-BUDGET",
            "spec.profiles.gpu.budget.parallelTrials",
            f"{message} for spec 'demo' ({_prefix(folder)}demo.yaml)",
        ),
    ]
    # The spec's own override for the profile mends it, without touching the shared profile.
    data["spec"]["targets"]["budget"] = {"gpu": {"parallelTrials": 9}}
    assert _problems(write_specs(tmp_path, data, targets=targets)) == []


def test_a_hyperband_spec_of_its_own_too_small_is_reported_at_its_value(tmp_path: Path) -> None:
    folder = write_specs(tmp_path, spec(algorithm=HYPERBAND), targets=_targets(cpu={}, gpu={}))
    message = "hyperband's brackets need parallelTrials of at least 9; it is 3 (HB-04)"
    line = _line(folder / "demo.yaml", "parallelTrials:")
    # once, not once per profile: the spec's own value is the same for both
    assert _problems(folder) == [("demo.yaml", line, "TS-BUDGET", "spec.budget.parallelTrials", message)]


def test_a_budget_for_a_profile_the_spec_does_not_deploy_to_is_an_error(tmp_path: Path) -> None:
    data = spec(targets={"namespaces": ["team-a"], "profiles": ["cpu"], "budget": {"gpu": {"parallelTrials": 1}}})
    folder = write_specs(tmp_path, data)
    assert _problems(folder) == [
        (
            "demo.yaml",
            _line(folder / "demo.yaml", "budget:", "gpu:"),
            "TS-TARGETS",
            "spec.targets.budget.gpu",
            "budget for profile 'gpu', which this spec does not deploy to",
        )
    ]
