"""Seeded, reproducible corpora for the benchmarks: built on demand, never committed.

- core: Deployments, Services, ConfigMaps, Jobs and multi-document bundles, with a
  few injected type errors and misspelled fields (strict mode catches those); shaped
  like the corpus of ../shared/research/validator-perf.md (2,000 files of about 2,300
  documents, ~6 MB, median file ~2.6 KB against its 7 MB and 3.4 KB);
- katib: Katib Experiments whose trials run PyTorchJobs or TFJobs;
- specs: TuningSpecs plus a Targets file with several namespaces and profiles.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from katib_gitops.yamlio.writer import dump, dump_all


def _container(rng: random.Random, name: str) -> dict[str, Any]:
    env = [{"name": f"VAR_{i}", "value": f"value-{rng.randrange(1000)}"} for i in range(rng.randint(4, 16))]
    return {
        "name": name,
        "image": f"registry.example.com/team/{name}:{rng.randint(1, 9)}.{rng.randint(0, 20)}",
        "args": [f"--flag-{i}={rng.randrange(100)}" for i in range(rng.randint(0, 6))],
        "env": env,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http"},
            "initialDelaySeconds": rng.randint(5, 30),
            "failureThreshold": 3,
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/app", "readOnly": True},
            {"name": "cache", "mountPath": "/var/cache/app"},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _pod(rng: random.Random, containers: list[dict[str, Any]], index: int) -> dict[str, Any]:
    """Pod spec of a typical workload: volumes, service account, security context, maybe affinity, tolerations."""
    pod: dict[str, Any] = {
        "serviceAccountName": f"sa-{index % 50}",
        "securityContext": {"runAsUser": 1000, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": containers,
        "volumes": [
            {"name": "config", "configMap": {"name": f"cfg-{index}"}},
            {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
    }
    if rng.random() < 0.3:
        pod["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]
    if rng.random() < 0.3:
        term = {
            "matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1a", "eu-west-1b"]}
            ]
        }
        pod["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
        }
    return pod


def deployment(rng: random.Random, index: int) -> dict[str, Any]:
    labels = {"app": f"app-{index}", "tier": rng.choice(["web", "api", "worker"])}
    pod = _pod(rng, [_container(rng, f"c{i}") for i in range(rng.randint(1, 3))], index)
    annotations = {
        "team.example.com/owner": f"team-{index % 12}",
        "team.example.com/runbook": f"https://runbooks.example.com/app-{index}",
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app-{index}", "namespace": "apps", "labels": labels, "annotations": annotations},
        "spec": {
            "replicas": rng.randint(1, 5),
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def service(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{index}", "namespace": "apps"},
        "spec": {"selector": {"app": f"app-{index}"}, "ports": [{"port": 80, "targetPort": "http", "protocol": "TCP"}]},
    }


def config_map(rng: random.Random, index: int) -> dict[str, Any]:
    body = "\n".join(
        f"section.key{i} = {rng.random():.6f}  # tuned {rng.randrange(2020, 2026)}" for i in range(rng.randint(30, 110))
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cfg-{index}", "namespace": "apps"},
        "data": {"app.conf": body + "\n", "mode": rng.choice(["fast", "safe"])},
    }


def job(rng: random.Random, index: int) -> dict[str, Any]:
    pod = {"restartPolicy": "Never", **_pod(rng, [_container(rng, "main")], index)}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"job-{index}", "namespace": "apps"},
        "spec": {"backoffLimit": 2, "template": {"spec": pod}},
    }


def _inject(rng: random.Random, document: dict[str, Any]) -> str:
    """Break one document: a misspelled field or a type error."""
    if document["kind"] in ("Deployment", "Job") and rng.random() < 0.5:
        document["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
        return "unknown-field"
    if document["kind"] == "Deployment":
        document["spec"]["replicas"] = "three"
        return "type"
    document["metadata"]["labelz"] = {"a": "b"}
    return "unknown-field"


# What each injected mistake looks like in the text, and where a validator should point:
# at the misspelled key, or at the value of the wrong type.
_MARKS = {"imagePullPolicyy:": 0, "labelz:": 0, "replicas: three": len("replicas: ")}


def _position(text: str, injected: str) -> dict[str, int]:
    """Line and column (1-based) of the injected mistake, found in the text itself, not by a YAML parser."""
    for number, line in enumerate(text.splitlines(), 1):
        for mark, shift in _MARKS.items():
            at = line.find(mark)
            if at >= 0 and (injected == "type") == (shift > 0):
                return {"line": number, "column": at + shift + 1}
    raise AssertionError(f"injected {injected} mistake not found")


def build_core(root: Path, files: int, seed: int = 7) -> dict[str, Any]:
    """`files` files shaped like the research corpus; returns the ground truth."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    makers, weights = [deployment, service, config_map, job], [35, 20, 20, 15]
    broken: list[str] = []
    documents = 0
    for index in range(files):
        if rng.random() < 0.1:  # a bundle: Deployment + Service (+ ConfigMap)
            docs = [deployment(rng, index), service(rng, index)] + (
                [config_map(rng, index)] if rng.random() < 0.5 else []
            )
        else:
            docs = [rng.choices(makers, weights)[0](rng, index)]
        name = f"{index:05d}.yaml"
        injected = _inject(rng, docs[0]) if rng.random() < 0.02 else None
        text = dump_all(docs)
        (root / name).write_text(text)
        if injected:
            broken.append({"file": name, "kind": injected, **_position(text, injected)})
        documents += len(docs)
    truth = {"files": files, "documents": documents, "broken": broken}
    (root.parent / f"{root.name}.truth.json").write_text(json.dumps(truth, indent=2))
    return truth


