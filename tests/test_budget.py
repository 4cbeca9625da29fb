"""Budgets: a spec overrides a profile's per profile; a profile's budget that breaks a spec is reported at both."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from katib_gitops.commands.generate import planning
from katib_gitops.expand import overlays
from katib_gitops.rules import generated
from katib_gitops.spec.model import load_spec_set
from tests.helpers import TARGETS, spec, write_specs

HYPERBAND = {"name": "hyperband", "settings": {"r_l": 9, "eta": 3, "resource_name": "--epochs"}}
# hyperband's resource is a parameter of the search (HB-05), an int up to r_l (HB-06)
EPOCHS = {"name": "--epochs", "type": "int", "min": 1, "max": 9}


def hyperband_spec(**changes: Any) -> dict[str, Any]:
    data = spec(algorithm=HYPERBAND, **changes)
    data["spec"]["parameters"] = [*data["spec"]["parameters"], EPOCHS]
    return data


def _targets(**profiles: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(TARGETS)
    out["spec"]["profiles"] = profiles
    return out


def _column(path: Path, line: int, text: str) -> int:
    return path.read_text().splitlines()[line - 1].index(text) + 1


def _line(path: Path, *texts: str) -> int:
    """The line of the last of `texts`, each found after the one before it."""
    lines = path.read_text().splitlines()
    number = 0
    for text in texts:
        number = next(i for i, line in enumerate(lines, 1) if i > number and text in line)
    return number


def _problems(folder: Path) -> list[tuple[str, int, str, str, str]]:
    """generate's errors: the spec checks', then those of the Experiments it would build."""
    found = generated.check_spec_set(load_spec_set(folder))
    return [(d.file.rsplit("/", 1)[-1], d.line, d.rule_id, d.path, d.message) for d in found if d.severity == "error"]


def test_a_spec_overrides_a_profiles_budget_for_that_profile(tmp_path: Path) -> None:
    targets = _targets(gpu={"budget": {"parallelTrials": 1, "maxFailedTrials": 1}}, cpu={})
    data = spec(
        targets={"namespaces": ["team-a"], "profiles": ["gpu", "cpu"], "budget": {"gpu": {"parallelTrials": 2}}}
    )
    (expansion,) = overlays.expand(planning.load(write_specs(tmp_path, data, targets=targets)))
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
    data = hyperband_spec(budget={"maxTrials": 12, "parallelTrials": 9})
    folder = write_specs(tmp_path, data, targets=targets)
    # HB-04 is judged on the built Experiment (Katib's hyperband service refuses it) and reported where the
    # value is, the profile, and where the spec picks that profile: once each, naming the targets.
    message = "hyperband with r_l 9 and eta 3 needs parallelTrialCount of at least 9; it is 1"
    profile_line = _line(folder / "targets.yaml", "gpu:", "parallelTrials:")
    at = f"{_prefix(folder)}targets.yaml:{profile_line}:{_column(folder / 'targets.yaml', profile_line, '1')}"
    about = "Experiment field spec.parallelTrialCount"
    assert _problems(folder) == [
        (
            "demo.yaml",
            _line(folder / "demo.yaml", "profiles:", "gpu"),
            "HB-04",
            "spec.targets.profiles[0]",
            f"{message} ({about}; the value is at {at}; in 2 targets: demo/team-a/gpu, demo/team-b/gpu)",
        ),
        (
            "targets.yaml",
            profile_line,
            "HB-04",
            "spec.profiles.gpu.budget.parallelTrials",
            f"{message} ({about}; in 2 targets: demo/team-a/gpu, demo/team-b/gpu)",
        ),
    ]
    # The spec's own override for the profile mends it, without touching the shared profile.
    data["spec"]["targets"]["budget"] = {"gpu": {"parallelTrials": 9}}
    assert _problems(write_specs(tmp_path, data, targets=targets)) == []


def test_a_hyperband_spec_of_its_own_too_small_is_reported_at_its_value(tmp_path: Path) -> None:
    folder = write_specs(tmp_path, hyperband_spec(), targets=_targets(cpu={}, gpu={}))
    message = "hyperband with r_l 9 and eta 3 needs parallelTrialCount of at least 9; it is 3"
    line = _line(folder / "demo.yaml", "parallelTrials:")
    # once, not once per profile: the spec's own value is the same for both
    targets = "in 4 targets: demo/team-a/cpu, demo/team-a/gpu, demo/team-b/cpu, demo/team-b/gpu"
    assert _problems(folder) == [
        (
            "demo.yaml",
            line,
            "HB-04",
            "spec.budget.parallelTrials",
            f"{message} (Experiment field spec.parallelTrialCount; {targets})",
        )
    ]


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
