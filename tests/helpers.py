"""Small builders for spec folders used across tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from katib_gitops.yamlio.writer import dump

TARGETS: dict[str, Any] = {
    "apiVersion": "katib-gitops.dev/v1alpha1",
    "kind": "Targets",
    "spec": {
        "namespaces": ["team-a", "team-b"],
        "profiles": {
            "gpu": {"resources": {"limits": {"nvidia.com/gpu": 1}}, "budget": {"parallelTrials": 1}},
            "cpu": {"resources": {"requests": {"cpu": "2"}}},
        },
        "gitops": {"repoURL": "https://git.example.com/hpo.git"},
    },
}

SPEC: dict[str, Any] = {
    "apiVersion": "katib-gitops.dev/v1alpha1",
    "kind": "TuningSpec",
    "metadata": {"name": "demo"},
    "spec": {
        "objective": {"type": "maximize", "goal": 0.99, "metric": "accuracy"},
        "algorithm": {"name": "random"},
        "budget": {"maxTrials": 12, "parallelTrials": 3, "maxFailedTrials": 3},
        "parameters": [{"name": "--lr", "type": "double", "min": 0.01, "max": 0.1}],
        "trial": {
            "kind": "PyTorchJob",
            "image": "example.com/train:1.0",
            "command": ["python", "/train.py"],
            "replicas": {"Master": 1, "Worker": 2},
        },
        "targets": {"namespaces": ["team-a", "team-b"], "profiles": ["gpu", "cpu"]},
    },
}


def spec(**changes: Any) -> dict[str, Any]:
    """A copy of SPEC with `spec` fields replaced (use `name=` for metadata.name)."""
    out = copy.deepcopy(SPEC)
    if "name" in changes:
        out["metadata"]["name"] = changes.pop("name")
    out["spec"].update(copy.deepcopy(changes))
    return out


def write_specs(root: Path, *specs: dict[str, Any], targets: dict[str, Any] | None = None) -> Path:
    folder = root / "specs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "targets.yaml").write_text(dump(targets or TARGETS))
    for item in specs or (SPEC,):
        (folder / f"{item['metadata']['name']}.yaml").write_text(dump(item))
    return folder


def generator_parameters(generator: dict[str, Any]) -> list[dict[str, Any]]:
    """The parameter sets an ApplicationSet generator yields: a list's elements, or a matrix's crossed ones.

    As Argo CD's matrix generator does with two children: every pair, the first child's
    parameters merged with the second's.
    """
    if "list" in generator:
        return [dict(element) for element in generator["list"]["elements"]]
    first, second = (generator_parameters(child) for child in generator["matrix"]["generators"])
    return [{**a, **b} for a in first for b in second]


def write_katib_config(path: Path) -> Path:
    """A KatibConfig that runs every trial kind katib-gitops knows, with the standalone install's services.

    Katib's standalone install lists only the kinds it defaults in trialResources; trials of another kind
    (PaddleJob, JAXJob) look stuck unless the katib-config names it (TT-R5), so their specs need this.
    """
    from katib_gitops.core.kinds import KINDS
    from katib_gitops.spec.katib_config import STANDALONE_COLLECTORS, STANDALONE_EARLY_STOPPING, STANDALONE_SUGGESTIONS

    image = "ghcr.io/kubeflow/katib/{}:v0.19.0"
    config = {
        "apiVersion": "config.kubeflow.org/v1beta1",
        "kind": "KatibConfig",
        "init": {"controller": {"trialResources": [kind.trial_resource for kind in KINDS.values()]}},
        "runtime": {
            "suggestions": [
                {"algorithmName": name, "image": image.format(f"suggestion-{service}")}
                for name, service in STANDALONE_SUGGESTIONS.items()
            ],
            "earlyStoppings": [
                {"algorithmName": name, "image": image.format(f"earlystopping-{service}")}
                for name, service in STANDALONE_EARLY_STOPPING.items()
            ],
            "metricsCollectors": [
                {"kind": kind, "image": image.format("file-metrics-collector")} for kind in STANDALONE_COLLECTORS
            ],
        },
    }
    path.write_text(dump(config))
    return path