def experiment(rng: random.Random, index: int) -> dict[str, Any]:
    kind, field, container = rng.choice(
        [("PyTorchJob", "pytorchReplicaSpecs", "pytorch"), ("TFJob", "tfReplicaSpecs", "tensorflow")]
    )
    roles = {"Master": 1, "Worker": rng.randint(1, 4)} if kind == "PyTorchJob" else {"Worker": rng.randint(1, 4)}
    replica = lambda count: {  # noqa: E731 - a tiny local builder
        "replicas": count,
        "restartPolicy": "OnFailure",
        "template": {
            "metadata": {"annotations": {"sidecar.istio.io/inject": "false"}},
            "spec": {
                "containers": [
                    {
                        "name": container,
                        "image": f"registry.example.com/ml/train:{rng.randint(1, 9)}",
                        "command": [
                            "python",
                            "/train.py",
                            "--lr=${trialParameters.lr}",
                            "--momentum=${trialParameters.momentum}",
                        ],
                        "resources": {"limits": {"nvidia.com/gpu": 1}},
                    }
                ]
            },
        },
    }
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": f"exp-{index}", "namespace": "ml"},
        "spec": {
            "objective": {"type": "maximize", "goal": 0.99, "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": rng.choice(["random", "tpe", "bayesianoptimization"])},
            "parallelTrialCount": 3,
            "maxTrialCount": 12,
            "maxFailedTrialCount": 3,
            "parameters": [
                {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}},
                {"name": "momentum", "parameterType": "double", "feasibleSpace": {"min": "0.5", "max": "0.9"}},
            ],
            "trialTemplate": {
                "primaryContainerName": container,
                "trialParameters": [
                    {"name": "lr", "description": "lr", "reference": "lr"},
                    {"name": "momentum", "description": "m", "reference": "momentum"},
                ],
                "trialSpec": {
                    "apiVersion": "kubeflow.org/v1",
                    "kind": kind,
                    "spec": {field: {r: replica(c) for r, c in roles.items()}},
                },
            },
        },
    }


def build_katib(root: Path, files: int, seed: int = 11) -> int:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        (root / f"{index:05d}.yaml").write_text(dump(experiment(rng, index)))
    return files


def build_specs(root: Path, specs: int, namespaces: int = 5, seed: int = 13) -> Path:
    """`specs` TuningSpecs deploying to `namespaces` x {gpu, cpu}; returns the specs folder."""
    rng = random.Random(seed)
    folder = root / "specs"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"team-{i}" for i in range(namespaces)]
    targets = {
        "apiVersion": "katib-gitops.dev/v1alpha1",
        "kind": "Targets",
        "spec": {
            "namespaces": names,
            "profiles": {
                "gpu": {"resources": {"limits": {"nvidia.com/gpu": 1}}, "budget": {"parallelTrials": 1}},
                "cpu": {"resources": {"requests": {"cpu": "2"}}},
            },
            "gitops": {"repoURL": "https://git.example.com/hpo.git"},
        },
    }
    (folder / "targets.yaml").write_text(dump(targets))
    for index in range(specs):
        spec = {
            "apiVersion": "katib-gitops.dev/v1alpha1",
            "kind": "TuningSpec",
            "metadata": {"name": f"exp-{index}"},
            "spec": {
                "objective": {"type": "maximize", "metric": "accuracy"},
                "algorithm": {"name": rng.choice(["random", "tpe"])},
                "budget": {"maxTrials": 12, "parallelTrials": 3},
                "parameters": [
                    {"name": "--lr", "type": "double", "min": 0.01, "max": round(rng.uniform(0.05, 0.5), 3)}
                ],
                "trial": {
                    "kind": "PyTorchJob",
                    "image": "registry.example.com/ml/train:1",
                    "command": ["python", "/train.py"],
                    "replicas": {"Master": 1, "Worker": rng.randint(1, 3)},
                },
                "targets": {"namespaces": names, "profiles": ["gpu", "cpu"]},
            },
        }
        (folder / f"exp-{index}.yaml").write_text(dump(spec))
    return folder
