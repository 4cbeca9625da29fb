"""Experiment status fixtures for `results` and `promote`, built from Katib's API types.

Field names follow katib pkg/apis/controller/experiments/v1beta1/experiment_types.go (ExperimentStatus:
conditions, currentOptimalTrial, trials, trialsSucceeded, trialsFailed, trialsRunning, trialsEarlyStopped,
trialMetricsUnavailable, completionTime) and common/v1beta1/common_types.go (ParameterAssignment name/value,
Observation.metrics name/min/max/latest, strings). Conditions are as the controller sets them
(experiments/v1beta1/util.go: Succeeded and Failed set Running to False and keep its reason;
status_util.go: the reasons ExperimentCreated, ExperimentRunning, ExperimentGoalReached,
ExperimentMaxTrialsReached, ExperimentFailed). The counters are omitted when 0 (omitempty), as kubectl shows them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from katib_gitops.expand.overlays import expand
from katib_gitops.spec.model import load_spec_set
from katib_gitops.yamlio.writer import dump
from tests.helpers import write_specs

# The demo spec (tests/helpers.py) in team-a and team-b, profiles gpu and cpu: Git's Experiment names.
GPU = "demo-3719e145"
CPU = "demo-aa78cc0d"


def condition(
    kind: str, status: str, reason: str, message: str = "", at: str = "2026-12-01T10:00:00Z"
) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message or f"Experiment is {kind.lower()}",
        "lastUpdateTime": at,
        "lastTransitionTime": at,
    }


CREATED = condition("Created", "True", "ExperimentCreated", "Experiment is created")
RUNNING = condition("Running", "True", "ExperimentRunning", "Experiment is running")
RUNNING_DONE = condition("Running", "False", "ExperimentRunning", "Experiment is running")


def best(trial: str, lr: str, metrics: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    return {
        "bestTrialName": trial,
        "parameterAssignments": [{"name": "--lr", "value": lr}],
        "observation": {"metrics": [{"name": n, "latest": la, "min": mi, "max": ma} for n, la, mi, ma in metrics]},
    }


STATUSES: dict[str, dict[str, Any]] = {
    # Succeeded because the objective goal (accuracy >= 0.99) was reached.
    "goal": {
        "startTime": "2026-12-01T10:00:00Z",
        "completionTime": "2026-12-01T12:30:00Z",
        "conditions": [
            CREATED,
            RUNNING_DONE,
            condition(
                "Succeeded",
                "True",
                "ExperimentGoalReached",
                "Experiment has succeeded because Objective goal has reached",
            ),
        ],
        "currentOptimalTrial": best(
            f"{GPU}-x7k2m9qp",
            "0.0517",
            [("accuracy", "0.9912", "0.8011", "0.9931"), ("loss", "0.031", "0.029", "0.71")],
        ),
        "succeededTrialList": [f"{GPU}-x7k2m9qp"],
        "trials": 6,
        "trialsSucceeded": 5,
        "trialsFailed": 1,
    },
    # Running, with a best trial so far.
    "running": {
        "startTime": "2026-12-01T10:00:00Z",
        "conditions": [CREATED, RUNNING],
        "currentOptimalTrial": best(f"{CPU}-b4n8", "0.02", [("accuracy", "0.95", "0.6", "0.96")]),
        "trials": 7,
        "trialsSucceeded": 4,
        "trialsRunning": 3,
    },
    # Failed: maxFailedTrialCount (3) reached.
    "failed": {
        "completionTime": "2026-12-02T08:00:00Z",
        "conditions": [
            CREATED,
            RUNNING_DONE,
            condition(
                "Failed", "True", "ExperimentFailed", "Experiment has failed because max failed count has reached"
            ),
        ],
        "currentOptimalTrial": best(f"{GPU}-q1w2", "0.09", [("accuracy", "0.42", "0.1", "0.42")]),
        "trials": 4,
        "trialsSucceeded": 1,
        "trialsFailed": 3,
    },
    # Created and running, no trial has reported yet: currentOptimalTrial is empty ({} with omitempty).
    "no-trial": {
        "conditions": [CREATED, RUNNING],
        "currentOptimalTrial": {"observation": {}},
        "trials": 3,
        "trialsRunning": 3,
    },
    # Succeeded on max trials; two trials' metrics never arrived; the best trial's loss was not reported.
    "unavailable": {
        "completionTime": "2026-11-20T09:00:00Z",
        "conditions": [
            CREATED,
            RUNNING_DONE,
            condition(
                "Succeeded",
                "True",
                "ExperimentMaxTrialsReached",
                "Experiment has succeeded because max trial count has reached",
            ),
        ],
        "currentOptimalTrial": best(
            "demo-0badc0de-old1",
            "0.033",
            [("accuracy", "0.97", "0.5", "0.975"), ("loss", "unavailable", "unavailable", "unavailable")],
        ),
        "trials": 12,
        "trialsSucceeded": 9,
        "trialsFailed": 1,
        "trialMetricsUnavailable": 2,
    },
}


def repository(root: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """A specs folder with the demo spec, and the Experiments Git generates, by target."""
    specs = write_specs(root)
    experiments = {
        overlay.directory: overlay.experiment
        for expansion in expand(load_spec_set(specs))
        for overlay in expansion.overlays
    }
    return specs, experiments


def as_deployed(experiment: dict[str, Any], status: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """The Experiment as `kubectl get -o yaml` shows it: server metadata and a status."""
    out = copy.deepcopy(experiment)
    out["metadata"].update({"uid": "6f1c", "resourceVersion": "4711", "creationTimestamp": "2026-12-01T10:00:00Z"})
    out["metadata"].update(metadata)
    out["status"] = copy.deepcopy(status)
    return out


def foreign() -> dict[str, Any]:
    """An Experiment applied by hand (Katib's random example): no katib-gitops label."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "random", "namespace": "team-a"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss", "goal": 0.001},
            "maxTrialCount": 12,
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}],
        },
        "status": {"conditions": [CREATED, RUNNING], "trials": 2, "trialsRunning": 2},
    }


def dump_list(root: Path) -> tuple[Path, Path]:
    """specs/ and a `kubectl get experiments -A -o yaml` dump (kind: List) of every fixture."""
    specs, git = repository(root)
    stale = copy.deepcopy(git["demo/team-a/gpu"])
    stale["metadata"]["name"] = "demo-0badc0de"  # generated before the spec last changed
    items = [
        as_deployed(git["demo/team-a/gpu"], STATUSES["goal"]),
        as_deployed(git["demo/team-a/cpu"], STATUSES["running"]),
        as_deployed(git["demo/team-b/gpu"], STATUSES["failed"]),
        as_deployed(git["demo/team-b/cpu"], STATUSES["no-trial"]),
        as_deployed(stale, STATUSES["unavailable"]),
        foreign(),
    ]
    path = root / "experiments.yaml"
    path.write_text(dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}))
    return specs, path
