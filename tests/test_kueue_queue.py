"""A profile's `queue`: the Kueue LocalQueue, as the label kueue.x-k8s.io/queue-name on the trial job.

Issue 11, item 4. Kueue reads the label from the job it admits (batch Job, the Kubeflow v1 jobs,
TrainJob), never from its pods, so it goes on trialTemplate.trialSpec.metadata.labels.
tests/test_upstream_schemas.py checks every trial kind with a queue against its upstream CRD.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.generate import planning
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.expand.experiment import build_experiment
from katib_gitops.kustomize import render
from katib_gitops.spec.model import load_spec_set
from tests.helpers import SPEC, TARGETS, spec, write_specs

LABEL = "kueue.x-k8s.io/queue-name"


def targets(**profiles: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(TARGETS)
    out["spec"]["profiles"].update(profiles)
    return out


def problems(tmp_path: Path, data: dict[str, Any], targets_doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    try:
        planning.load(write_specs(tmp_path, data, targets=targets_doc))
    except FindingsError as exc:
        return [(d.rule_id, d.path, d.message) for d in exc.diagnostics]
    return []


def trial_spec(tmp_path: Path, data: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    spec_set = load_spec_set(write_specs(tmp_path, data, targets=targets(gpu=profile)))
    built: dict[str, Any] = build_experiment(spec_set.specs[0], spec_set.targets.profiles["gpu"])
    return built["spec"]["trialTemplate"]["trialSpec"]


@pytest.mark.parametrize("queue", ["team-a-gpu", "A.b_c-9", "q", "x" * 63])
def test_a_queue_is_any_label_value(tmp_path: Path, queue: str) -> None:
    assert problems(tmp_path, SPEC, targets(gpu={"queue": queue})) == []
    assert trial_spec(tmp_path, SPEC, {"queue": queue})["metadata"] == {"labels": {LABEL: queue}}


@pytest.mark.parametrize("queue", ["", "-team", "team-", "team a", "team/a", "x" * 64, 7])
def test_a_queue_that_is_no_label_value_is_refused_at_the_field(tmp_path: Path, queue: Any) -> None:
    assert problems(tmp_path, SPEC, targets(gpu={"queue": queue})) == [
        (
            "schema",
            "spec.profiles.gpu.queue",
            f"{queue!r}: expected a Kubernetes label value (at most 63 characters: letters, digits, '-', '_' and "
            "'.', starting and ending with a letter or digit), the name of a Kueue LocalQueue; written as the "
            "label kueue.x-k8s.io/queue-name on the trial job",
        )
    ]


RAW_JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"labels": {"team": "a", LABEL: "from-the-spec"}},
    "spec": {
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {"name": "training", "image": "example.com/t:1", "args": ["--lr=${trialParameters.lr}"]}
                ],
            }
        }
    },
}


def test_a_raw_trial_specs_own_labels_stay_and_the_profile_queue_wins(tmp_path: Path) -> None:
    data = spec(
        trial={"trialSpec": RAW_JOB, "primaryContainer": "training"},
        parameters=[{"name": "lr", "type": "double", "min": 0.01, "max": 0.1, "pass": "placeholder"}],
    )
    assert trial_spec(tmp_path, data, {"queue": "team-a-gpu"})["metadata"] == {
        "labels": {"team": "a", LABEL: "team-a-gpu"}
    }


def test_a_raw_trial_spec_of_an_unknown_kind_takes_a_queue(tmp_path: Path) -> None:
    workflow = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "spec": {"entrypoint": "python train.py --lr ${trialParameters.lr}"},
    }
    data = spec(
        trial={
            "trialSpec": workflow,
            "successCondition": 'status.[@this].#(jobStatus=="SUCCEEDED")#',
            "failureCondition": 'status.[@this].#(jobStatus=="FAILED")#',
        },
        parameters=[{"name": "lr", "type": "double", "min": 0.01, "max": 0.1, "pass": "placeholder"}],
        targets={"namespaces": ["team-a"], "profiles": ["gpu"]},
    )
    profile = {"queue": "team-a-gpu", "budget": {"parallelTrials": 1}}
    assert problems(tmp_path, data, targets(gpu=profile)) == []
    assert trial_spec(tmp_path, data, profile)["metadata"] == {"labels": {LABEL: "team-a-gpu"}}
    # a profile that changes pods still cannot be used with it
    assert problems(tmp_path, data, targets(gpu={**profile, "nodeSelector": {"pool": "gpu"}})) == [
        (
            "TS-TARGETS",
            "spec.targets.profiles[0]",
            "profile 'gpu' changes pods, but the trialSpec kind is unknown to katib-gitops",
        )
    ]


def test_only_the_profiles_overlays_carry_the_queue(in_tmp: Path) -> None:
    write_specs(in_tmp, targets=targets(gpu={"queue": "team-a-gpu"}))
    assert CliRunner().invoke(main, ["generate"]).exit_code == 0
    files = render.DiskFiles(in_tmp)
    for namespace in ("team-a", "team-b"):
        [gpu] = render.render(files, f"overlays/demo/{namespace}/gpu")
        [cpu] = render.render(files, f"overlays/demo/{namespace}/cpu")
        assert gpu["spec"]["trialTemplate"]["trialSpec"]["metadata"] == {"labels": {LABEL: "team-a-gpu"}}
        assert "metadata" not in cpu["spec"]["trialTemplate"]["trialSpec"]
    [base] = render.render(files, "overlays/demo/_base")
    assert "metadata" not in base["spec"]["trialTemplate"]["trialSpec"]


# ------------------------------------------------------------------ priorityClass (issue 14, item 4)

PRIORITY = "kueue.x-k8s.io/priority-class"


def test_a_priority_class_is_the_kueue_label_next_to_the_queue(tmp_path: Path) -> None:
    # Kueue takes a workload's WorkloadPriorityClass from the job's label kueue.x-k8s.io/priority-class.
    profile = {"queue": "team-a-gpu", "priorityClass": "research-low"}
    assert problems(tmp_path, SPEC, targets(gpu=profile)) == []
    labels = trial_spec(tmp_path, SPEC, profile)["metadata"]["labels"]
    assert labels == {LABEL: "team-a-gpu", PRIORITY: "research-low"}


def test_a_priority_class_that_is_no_label_value_is_refused_at_the_field(tmp_path: Path) -> None:
    (problem,) = problems(tmp_path, SPEC, targets(gpu={"priorityClass": "low priority"}))
    assert problem[:2] == ("schema", "spec.profiles.gpu.priorityClass")
    assert "the name of a Kueue WorkloadPriorityClass; written as the label kueue.x-k8s.io/priority-class" in problem[2]


def test_a_raw_trial_spec_of_an_unknown_kind_takes_a_priority_class(tmp_path: Path) -> None:
    data = spec(
        trial={
            "trialSpec": {
                "apiVersion": "ray.io/v1",
                "kind": "RayJob",
                "spec": {"entrypoint": "train ${trialParameters.lr}"},
            },
            "successCondition": 'status.[@this].#(jobStatus=="SUCCEEDED")#',
            "failureCondition": 'status.[@this].#(jobStatus=="FAILED")#',
        },
        parameters=[{"name": "lr", "type": "double", "min": 0.01, "max": 0.1, "pass": "placeholder"}],
        targets={"namespaces": ["team-a"], "profiles": ["gpu"]},
    )
    profile = {"priorityClass": "low", "budget": {"parallelTrials": 1}}
    assert problems(tmp_path, data, targets(gpu=profile)) == []
    assert trial_spec(tmp_path, data, profile)["metadata"] == {"labels": {PRIORITY: "low"}}
