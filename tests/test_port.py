"""`katib-gitops port`: whether each spec can move to a Kubeflow Trainer OptimizationJob, each reason at its line.

What an OptimizationJob can express is read from Kubeflow Trainer master 8c0f5059 (unreleased):
pkg/apis/trainer/v1alpha1/optimizationjob_types.go (OptimizationJobSpec: objectives with one item,
searchAlgorithm random|grid, parameters with uniform|logUniform|categorical spaces and no step, numTrials and
parallelTrials 1..100, a TrainJob template) and KEP-2605 (proposals/2605-optimization-job-crd: values as
KUBEFLOW_TRAINER_OPT_<NAME> environment variables, no metrics collectors, no NAS, no early stopping, no resume).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands import port
from katib_gitops.commands.generate.planning import load
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.yamlio.writer import dump
from tests.helpers import TARGETS, spec, write_specs
from tests.test_checks import nas_spec
from tests.test_optimizationjob import train_job_spec

EVERYTHING = """\
apiVersion: katib-gitops.dev/v1alpha1
kind: TuningSpec
metadata:
  name: everything
spec:
  objective:
    type: maximize
    goal: 0.99
    metric: accuracy
    additionalMetrics: [loss]
    strategies:
      accuracy: latest
  algorithm:
    name: tpe
  earlyStopping:
    name: medianstop
  budget:
    maxTrials: 200
    parallelTrials: 3
    maxFailedTrials: 3
    resumePolicy: LongRunning
  parameters:
    - name: --lr
      type: double
      min: 0.01
      max: 0.1
      step: 0.01
    - name: layers
      type: discrete
      values: [1, 2, 4]
    - name: momentum
      type: double
      min: 0.5
      max: 0.9
      distribution: normal
      pass:
        env: MOMENTUM
  trial:
    kind: PyTorchJob
    image: example.com/train:1.0
    primaryContainer: pytorch
    metricsCollector:
      kind: StdOut
  targets:
    namespaces: [team-a]
    profiles: [cpu]
