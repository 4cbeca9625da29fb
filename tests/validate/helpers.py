"""A valid Experiment to mutate, and a way to run one Katib rule on it."""

from __future__ import annotations

import copy
from typing import Any

from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.core.registry import RULES
from katib_gitops.rules import framework
from katib_gitops.rules.framework import context_for
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig

# The text of a small Experiment up to its trialTemplate (one double parameter `lr`), for tests that pin
# line:column positions in the template that follows it.
HEAD = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {name}
  namespace: kubeflow
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: 1
  maxTrialCount: 2
  maxFailedTrialCount: 1
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.03"
"""


def experiment_head(name: str) -> str:
    return HEAD.format(name=name)


VALID: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "random-example", "namespace": "kubeflow"},
    "spec": {
        "objective": {
            "type": "maximize",
            "goal": 0.99,
            "objectiveMetricName": "accuracy",
            "additionalMetricNames": ["loss"],
        },
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 3,
        "maxTrialCount": 12,
        "maxFailedTrialCount": 3,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}},
            {"name": "momentum", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "0.9"}},
        ],
        "trialTemplate": {
            "primaryContainerName": "training-container",
            "trialParameters": [
                {"name": "learningRate", "description": "Learning rate", "reference": "lr"},
                {"name": "momentum", "description": "Momentum", "reference": "momentum"},
            ],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {
                                    "name": "training-container",
                                    "image": "docker.io/kubeflowkatib/pytorch-mnist-cpu:latest",
                                    "command": [
                                        "python3",
                                        "/opt/pytorch-mnist/mnist.py",
                                        "--epochs=1",
                                        "--lr=${trialParameters.learningRate}",
                                        "--momentum=${trialParameters.momentum}",
                                    ],
                                }
                            ],
                        },
                    }
                },
            },
        },
    },
}


def experiment(**spec_changes: Any) -> dict[str, Any]:
    """A copy of VALID with top-level spec fields replaced (None removes a field)."""
    out = copy.deepcopy(VALID)
    for key, value in spec_changes.items():
        if value is None:
            out["spec"].pop(key, None)
        else:
            out["spec"][key] = copy.deepcopy(value)
    return out


def findings(
    rule_id: str, data: dict[str, Any], config: KatibConfig = STANDALONE, version: tuple[int, int] = KATIB_VERSION
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) of every finding of one rule on `data`."""
    framework.rules()  # registers Katib's rules
    context = context_for(data, config, version)
    rule = RULES[rule_id]
    assert rule.check is not None
    return [(f.path, f.message) for f in rule.check(context)] if rule.applies(context.version) else []


def paths(rule_id: str, data: dict[str, Any], **kwargs: Any) -> list[tuple[str | int, ...]]:
    return [p for p, _ in findings(rule_id, data, **kwargs)]
