"""generate refuses what the cluster would refuse, at the spec's own line, once, and writes nothing.

Each case is a spec that passes the spec checks but builds an Experiment Katib refuses or fails, with
the upstream reason; `generate` and `validate specs/` report the same finding at the same node.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from katib_gitops.cli.main import main
from tests.helpers import TARGETS, spec, write_specs

EPOCHS = {"name": "--epochs", "type": "int", "min": 1, "max": 9}


def position(path: Path, *texts: str, at: str = "") -> tuple[int, int]:
    """Line and column of the last of `texts` (or of `at` on its line), each found on a line after the one
    before it."""
    lines = path.read_text().splitlines()
    number = 0
    for text in texts:
        number = next(i for i, line in enumerate(lines, 1) if i > number and text in line)
    return number, lines[number - 1].rindex(at or texts[-1]) + 1


def run(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = CliRunner().invoke(main, [*args, "--format", "json"])
    found = json.loads(result.stdout)["diagnostics"] if result.stdout.strip() else []
    return result.exit_code, found, result.stderr


def findings(tmp_path: Path, folder: Path) -> list[tuple[str, int, int, str]]:
    """generate's errors, checked against `validate specs/`: the same findings, nothing written."""
    out = tmp_path / "overlays"
    generated = CliRunner().invoke(main, ["generate", "--specs", str(folder), "--out", str(out)])
    assert generated.exit_code == 1, generated.output
    assert not out.exists()  # nothing written, not even the folder
    assert "overlays/" not in generated.stderr  # no finding names a file of the output folder
    code, validated, _ = run("validate", str(folder))
    assert code == 1
    errors = [
        (Path(d["file"]).name, d["line"], d["column"], d["rule_id"]) for d in validated if d["severity"] == "error"
    ]
    for name, line, column, rule in errors:
        assert f"{name}:{line}:{column}: error:" in generated.stderr and f"[{rule}]" in generated.stderr
    assert generated.stderr.count(": error:") == len(errors)  # each once, not per overlay
    return errors


def test_hyperband_with_too_few_parallel_trials_for_its_brackets(tmp_path: Path) -> None:
    # Katib's hyperband service refuses parallelTrialCount below the trials of its first bracket (HB-04)
    data = spec(algorithm={"name": "hyperband", "settings": {"r_l": 9, "eta": 3, "resource_name": "--epochs"}})
    data["spec"]["parameters"].append(EPOCHS)
    data["spec"]["budget"] = {"maxTrials": 30, "parallelTrials": 3}
    targets = copy.deepcopy(TARGETS)
    del targets["spec"]["profiles"]["gpu"]["budget"]  # the spec's own parallelTrials for every profile
    folder = write_specs(tmp_path, data, targets=targets)
    assert findings(tmp_path, folder) == [
        ("demo.yaml", *position(folder / "demo.yaml", "parallelTrials: 3", at="3"), "HB-04")
    ]


def test_a_misspelled_bayesianoptimization_setting(tmp_path: Path) -> None:
    # skopt's service refuses a setting it does not know (SK-07): at the setting's name
    folder = write_specs(tmp_path, spec(algorithm={"name": "bayesianoptimization", "settings": {"random_stat": 10}}))
    assert findings(tmp_path, folder) == [("demo.yaml", *position(folder / "demo.yaml", "random_stat"), "SK-07")]


def test_tpe_with_no_expected_improvement_candidates(tmp_path: Path) -> None:
    # hyperopt's service refuses n_EI_candidates <= 0 (HO-05): at the value
    folder = write_specs(tmp_path, spec(algorithm={"name": "tpe", "settings": {"n_EI_candidates": 0}}))
    assert findings(tmp_path, folder) == [
        ("demo.yaml", *position(folder / "demo.yaml", "n_EI_candidates: 0", at="0"), "HO-05")
    ]


def test_medianstop_with_a_misspelled_setting(tmp_path: Path) -> None:
    # the medianstop service knows min_trials_required, not min_trial_required (ES-07)
    data = spec(earlyStopping={"name": "medianstop", "settings": {"min_trial_required": 3}})
    folder = write_specs(tmp_path, data)
    assert findings(tmp_path, folder) == [("demo.yaml", *position(folder / "demo.yaml", "min_trial_required"), "ES-07")]


def test_an_mpijob_without_a_launcher(tmp_path: Path) -> None:
    # the Training Operator's MPIJob controller does not start a job without a Launcher
    # (pkg/apis/kubeflow.org/v1/mpi_validation.go:ValidateV1MpiJobSpec): to-roles
    trial = {
        "kind": "MPIJob",
        "image": "example.com/train:1",
        "command": ["python", "/train.py"],
        "replicas": {"Worker": 2},
    }
    folder = write_specs(tmp_path, spec(trial=trial))
    assert findings(tmp_path, folder) == [
        ("demo.yaml", *position(folder / "demo.yaml", "kind: MPIJob", "replicas:"), "to-roles")
    ]


def test_a_profile_memory_that_is_no_quantity_is_reported_once_at_the_profile(tmp_path: Path) -> None:
    # `128GB` is no Kubernetes quantity (the suffix is G or Gi): the API server refuses every trial job
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["profiles"]["gpu"]["resources"] = {"requests": {"memory": "128GB"}}
    folder = write_specs(tmp_path, spec(name="one"), spec(name="two"), targets=targets)
    assert findings(tmp_path, folder) == [
        ("targets.yaml", *position(folder / "targets.yaml", "'128GB'"), "trial-schema")
    ]
    _, found, _ = run("validate", str(folder))
    (message,) = [d["message"] for d in found if d["severity"] == "error"]
    assert message.startswith("'128GB' does not match its pattern: expected A Kubernetes quantity")
    assert message.endswith("in 4 targets: one/team-a/gpu, one/team-b/gpu, two/team-a/gpu, two/team-b/gpu)")


def test_a_spec_katib_accepts_generates_and_its_output_validates_clean(tmp_path: Path) -> None:
    folder = write_specs(tmp_path, spec(algorithm={"name": "tpe", "settings": {"n_EI_candidates": 12}}))
    generated = CliRunner().invoke(main, ["generate", "--specs", str(folder), "--out", str(tmp_path / "overlays")])
    assert generated.exit_code == 0, generated.output
    code, found, _ = run("validate", str(tmp_path / "overlays"))
    assert (code, [d for d in found if d["severity"] == "error"]) == (0, [])