"""

# (line, column, rule, severity) of every reason EVERYTHING cannot move, in file order.
EVERY_REASON = [
    (8, 11, "TS-OPT-GOAL", "warning"),  # Objective has no goal
    (10, 25, "TS-OPT-METRICS", "error"),  # objectives: one metric (MaxItems=1)
    (12, 17, "TS-OPT-METRICS", "error"),  # no metric strategies (KEP-2605 non-goal)
    (14, 11, "TS-OPT-ALGORITHM", "error"),  # SearchAlgorithm: random, grid
    (15, 3, "TS-OPT-EARLY-STOPPING", "error"),  # pruning deferred to phase 2
    (18, 16, "TS-OPT-TRIALS", "error"),  # numTrials Maximum=100
    (20, 22, "TS-OPT-FAILED", "warning"),  # no failure budget
    (21, 19, "TS-OPT-RESUME", "error"),  # no pause and resume
    (23, 13, "TS-OPT-PASS", "error"),  # '--lr' is no KUBEFLOW_TRAINER_OPT_<NAME> suffix
    (27, 13, "TS-OPT-STEP", "error"),  # UniformSpace has no step
    (28, 13, "TS-OPT-PASS", "error"),  # passed as the flag --layers
    (29, 13, "TS-OPT-DISCRETE", "error"),  # no discrete space
    (35, 21, "TS-OPT-DISTRIBUTION", "error"),  # uniform, logUniform only
    (36, 7, "TS-OPT-PASS", "error"),  # passed as MOMENTUM, not KUBEFLOW_TRAINER_OPT_MOMENTUM
    (39, 11, "TS-OPT-KIND", "error"),  # TrainJobs only
    (41, 5, "TS-OPT-TRIAL-SETTINGS", "warning"),  # Katib's trial settings have no field
    (42, 5, "TS-OPT-COLLECTOR", "error"),  # no pull-based collectors
]


def write_text_spec(root: Path, text: str, targets: dict[str, Any] | None = None) -> Path:
    folder = root / "specs"
    folder.mkdir(parents=True)
    (folder / "targets.yaml").write_text(dump(targets or TARGETS))
    (folder / "everything.yaml").write_text(text)
    return folder


def verdict_of(folder: Path) -> port.Verdict:
    verdicts = port.port(folder)
    assert len(verdicts) == 1
    return verdicts[0]


def found(verdict: port.Verdict) -> list[tuple[int, int, str, str]]:
    return [(d.line, d.column, d.rule_id, d.severity.value) for d in verdict.findings]


def test_every_reason_is_reported_at_the_spec_line_it_comes_from(tmp_path: Path) -> None:
    verdict = verdict_of(write_text_spec(tmp_path, EVERYTHING))
    assert found(verdict) == EVERY_REASON
    assert not verdict.movable
    assert verdict.backend == "katib"


def test_each_reason_names_the_nearest_equivalent_where_there_is_one(tmp_path: Path) -> None:
    hints = {(d.line, d.rule_id): d.hint for d in verdict_of(write_text_spec(tmp_path, EVERYTHING)).findings}
    assert hints[(14, "TS-OPT-ALGORITHM")].startswith("nearest: random")
    assert hints[(27, "TS-OPT-STEP")] == (
        "nearest: type: categorical with the 10 values [0.01, 0.02, 0.03, 0.04, ...] (the trial reads them as text)"
    )
    assert hints[(29, "TS-OPT-DISCRETE")].startswith("nearest: type: categorical with the same values")
    assert hints[(35, "TS-OPT-DISTRIBUTION")] == "nearest: distribution: uniform over the same range"
    assert hints[(23, "TS-OPT-PASS")] == "nearest: name it 'lr' with pass: {env: KUBEFLOW_TRAINER_OPT_LR}"
    assert hints[(28, "TS-OPT-PASS")] == (
        "nearest: pass: {env: KUBEFLOW_TRAINER_OPT_LAYERS}, read by the program; or keep the flag in trial.args as "
        "[--layers, $(KUBEFLOW_TRAINER_OPT_LAYERS)], which Kubernetes expands"
    )
    assert "TrainJob" in hints[(39, "TS-OPT-KIND")]
    assert "TrainJob's status" in hints[(42, "TS-OPT-COLLECTOR")]


def test_a_spec_that_can_move_says_so_and_exits_0(tmp_path: Path) -> None:
    folder = write_specs(tmp_path, train_job_spec(backend=None))
    verdict = verdict_of(folder)
    assert verdict.movable and verdict.findings == ()
    result = CliRunner().invoke(main, ["port", "--specs", str(folder)])
    assert result.exit_code == 0, result.output
    assert "tune: can move to OptimizationJob (backend: katib; set spec.backend: optimizationjob)" in result.output
    assert result.output.endswith("1 of 1 spec(s) can move to OptimizationJob\n")


def test_warnings_alone_do_not_keep_a_spec_from_moving(tmp_path: Path) -> None:
    body = train_job_spec(objective={"type": "maximize", "goal": 0.9, "metric": "accuracy"})
    verdict = verdict_of(write_specs(tmp_path, body))
    assert [(d.rule_id, d.path) for d in verdict.findings] == [("TS-OPT-GOAL", "spec.objective.goal")]
    assert verdict.movable


def test_two_bundled_specs_cannot_move_one_can_and_port_says_why_exit_1(repo_specs: Path) -> None:
    """specs/ holds a PyTorchJob and a TFJob spec (the Katib tutorials): neither trial is a TrainJob, both resume
    LongRunning and pass flags. The TrainJob spec (Katib's Kubeflow Trainer example) can move: a random search
    whose values reach the trainer as KUBEFLOW_TRAINER_OPT_<NAME>. Every bundled spec keeps backend katib."""
    verdicts = {v.spec.name: v for v in port.port(repo_specs, repo_specs.parent)}
    assert {name: found(v) for name, v in verdicts.items()} == {
        "mnist-pytorchjob": [
            (11, 11, "TS-OPT-GOAL", "warning"),
            (18, 22, "TS-OPT-FAILED", "warning"),
            (19, 19, "TS-OPT-RESUME", "error"),
            (21, 13, "TS-OPT-PASS", "error"),
            (26, 11, "TS-OPT-KIND", "error"),
        ],
        "mnist-tfjob": [
            (11, 11, "TS-OPT-GOAL", "warning"),
            (18, 22, "TS-OPT-FAILED", "warning"),
            (19, 19, "TS-OPT-RESUME", "error"),
            (21, 13, "TS-OPT-PASS", "error"),
            (25, 13, "TS-OPT-PASS", "error"),
            (30, 11, "TS-OPT-KIND", "error"),
        ],
        "mnist-trainjob": [],
    }
    assert verdicts["mnist-trainjob"].movable and not verdicts["mnist-tfjob"].movable
    assert all(v.backend == "katib" for v in verdicts.values())
    result = CliRunner().invoke(main, ["port", "--specs", str(repo_specs)])
    assert result.exit_code == 1
    assert "mnist-tfjob: cannot move to OptimizationJob (backend: katib; 4 reason(s))" in result.output
    assert "1 of 3 spec(s) can move to OptimizationJob" in result.output


def test_generate_with_the_backend_reports_the_same_reasons_as_errors(tmp_path: Path) -> None:
    """One line, `backend: optimizationjob`, on a spec that cannot move: generate refuses it with the port's errors."""
    text = EVERYTHING.replace("spec:\n  objective:", "spec:\n  backend: optimizationjob\n  objective:", 1)
    folder = write_text_spec(tmp_path, text)
    with pytest.raises(FindingsError) as caught:
        load(folder)
    refused = sorted(
        (d.line - 1, d.column, d.rule_id) for d in caught.value.diagnostics if d.rule_id.startswith("TS-OPT")
    )
    assert refused == [(line, column, rule) for line, column, rule, _ in EVERY_REASON]


def test_a_nas_spec_cannot_move(tmp_path: Path) -> None:
    verdict = verdict_of(write_specs(tmp_path, nas_spec()))
    nas = [d for d in verdict.findings if d.rule_id == "TS-OPT-NAS"]
    assert [(d.path, d.message) for d in nas] == [("spec.nas", "an OptimizationJob has no neural architecture search")]


def test_metadata_parameters_and_placeholders_in_a_raw_trial_spec_do_not_carry_over(tmp_path: Path) -> None:
    raw = {
        "trialSpec": {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "TrainJob",
            "spec": {
                "runtimeRef": {"name": "torch-distributed"},
                "trainer": {"image": "example.com/t:1", "args": ["--lr=${trialParameters.lr}"]},
            },
        },
        "metadataParameters": [{"name": "trialName", "reference": "${trialSpec.Name}"}],
    }
    body = train_job_spec(trial=raw)
    body["spec"]["parameters"][0]["trialParameter"] = "lr"
    verdict = verdict_of(write_specs(tmp_path, body))
    assert [(d.rule_id, d.path) for d in verdict.findings] == [
        ("TS-OPT-PASS", "spec.trial.trialSpec"),
        ("TS-OPT-PASS", "spec.trial.metadataParameters[0]"),
    ]


def test_a_profile_budget_over_the_limit_is_reported_in_the_targets_file(tmp_path: Path) -> None:
    """numTrials Maximum=100 holds for every profile's OptimizationJob: the profile's own budget is where it is."""
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["profiles"]["cpu"]["budget"] = {"maxTrials": 150, "parallelTrials": 101}
    verdict = verdict_of(write_specs(tmp_path, train_job_spec(), targets=targets))
    where = [(Path(d.file).name, d.path, d.rule_id) for d in verdict.findings]
    assert where == [
        ("targets.yaml", "spec.profiles.cpu.budget.maxTrials", "TS-OPT-TRIALS"),
        ("targets.yaml", "spec.profiles.cpu.budget.parallelTrials", "TS-OPT-TRIALS"),
    ]


def test_a_spec_without_max_trials_cannot_move(tmp_path: Path) -> None:
    """numTrials defaults to 1: a Katib spec that leaves maxTrials open would run one trial."""
    verdict = verdict_of(write_specs(tmp_path, train_job_spec(budget={"parallelTrials": 1})))
    assert [(d.rule_id, d.path, d.message) for d in verdict.findings] == [
        (
            "TS-OPT-TRIALS",
            "spec.budget",
            "maxTrials is not set: an OptimizationJob would run numTrials' default of 1 trial",
        )
    ]


def test_random_takes_random_state_as_its_seed_and_nothing_else(tmp_path: Path) -> None:
    body = train_job_spec(algorithm={"name": "random", "settings": {"random_state": "x", "other": 1}})
    verdict = verdict_of(write_specs(tmp_path, body))
    assert [(d.rule_id, d.path) for d in verdict.findings] == [
        ("TS-OPT-ALGORITHM", "spec.algorithm.settings.random_state"),
        ("TS-OPT-ALGORITHM", "spec.algorithm.settings.other"),
    ]


def test_port_also_validates_the_jobs_a_movable_spec_would_generate(tmp_path: Path) -> None:
    """Past the TS-OPT rules, the built OptimizationJob meets the CRD's CEL rules: grid needs categorical values."""
    verdict = verdict_of(write_specs(tmp_path, train_job_spec(algorithm={"name": "grid"})))
    assert [(d.rule_id, d.path) for d in verdict.findings] == [("schema", "spec.algorithm.name")]
    assert not verdict.movable


def test_json_report(tmp_path: Path) -> None:
    folder = write_text_spec(tmp_path, EVERYTHING)
    result = CliRunner().invoke(main, ["port", "--specs", str(folder), "--format", "json"])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert [(s["spec"], s["backend"], s["movable"]) for s in body["specs"]] == [("everything", "katib", False)]
    assert [(f["line"], f["rule_id"]) for f in body["specs"][0]["findings"]][:2] == [
        (8, "TS-OPT-GOAL"),
        (10, "TS-OPT-METRICS"),
    ]


def test_a_missing_specs_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["port", "--specs", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "no such directory" in result.output


def test_an_int_step_has_its_values_as_the_nearest_equivalent(tmp_path: Path) -> None:
    parameters = [{"name": "layers", "type": "int", "min": 2, "max": 8, "step": 2}]
    body = spec(parameters=parameters)
    hints = [d.hint for d in verdict_of(write_specs(tmp_path, body)).findings if d.rule_id == "TS-OPT-STEP"]
    assert hints == ["nearest: type: categorical with the 4 values [2, 4, 6, 8] (the trial reads them as text)"]


def test_an_int_step_of_one_carries_over(tmp_path: Path) -> None:
    """An Int space samples every integer in [min, max]: Katib's step 1 says the same, so it is no reason."""
    parameters = [
        {"name": "layers", "type": "int", "min": 2, "max": 8, "step": 1, "pass": {"env": "KUBEFLOW_TRAINER_OPT_LAYERS"}}
    ]
    verdict = verdict_of(write_specs(tmp_path, train_job_spec(parameters=parameters)))
    assert verdict.findings == () and verdict.movable
