"""schemas/ for Kubeflow training jobs (v1 and TrainJob), Argo CD and Flux, against the upstream CRDs.

Our schemas are written by hand; the upstream CRDs in ../shared/upstream (through
katib_gitops.schema.crd, i.e. what the API server enforces plus strict unknown fields) are
the reference: whatever they accept, ours must accept, on every upstream example,
every embedded Katib trial spec and everything the generator writes. Ours are
stricter only where the upstream operators are (role names, enums, DNS names,
integer-or-string quantities inside pod templates).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.expand import gitops, overlays
from katib_gitops.expand.overlays import Expansion
from katib_gitops.schema import crd, manifests
from katib_gitops.schema.manifests import K8S_DEFINITIONS, kubernetes_versions, latest_kubernetes, validator
from katib_gitops.schema.ours import schema_dir
from katib_gitops.yamlio.documents import format_path, load_documents
from tests.helpers import generator_parameters, write_specs

# (apiVersion, kind) -> schema name: the entries for katib_gitops.schema.manifests.CATALOG
ENTRIES: dict[tuple[str, str], str] = {
    ("kubeflow.org/v1", "TFJob"): "tfjob",
    ("kubeflow.org/v1", "PyTorchJob"): "pytorchjob",
    ("kubeflow.org/v1", "MPIJob"): "mpijob",
    ("kubeflow.org/v1", "XGBoostJob"): "xgboostjob",
    ("kubeflow.org/v1", "PaddleJob"): "paddlejob",
    ("kubeflow.org/v1", "JAXJob"): "jaxjob",
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): "trainjob",
    ("argoproj.io/v1alpha1", "Application"): "argocd-application",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argocd-applicationset",
    ("argoproj.io/v1alpha1", "AppProject"): "argocd-appproject",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "flux-kustomization",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "flux-gitrepository",
}
NAMES = tuple(ENTRIES.values())
V1_JOBS = ("tfjob", "pytorchjob", "mpijob", "xgboostjob", "paddlejob", "jaxjob")
JOBS = (*V1_JOBS, "trainjob")
CRD_SOURCES = (
    "training-operator/crds",
    "trainer-v2/crds/trainer.kubeflow.org_trainjobs.yaml",
    "argo-cd/crds",
    "flux/crds",
)
PLACEHOLDER = re.compile(r"\$\{trialParameters\.[^}]*\}")
GO_FIELD = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
Doc = tuple[str, dict[str, Any]]


# ------------------------------------------------------------------ helpers


def errors(data: Any, name: str | None = None, version: str | None = None) -> list[tuple[str, str]]:
    """(JSON path, failing keyword) of every error of our schema.

    An unknown or missing field is reported at its own path.
    """
    name = name or ENTRIES[(data["apiVersion"], data["kind"])]
    found = []
    for error in validator(name, version or latest_kubernetes()).iter_errors(data):
        path = list(error.absolute_path)
        if (
            error.validator == "additionalProperties"
            and error.validator_value is False
            and isinstance(error.instance, dict)
        ):
            known = error.schema.get("properties", {})
            patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
            unknown = [k for k in error.instance if k not in known and not any(p.search(k) for p in patterns)]
            found.extend((format_path([*path, key]), "unknown field") for key in unknown)
        elif error.validator == "required" and isinstance(error.instance, dict):
            found.extend(
                (format_path([*path, key]), "required") for key in error.validator_value if key not in error.instance
            )
        else:
            found.append((format_path(path), str(error.validator)))
    return sorted(set(found))


def _schema(name: str) -> dict[str, Any]:
    return json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


@functools.cache
def _upstream_schemas(upstream: str) -> dict[tuple[str, str], dict[str, Any]]:
    """The upstream CRDs as JSON Schemas (katib_gitops.schema.crd), by (apiVersion, kind)."""
    found = {}
    for source in CRD_SOURCES:
        for (group, kind), definition in crd.load_crds(Path(upstream) / source).items():
            for version in crd.served_versions(definition):
                found[(f"{group}/{version}", kind)] = crd.schema_for(definition, version)
    return found


@pytest.fixture
def upstream(shared: Path) -> Callable[[dict[str, Any]], list[str]]:
    """Problems the upstream CRD finds in an object."""
    converted = _upstream_schemas(str(shared / "upstream"))
    assert set(ENTRIES) <= set(converted)
    return lambda obj: crd.check(obj, converted[(obj["apiVersion"], obj["kind"])])


def substitute(value: Any, text: str = "0.5") -> Any:
    """A trial spec as Katib creates it: every ${trialParameters.x} replaced by a string."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(text, value)
    if isinstance(value, dict):
        return {k: substitute(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, text) for v in value]
    return value


def _ours(obj: Any) -> bool:
    return isinstance(obj, dict) and (obj.get("apiVersion"), obj.get("kind")) in ENTRIES


def _yaml_objects(folder: Path, pattern: str = "*.yaml") -> Iterator[tuple[str, Any]]:
    for file in sorted(folder.rglob(pattern)):
        for document in load_documents(file.read_text(encoding="utf-8"), str(file)):
            yield f"{file.relative_to(folder)}#{document.index}", document.data


def training_examples(shared: Path) -> list[Doc]:
    return [
        (label, obj)
        for label, obj in _yaml_objects(shared / "upstream" / "training-operator" / "examples")
        if _ours(obj)
    ]


def katib_trial_specs(shared: Path) -> list[Doc]:
    out = []
    for label, obj in _yaml_objects(shared / "upstream" / "katib" / "examples"):
        trial_spec = (
            ((obj or {}).get("spec") or {}).get("trialTemplate", {}).get("trialSpec") if isinstance(obj, dict) else None
        )
        if _ours(trial_spec):
            out.append((f"{label} trialSpec", substitute(trial_spec)))
    return out


def _fill_go_template(value: Any, element: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return GO_FIELD.sub(lambda m: str(element[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: _fill_go_template(v, element) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_go_template(v, element) for v in value]
    return value


def applications(appset: dict[str, Any]) -> list[dict[str, Any]]:
    """The Applications the list generators of an ApplicationSet create."""
    out = []
    for generator in appset["spec"]["generators"]:
        for element in generator_parameters(generator):
            filled = _fill_go_template(appset["spec"]["template"], element)
            metadata = {**filled["metadata"], "namespace": appset["metadata"]["namespace"]}
            out.append(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": metadata,
                    "spec": filled["spec"],
                }
            )
    return out


def generated(specs_dir: Path) -> list[Doc]:
    """Trial specs of every Experiment (base and overlays) and every Argo CD / Flux object.

    All generated from a spec folder.
    """
    spec_set = planning.load(specs_dir)
    expansions: list[Expansion] = overlays.expand(spec_set)
    out: list[Doc] = []
    for expansion in expansions:
        for experiment in [expansion.base, *(o.experiment for o in expansion.overlays)]:
            trial_spec = substitute(experiment["spec"]["trialTemplate"]["trialSpec"])
            if _ours(trial_spec):
                out.append((f"{experiment['metadata']['name']} trialSpec", trial_spec))
    settings = spec_set.targets.gitops
    assert settings is not None
    appsets = [gitops.application_set(settings, e) for e in expansions]
    objects = [
        *appsets,
        *(app for appset in appsets for app in applications(appset)),
        gitops.git_repository(settings),
        *gitops.flux_kustomizations(settings, expansions),
    ]
    out.extend((f"{o['kind']} {o['metadata']['name']}", o) for o in objects)
    return out


def committed_gitops(specs_dir: Path) -> list[Doc]:
    return [(label, obj) for label, obj in _yaml_objects(specs_dir.parent / "overlays" / "_gitops") if _ours(obj)]


# One TuningSpec per trial kind, through the real pipeline.
TRIALS: dict[str, dict[str, Any]] = {
    "TFJob": {"replicas": {"Chief": 1, "PS": 1, "Worker": 2}},
    "PyTorchJob": {
        "replicas": {"Master": 1, "Worker": {"replicas": 2, "restartPolicy": "ExitCode", "env": {"ROLE": "worker"}}}
    },
    "MPIJob": {
        "replicas": {"Launcher": {"replicas": 1, "command": ["mpirun", "-n", "2", "python", "/train.py"]}, "Worker": 2}
    },
    "XGBoostJob": {"replicas": {"Master": 1, "Worker": 2}},
    "PaddleJob": {"replicas": {"Master": 1, "Worker": 2}},
    "JAXJob": {"replicas": {"Worker": 2}},
    "TrainJob": {"runtime": "torch-distributed", "replicas": {"node": 2}},
}
POD_EXTRAS: dict[str, Any] = {
    "imagePullPolicy": "IfNotPresent",
    "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    "pod": {"serviceAccountName": "trainer", "securityContext": {"runAsNonRoot": True}},
    "container": {"securityContext": {"allowPrivilegeEscalation": False}},
}
KIND_TARGETS: dict[str, Any] = {
    "apiVersion": "katib-gitops.dev/v1alpha1",
    "kind": "Targets",
    "metadata": {"name": "kinds"},
    "spec": {
        "namespaces": ["team-a"],
        "profiles": {
            "gpu": {
                "resources": {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"nvidia.com/gpu": 1}},
                "nodeSelector": {"node.kubernetes.io/instance-type": "g5.2xlarge"},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                "runtimeClassName": "nvidia",
                "budget": {"parallelTrials": 1},
            },
            "node": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
            "cpu": {"resources": {"requests": {"cpu": 1.5, "memory": "4Gi"}, "limits": {"memory": "4Gi"}}},
        },
        "gitops": {
            "repoURL": "https://git.example.com/ml/hpo.git",
            "revision": "release-1",
            "path": "deploy/hpo",
            "argocd": {"namespace": "gitops", "project": "ml", "server": "https://kubernetes.default.svc"},
            "flux": {"namespace": "gitops", "interval": "1h30m", "dependsOn": ["katib", "training-operator"]},
        },
    },
}


def kind_spec(kind: str) -> dict[str, Any]:
    trial: dict[str, Any] = {
        "kind": kind,
        "image": "registry.example.com/train:1.0",
        "command": ["python", "/train.py"],
        "env": {"EPOCHS": 2},
        "resources": {"requests": {"cpu": 0.5, "memory": "2Gi"}, "limits": {"memory": "8Gi"}},
        **copy.deepcopy(TRIALS[kind]),
    }
    if kind != "TrainJob":
        trial.update(copy.deepcopy(POD_EXTRAS))
    return {
        "apiVersion": "katib-gitops.dev/v1alpha1",
        "kind": "TuningSpec",
        "metadata": {"name": f"kinds-{kind.lower()}"},
        "spec": {
            "objective": {"type": "maximize", "goal": 0.9, "metric": "accuracy"},
            "algorithm": {"name": "random"},
            "budget": {"maxTrials": 4, "parallelTrials": 2},
            "parameters": [
                {"name": "--lr", "type": "double", "min": 0.01, "max": 0.1},
                {"name": "batch_size", "type": "int", "min": 16, "max": 64, "pass": {"env": "BATCH_SIZE"}},
            ],
            "trial": trial,
            "targets": {"namespaces": ["team-a"], "profiles": ["node" if kind == "TrainJob" else "gpu", "cpu"]},
        },
    }


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> list[Doc]:
    folder = write_specs(tmp_path_factory.mktemp("kinds"), *(kind_spec(k) for k in TRIALS), targets=KIND_TARGETS)
    return generated(folder)


@pytest.fixture
def corpus(shared: Path, repo_specs: Path, every_kind: list[Doc]) -> list[Doc]:
    """Every document the property is checked on."""
    return [
        *training_examples(shared),
        *katib_trial_specs(shared),
        *generated(repo_specs),
        *committed_gitops(repo_specs),
        *every_kind,
    ]


# ------------------------------------------------------------------ (a) upstream examples


def test_every_upstream_training_operator_example_validates(
    shared: Path, upstream: Callable[[dict[str, Any]], list[str]]
) -> None:
    examples = training_examples(shared)
    assert len(examples) == 13
    assert {o["kind"] for _, o in examples} == {"TFJob", "PyTorchJob"}
    assert {label: upstream(o) for label, o in examples if upstream(o)} == {}
    assert {label: errors(o) for label, o in examples if errors(o)} == {}


def test_every_katib_example_trial_spec_of_these_kinds_validates(shared: Path) -> None:
    trial_specs = katib_trial_specs(shared)
    assert {o["kind"] for _, o in trial_specs} == {"TFJob", "PyTorchJob", "MPIJob", "XGBoostJob", "TrainJob"}
    assert {label: errors(o) for label, o in trial_specs if errors(o)} == {}


def test_everything_generated_validates(repo_specs: Path, every_kind: list[Doc]) -> None:
    documents = [*generated(repo_specs), *committed_gitops(repo_specs), *every_kind]
    kinds = {o["kind"] for _, o in documents}
    assert kinds == {
        "TFJob",
        "PyTorchJob",
        "MPIJob",
        "XGBoostJob",
        "PaddleJob",
        "JAXJob",
        "TrainJob",
        "ApplicationSet",
        "Application",
        "GitRepository",
        "Kustomization",
    }
    assert {label: errors(o) for label, o in documents if errors(o)} == {}


# ------------------------------------------------------------------ (b) what upstream accepts, we accept


def test_whatever_upstream_accepts_in_the_corpus_we_accept(
    corpus: list[Doc], upstream: Callable[[dict[str, Any]], list[str]]
) -> None:
    accepted = [(label, o) for label, o in corpus if not upstream(o)]
    assert len(accepted) == len(corpus) > 60  # the corpus is valid upstream (else the property says little)
    assert {label: errors(o) for label, o in accepted if errors(o)} == {}


def _object_paths(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _object_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _object_paths(value, (*path, index))


def _at(obj: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    for part in path:
        obj = obj[part]  # type: ignore[index]
    return obj


def _variants(obj: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object with one field left out, and with an unknown field added to one mapping."""
    for path, node in list(_object_paths(obj)):
        for key in node:
            if path == () and key in ("apiVersion", "kind"):
                continue
            variant = copy.deepcopy(obj)
            del _at(variant, path)[key]
            yield f"without {format_path([*path, key])}", variant
        variant = copy.deepcopy(obj)
        _at(variant, path)["zzUnknownField"] = "x"
        yield f"with {format_path([*path, 'zzUnknownField'])}", variant


def _representatives(shared: Path, repo_specs: Path, every_kind: list[Doc]) -> list[Doc]:
    """Every upstream document, and the largest generated document of each kind.

    That covers every field the corpus uses, at a bearable cost.
    """
    best: dict[str, Doc] = {}
    for label, obj in [*generated(repo_specs), *committed_gitops(repo_specs), *every_kind]:
        if obj["kind"] not in best or len(json.dumps(obj)) > len(json.dumps(best[obj["kind"]][1])):
            best[obj["kind"]] = (label, obj)
    return [*training_examples(shared), *katib_trial_specs(shared), *best.values()]


# Where we are deliberately stricter than the CRD, as the operators are: a job needs a spec (the webhooks
# and controllers refuse one without replica specs), an MPIJob a Launcher, an XGBoostJob a Master.
DELIBERATE = {
    ("spec", "required"),
    ("spec.mpiReplicaSpecs.Launcher", "required"),
    ("spec.xgbReplicaSpecs.Master", "required"),
}
# A CEL rule we encode (katib_gitops.schema.crd does not run CEL): a GitRepository's
# serviceAccountName needs provider aws or azure.
ENCODED_CEL = {("spec.provider", "required")}


def test_one_field_less_or_one_unknown_field_more_we_agree_with_upstream(
    shared: Path,
    repo_specs: Path,
    every_kind: list[Doc],
    upstream: Callable[[dict[str, Any]], list[str]],
) -> None:
    """Leaving a field out: we reject only what upstream rejects.

    Adding an unknown field: we reject where upstream does.
    """
    too_strict, too_lax, checked = [], [], 0
    for label, obj in _representatives(shared, repo_specs, every_kind):
        for change, variant in _variants(obj):
            theirs, ours = upstream(variant), errors(variant)
            checked += 1
            if not theirs and set(ours) - DELIBERATE:
                too_strict.append(f"{label} {change}: {ours}")
            if change.startswith("with") and any("unknown field" in p for p in theirs) and not ours:
                too_lax.append(f"{label} {change}")
    assert checked > 1000
    assert too_strict == []
    assert too_lax == []


EXAMPLE_STRINGS = ("x", "1", "1m", "https://example.com/x", "2026-01-01T00:00:00Z")


def exemplar(node: dict[str, Any]) -> Any:
    """A value for an upstream (converted CRD) schema with every declared field set.

    Except the free-form status and operation.
    """
    types = node.get("type")
    types = [t for t in ([types] if isinstance(types, str) else types or []) if t != "null"]
    if "enum" in node:
        return node["enum"][0]
    if "properties" in node:
        return {k: exemplar(v) for k, v in node["properties"].items() if k not in ("status", "operation")}
    if "integer" in types:
        return max(1, node.get("minimum", 1))
    if "string" in types:
        if node.get("format") == "date-time":
            return EXAMPLE_STRINGS[-1]
        return next(s for s in EXAMPLE_STRINGS if "pattern" not in node or re.search(node["pattern"], s))
    if "boolean" in types:
        return True
    if "array" in types:
        return [exemplar(node.get("items", {}))]
    if isinstance(node.get("additionalProperties"), dict):
        return {"key": exemplar(node["additionalProperties"])}
    return {} if "object" in types else "x"


def _replica_field(obj: dict[str, Any]) -> str | None:
    return next((k for k in obj.get("spec", {}) if k.endswith("ReplicaSpecs")), None)


def upstream_exemplar(converted: dict[tuple[str, str], dict[str, Any]], key: tuple[str, str]) -> dict[str, Any]:
    obj = exemplar(converted[key])
    obj.update(apiVersion=key[0], kind=key[1], metadata={"name": "x"})
    if field := _replica_field(obj):  # a role the kind has, not 'key'
        role = next(iter(_schema(ENTRIES[key])["properties"]["spec"]["properties"][field]["properties"]))
        obj["spec"][field] = {role: obj["spec"][field]["key"]}
    return obj  # type: ignore[no-any-return]


# What an exemplar value breaks on purpose: rules upstream has as CEL (which katib_gitops.schema.crd does not run)
# or in its webhooks and controllers, and nested matrix/merge generators, which Argo CD parses as objects.
V1_VALUES = {
    ("spec.runPolicy.cleanPodPolicy", "enum"),
    ("spec.<role>.restartPolicy", "enum"),
}
EXEMPLAR_ERRORS: dict[str, set[tuple[str, str]]] = {
    **dict.fromkeys(V1_JOBS, V1_VALUES),
    "tfjob": {*V1_VALUES, ("spec.successPolicy", "enum")},
    "mpijob": {*V1_VALUES, ("spec.cleanPodPolicy", "enum")},
    "trainjob": {
        ("spec.initializer.dataset.storageUri", "pattern"),
        ("spec.initializer.model.storageUri", "pattern"),
        ("spec.managedBy", "enum"),
    },
    "argocd-applicationset": {
        (f"spec.generators[0].{outer}.generators[0].{inner}", "type")
        for outer in ("matrix", "merge")
        for inner in ("matrix", "merge")
    },
    "flux-kustomization": {("spec.kubeConfig", "oneOf")},
    "flux-gitrepository": {("spec.provider", "enum")},
}


@pytest.mark.parametrize("key", list(ENTRIES), ids=list(NAMES))
def test_every_field_upstream_declares_is_accepted(key: tuple[str, str], shared: Path) -> None:
    converted = _upstream_schemas(str(shared / "upstream"))
    obj = upstream_exemplar(converted, key)
    assert crd.check(obj, converted[key]) == []
    field = _replica_field(obj)
    role = f"{field}.{next(iter(obj['spec'][field]))}" if field else ""
    assert set(errors(obj)) == {
        (path.replace("<role>", role), keyword) for path, keyword in EXEMPLAR_ERRORS.get(ENTRIES[key], set())
    }


KUBERNETES_TYPED = {"affinity", "volumes", "securityContext", "tolerations", "valueFrom"}


def _lean(obj: dict[str, Any]) -> dict[str, Any]:
    """An exemplar without the parts that are Kubernetes core types (tested with the samples) or repeat a definition."""
    obj = copy.deepcopy(obj)
    if field := _replica_field(obj):
        for replica in obj["spec"][field].values():
            replica["template"] = {"spec": {"containers": [{"name": "main", "image": "x"}]}}
    for _, node in list(_object_paths(obj)):
        for key in KUBERNETES_TYPED & set(node):
            del node[key]
    if obj["kind"] == "ApplicationSet":
        for generator in obj["spec"]["generators"]:
            for kind in generator.values():
                kind.pop("template", None)
            for nested in (g for kind in ("matrix", "merge") for g in generator[kind]["generators"]):
                for key in [k for k in nested if k not in ("list", "git")]:
                    del nested[key]
                for kind in nested.values():
                    kind.pop("template", None)
    return obj


def test_without_any_one_field_or_with_one_unknown_field_we_agree_with_upstream(shared: Path) -> None:
    """On exemplars of every kind, we agree with upstream.

    Leaving any one field out, we reject only what upstream rejects (or a deliberate rule);
    adding an unknown field anywhere, we reject it wherever upstream does, except in the
    documented free-form places.
    """
    converted = _upstream_schemas(str(shared / "upstream"))
    too_strict, too_lax, checked = [], [], 0
    for key, name in ENTRIES.items():
        obj = _lean(upstream_exemplar(converted, key))
        assert crd.check(obj, converted[key]) == [], name
        known = set(errors(obj))
        for change, variant in _variants(obj):
            theirs, ours = crd.check(variant, converted[key]), set(errors(variant)) - known
            checked += 1
            if not theirs and ours - DELIBERATE - ENCODED_CEL:
                too_strict.append(f"{name} {change}: {sorted(ours)}")
            # The pullRequest and scmProvider provider blocks are checked too (issue 12, item 6).
            if change.startswith("with") and any("unknown field" in p for p in theirs) and not ours:
                too_lax.append(f"{name} {change}")
    assert checked > 1500
    assert too_strict == []
    assert too_lax == []


# ------------------------------------------------------------------ (c) what we reject, and where

TFJOB: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "TFJob",
    "metadata": {"name": "mnist", "namespace": "team-a"},
    "spec": {
        "runPolicy": {"cleanPodPolicy": "None", "backoffLimit": 3},
        "tfReplicaSpecs": {
            "Worker": {
                "replicas": 2,
                "restartPolicy": "OnFailure",
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "tensorflow",
                                "image": "example.com/tf:1",
                                "resources": {"requests": {"cpu": "500m"}, "limits": {"nvidia.com/gpu": 1}},
                            },
                        ]
                    }
                },
            }
        },
    },
}
PYTORCHJOB: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "metadata": {"name": "mnist"},
    "spec": {
        "nprocPerNode": "auto",
        "elasticPolicy": {"rdzvBackend": "c10d", "minReplicas": 1, "maxReplicas": 3},
        "pytorchReplicaSpecs": {
            "Master": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"name": "pytorch", "image": "example.com/pt:1"}]}},
            },
            "Worker": {
                "replicas": 2,
                "restartPolicy": "ExitCode",
                "template": {"spec": {"containers": [{"name": "pytorch", "image": "example.com/pt:1"}]}},
            },
        },
    },
}
TRAINJOB: dict[str, Any] = {
    "apiVersion": "trainer.kubeflow.org/v1alpha1",
    "kind": "TrainJob",
    "metadata": {"name": "mnist"},
    "spec": {
        "runtimeRef": {"name": "torch-distributed"},
        "trainer": {
            "image": "example.com/pt:1",
            "numNodes": 2,
            "numProcPerNode": 4,
            "resourcesPerNode": {"limits": {"nvidia.com/gpu": 1, "memory": "8Gi"}},
            "env": [{"name": "EPOCHS", "value": "2"}],
        },
    },
}
APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "hpo", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://git.example.com/hpo.git", "targetRevision": "main", "path": "deploy"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "team-a"},
        "syncPolicy": {
            "automated": {"prune": False, "selfHeal": True},
            "syncOptions": ["ServerSideApply=true"],
            "retry": {"limit": 3, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        },
        "revisionHistoryLimit": 5,
    },
}
APPLICATIONSET: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "hpo", "namespace": "argocd"},
    "spec": {
        "goTemplate": True,
        "generators": [
            {
                "matrix": {
                    "generators": [
                        {
                            "git": {
                                "repoURL": "https://git.example.com/hpo.git",
                                "revision": "main",
                                "directories": [{"path": "deploy/*"}],
                            }
                        },
                        {"clusters": {"selector": {"matchLabels": {"env": "prod"}}}},
                    ]
                }
            }
        ],
        "template": {
            "metadata": {"name": "{{ .path.basename }}-{{ .name }}"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://git.example.com/hpo.git", "path": "{{ .path.path }}"},
                "destination": {"server": "{{ .server }}", "namespace": "team-a"},
            },
        },
        "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
    },
}
KUSTOMIZATION: dict[str, Any] = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "hpo", "namespace": "flux-system"},
    "spec": {
        "interval": "10m",
        "prune": False,
        "sourceRef": {"kind": "GitRepository", "name": "hpo"},
        "path": "./deploy",
        "postBuild": {"substitute": {"TEAM": "a"}},
        "dependsOn": [{"name": "katib"}],
    },
}
GITREPOSITORY: dict[str, Any] = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "GitRepository",
    "metadata": {"name": "hpo", "namespace": "flux-system"},
    "spec": {"interval": "1m", "url": "https://git.example.com/hpo.git", "ref": {"branch": "main"}, "timeout": "60s"},
}
SAMPLES = (TFJOB, PYTORCHJOB, TRAINJOB, APPLICATION, APPLICATIONSET, KUSTOMIZATION, GITREPOSITORY)


def changed(sample: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    out = copy.deepcopy(sample)
    change(out)
    return out


def test_the_samples_are_valid_upstream_and_here(upstream: Callable[[dict[str, Any]], list[str]]) -> None:
    for sample in SAMPLES:
        assert upstream(sample) == [], sample["kind"]
        assert errors(sample) == [], sample["kind"]


def _tf_container(d: dict[str, Any]) -> dict[str, Any]:
    return d["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


REJECTED: list[Any] = [
    # misspelled fields at depth
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["tfReplicaSpecs"]["Worker"].update(restartpolicy="Never"),
        ("spec.tfReplicaSpecs.Worker.restartpolicy", "unknown field"),
        True,
        id="replica-spec-field",
    ),
    pytest.param(
        TFJOB,
        lambda d: _tf_container(d).update(imagePullPolicyy="Always"),
        ("spec.tfReplicaSpecs.Worker.template.spec.containers[0].imagePullPolicyy", "unknown field"),
        True,
        id="container-field",
    ),
    pytest.param(
        TFJOB,
        lambda d: _tf_container(d)["resources"].update(limit={"cpu": "1"}),
        ("spec.tfReplicaSpecs.Worker.template.spec.containers[0].resources.limit", "unknown field"),
        True,
        id="container-resources-field",
    ),
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["runPolicy"].update(cleanupPolicy="All"),
        ("spec.runPolicy.cleanupPolicy", "unknown field"),
        True,
        id="run-policy-field",
    ),
    pytest.param(
        PYTORCHJOB,
        lambda d: d["spec"]["elasticPolicy"].update(rdzvbackend="c10d"),
        ("spec.elasticPolicy.rdzvbackend", "unknown field"),
        True,
        id="elastic-policy-field",
    ),
    pytest.param(
        TRAINJOB,
        lambda d: d["spec"]["trainer"].update(numProcsPerNode=2),
        ("spec.trainer.numProcsPerNode", "unknown field"),
        True,
        id="trainer-field",
    ),
    pytest.param(
        TRAINJOB,
        lambda d: d["spec"].update(podTemplateOverrides=[]),
        ("spec.podTemplateOverrides", "unknown field"),
        True,
        id="trainjob-v2.1-field",
    ),
    pytest.param(
        APPLICATION,
        lambda d: d["spec"]["syncPolicy"]["automated"].update(selfheal=True),
        ("spec.syncPolicy.automated.selfheal", "unknown field"),
        True,
        id="application-sync-policy-field",
    ),
    pytest.param(
        APPLICATION,
        lambda d: d["spec"]["syncPolicy"]["retry"]["backoff"].update(maxduration="1m"),
        ("spec.syncPolicy.retry.backoff.maxduration", "unknown field"),
        True,
        id="application-retry-field",
    ),
    pytest.param(
        APPLICATIONSET,
        lambda d: d["spec"]["syncPolicy"].update(preserveResourcesOnDelete=True),
        ("spec.syncPolicy.preserveResourcesOnDelete", "unknown field"),
        True,
        id="applicationset-sync-policy-field",
    ),
    pytest.param(
        APPLICATIONSET,
        lambda d: d["spec"]["template"]["spec"].update(syncPolicy={"automated": {"prune": True, "selfheal": True}}),
        ("spec.template.spec.syncPolicy.automated.selfheal", "unknown field"),
        True,
        id="applicationset-template-field",
    ),
    pytest.param(
        APPLICATIONSET,
        lambda d: d["spec"]["generators"][0]["matrix"]["generators"][0]["git"].update(directory=[]),
        ("spec.generators[0].matrix.generators[0].git.directory", "unknown field"),
        True,
        id="nested-generator-field",
    ),
    pytest.param(
        KUSTOMIZATION,
        lambda d: d["spec"].update(dependOn=[{"name": "katib"}]),
        ("spec.dependOn", "unknown field"),
        True,
        id="flux-kustomization-field",
    ),
    pytest.param(
        KUSTOMIZATION,
        lambda d: d["spec"]["postBuild"].update(substitutes={}),
        ("spec.postBuild.substitutes", "unknown field"),
        True,
        id="flux-post-build-field",
    ),
    pytest.param(
        GITREPOSITORY,
        lambda d: d["spec"]["ref"].update(brnach="main"),
        ("spec.ref.brnach", "unknown field"),
        True,
        id="flux-git-ref-field",
    ),
    # a string where an integer is required
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["tfReplicaSpecs"]["Worker"].update(replicas="2"),
        ("spec.tfReplicaSpecs.Worker.replicas", "type"),
        True,
        id="replicas-string",
    ),
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["runPolicy"].update(backoffLimit="3"),
        ("spec.runPolicy.backoffLimit", "type"),
        True,
        id="backoff-limit-string",
    ),
    pytest.param(
        TRAINJOB,
        lambda d: d["spec"]["trainer"].update(numNodes="2"),
        ("spec.trainer.numNodes", "type"),
        True,
        id="num-nodes-string",
    ),
    pytest.param(
        TRAINJOB,
        lambda d: d["spec"]["trainer"].update(numProcPerNode="auto"),
        ("spec.trainer.numProcPerNode", "type"),
        True,
        id="num-proc-per-node-auto-since-v2.2",
    ),
    pytest.param(
        APPLICATION,
        lambda d: d["spec"].update(revisionHistoryLimit="5"),
        ("spec.revisionHistoryLimit", "type"),
        True,
        id="history-limit-string",
    ),
    pytest.param(
        APPLICATION,
        lambda d: d["spec"]["syncPolicy"]["retry"].update(limit="3"),
        ("spec.syncPolicy.retry.limit", "type"),
        True,
        id="retry-limit-string",
    ),
    pytest.param(
        TFJOB,
        lambda d: _tf_container(d).update(ports=[{"containerPort": "8080"}]),
        ("spec.tfReplicaSpecs.Worker.template.spec.containers[0].ports[0].containerPort", "type"),
        True,
        id="container-port-string",
    ),
    # other types and values, as the API server has them
    pytest.param(
        TFJOB,
        lambda d: _tf_container(d)["resources"]["requests"].update(cpu=0.5),
        ("spec.tfReplicaSpecs.Worker.template.spec.containers[0].resources.requests.cpu", "type"),
        True,
        id="float-quantity",
    ),
    pytest.param(
        TFJOB,
        lambda d: _tf_container(d)["resources"]["requests"].update(cpu="half"),
        ("spec.tfReplicaSpecs.Worker.template.spec.containers[0].resources.requests.cpu", "pattern"),
        True,
        id="quantity-syntax",
    ),
    pytest.param(
        TRAINJOB,
        lambda d: d["spec"]["trainer"]["resourcesPerNode"]["limits"].update(cpu=1.5),
        ("spec.trainer.resourcesPerNode.limits.cpu", "type"),
        True,
        id="float-quantity-per-node",
    ),
    pytest.param(
        TRAINJOB, lambda d: d["spec"].pop("runtimeRef"), ("spec.runtimeRef", "required"), True, id="runtime-ref-missing"
    ),
    pytest.param(
        KUSTOMIZATION, lambda d: d["spec"].pop("prune"), ("spec.prune", "required"), True, id="flux-prune-missing"
    ),
    pytest.param(
        KUSTOMIZATION,
        lambda d: d["spec"].update(interval="10 minutes"),
        ("spec.interval", "pattern"),
        True,
        id="flux-interval-syntax",
    ),
    pytest.param(
        KUSTOMIZATION,
        lambda d: d["spec"]["sourceRef"].update(kind="HelmRepository"),
        ("spec.sourceRef.kind", "enum"),
        True,
        id="flux-source-kind",
    ),
    pytest.param(
        GITREPOSITORY,
        lambda d: d["spec"].update(url="git@example.com:hpo.git"),
        ("spec.url", "pattern"),
        True,
        id="flux-git-url",
    ),
    pytest.param(
        APPLICATIONSET,
        lambda d: d["spec"]["syncPolicy"].update(applicationsSync="update"),
        ("spec.syncPolicy.applicationsSync", "enum"),
        True,
        id="applications-sync",
    ),
    pytest.param(
        APPLICATION,
        lambda d: d["spec"].pop("project"),
        ("spec.project", "required"),
        True,
        id="application-project-missing",
    ),
    # stricter than the CRD, as the operators are (their webhooks or controllers refuse these)
    pytest.param(
        PYTORCHJOB,
        lambda d: d["spec"]["pytorchReplicaSpecs"].update(Workers=d["spec"]["pytorchReplicaSpecs"].pop("Worker")),
        ("spec.pytorchReplicaSpecs.Workers", "unknown field"),
        False,
        id="role-name",
    ),
    pytest.param(
        PYTORCHJOB,
        lambda d: d["spec"]["pytorchReplicaSpecs"].update(worker=d["spec"]["pytorchReplicaSpecs"].pop("Worker")),
        ("spec.pytorchReplicaSpecs.worker", "unknown field"),
        False,
        id="role-name-case",
    ),
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["tfReplicaSpecs"].update(Wroker=d["spec"]["tfReplicaSpecs"].pop("Worker")),
        ("spec.tfReplicaSpecs.Wroker", "unknown field"),
        False,
        id="tf-role-name",
    ),
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["tfReplicaSpecs"]["Worker"].update(restartPolicy="OnFailures"),
        ("spec.tfReplicaSpecs.Worker.restartPolicy", "enum"),
        False,
        id="restart-policy",
    ),
    pytest.param(
        TFJOB,
        lambda d: d["spec"]["runPolicy"].update(cleanPodPolicy="none"),
        ("spec.runPolicy.cleanPodPolicy", "enum"),
        False,
        id="clean-pod-policy",
    ),
    pytest.param(
        TFJOB, lambda d: d["metadata"].update(name="MNIST.v1"), ("metadata.name", "pattern"), False, id="job-name"
    ),
]


@pytest.mark.parametrize(("sample", "change", "expected", "upstream_rejects"), REJECTED)
def test_rejected_at_the_exact_path(
    sample: dict[str, Any],
    change: Callable[[dict[str, Any]], Any],
    expected: tuple[str, str],
    upstream_rejects: bool,
    upstream: Callable[[dict[str, Any]], list[str]],
) -> None:
    data = changed(sample, change)
    assert errors(data) == [expected]
    assert bool(upstream(data)) is upstream_rejects


def test_misspelled_fields_in_pod_templates_of_every_v1_kind_are_caught(every_kind: list[Doc]) -> None:
    for label, obj in every_kind:
        if obj["apiVersion"] != "kubeflow.org/v1":
            continue
        field = next(k for k in obj["spec"] if k.endswith("ReplicaSpecs"))
        role = next(iter(obj["spec"][field]))
        obj = copy.deepcopy(obj)
        obj["spec"][field][role]["template"]["spec"]["nodeSelecter"] = {}
        assert errors(obj) == [(f"spec.{field}.{role}.template.spec.nodeSelecter", "unknown field")], label


@pytest.mark.parametrize(
    ("name", "field", "roles", "required"),
    [
        ("tfjob", "tfReplicaSpecs", {"PS", "Worker", "Chief", "Master", "Evaluator"}, []),
        ("pytorchjob", "pytorchReplicaSpecs", {"Master", "Worker"}, []),
        ("mpijob", "mpiReplicaSpecs", {"Launcher", "Worker"}, ["Launcher"]),
        ("xgboostjob", "xgbReplicaSpecs", {"Master", "Worker"}, ["Master"]),
        ("paddlejob", "paddleReplicaSpecs", {"Master", "Worker"}, []),
        ("jaxjob", "jaxReplicaSpecs", {"Worker"}, []),
    ],
)
def test_roles_of_every_kind(name: str, field: str, roles: set[str], required: list[str]) -> None:
    replica_map = _schema(name)["properties"]["spec"]["properties"][field]
    assert set(replica_map["properties"]) == roles
    assert replica_map.get("required", []) == required
    kind = next(k for (_, k), n in ENTRIES.items() if n == name)
    pod = {"template": {"spec": {"containers": [{"name": "main", "image": "example.com/x:1"}]}}}
    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": kind,
        "metadata": {"name": "j"},
        "spec": {field: dict.fromkeys(roles, pod)},
    }
    assert errors(job) == []
    job["spec"][field]["Chef"] = pod
    assert errors(job) == [(f"spec.{field}.Chef", "unknown field")]


def test_tfjob_roles_in_any_letter_case_are_accepted() -> None:
    # The operator's defaulting renames ps/WORKER/chief to PS/Worker/Chief; its webhook does not check TF role names.
    job = changed(
        TFJOB,
        lambda d: d["spec"]["tfReplicaSpecs"].update(
            ps=copy.deepcopy(d["spec"]["tfReplicaSpecs"]["Worker"]), WORKER=d["spec"]["tfReplicaSpecs"].pop("Worker")
        ),
    )
    assert errors(job) == []


def test_free_form_places_accept_anything() -> None:
    app = changed(
        APPLICATION,
        lambda d: d.update(status={"sync": {"status": "Synced"}, "anything": [1]}, operation={"sync": {"prune": True}}),
    )
    app["spec"]["source"]["helm"] = {"valuesObject": {"replicas": 2, "nested": {"x": [None]}}}
    assert errors(app) == []
    appset = changed(
        APPLICATIONSET, lambda d: d["spec"]["generators"][0]["matrix"]["generators"].append({"merge": {"anything": 1}})
    )
    appset["spec"]["generators"].append({"list": {"elements": [{"name": "a", "nested": {"n": 1}}, {"name": "b"}]}})
    appset["spec"]["generators"].append(
        {"scmProvider": {"github": {"organization": "ml", "anyField": True}, "cloneProtocol": "https"}}
    )
    # The provider blocks are no longer free-form (issue 12, item 6): SCMProviderGeneratorGithub has no
    # anyField, which Argo CD's CRD prunes and strict field validation refuses.
    assert errors(appset) == [("spec.generators[2].scmProvider.github.anyField", "unknown field")]
    job = changed(TRAINJOB, lambda d: d.update(status={"conditions": [{"type": "Complete"}]}))
    assert errors(job) == []


def test_gitrepository_service_account_needs_a_cloud_provider() -> None:
    repo = changed(GITREPOSITORY, lambda d: d["spec"].update(serviceAccountName="flux"))
    assert errors(repo) == [("spec.provider", "required")]
    repo["spec"]["provider"] = "github"
    assert errors(repo) == [("spec.provider", "enum")]
    repo["spec"]["provider"] = "azure"
    assert errors(repo) == []


def test_kustomization_kube_config_needs_exactly_one_reference() -> None:
    both = changed(
        KUSTOMIZATION,
        lambda d: d["spec"].update(kubeConfig={"secretRef": {"name": "k"}, "configMapRef": {"name": "k"}}),
    )
    assert errors(both) == [("spec.kubeConfig", "oneOf")]
    both["spec"]["kubeConfig"].pop("configMapRef")
    assert errors(both) == []


# ------------------------------------------------------------------ the schema files


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


@pytest.mark.parametrize("name", NAMES)
def test_schema_file_is_a_valid_draft_2020_12_schema_with_our_id(name: str) -> None:
    from jsonschema import Draft202012Validator

    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://katib-gitops.dev/schemas/{name}.schema.json"
    api_version, kind = next(key for key, n in ENTRIES.items() if n == name)
    assert schema["properties"]["apiVersion"]["const"] == api_version
    assert schema["properties"]["kind"]["const"] == kind
    assert schema["title"] and schema["description"]


@pytest.mark.parametrize("name", NAMES)
def test_every_object_is_strict_and_every_property_is_described(name: str) -> None:
    for path, node in _walk(_schema(name)):
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, path
        elif "properties" in node:  # on top of a Kubernetes definition, inside such an overlay, or a condition
            assert "$ref" in node or "/$defs/" in path or "/items" in path or path.endswith("/then"), path
        for key, value in node.get("properties", {}).items() if isinstance(node.get("properties"), dict) else []:
            assert value.get("description"), f"{path}/properties/{key}"


FREE_FORM = {
    "argocd-application": {"/properties/status", "/properties/operation", "/$defs/helm/properties/valuesObject"},
    "argocd-applicationset": {
        "/properties/status",
        "/$defs/helm/properties/valuesObject",
        "/$defs/nestedGenerator/properties/matrix",
        "/$defs/nestedGenerator/properties/merge",
    },
}


@pytest.mark.parametrize("name", NAMES)
def test_only_status_and_documented_places_are_free_form(name: str) -> None:
    free = {
        path
        for path, node in _walk(_schema(name))
        if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node
    }
    assert free == FREE_FORM.get(name, {"/properties/status"})


def test_definitions_shared_between_schemas_are_identical() -> None:
    for group in (JOBS, ("argocd-application", "argocd-applicationset")):
        seen: dict[str, tuple[str, Any]] = {}
        for name in group:
            for key, value in _schema(name).get("$defs", {}).items():
                first = seen.setdefault(key, (name, value))
                assert first[1] == value, f"$defs/{key} differs between {first[0]} and {name}"
    assert {"runPolicy", "replicaSpec", "podTemplate"} <= set(_schema("tfjob")["$defs"])
    assert set(_schema("argocd-application")["$defs"]) <= set(_schema("argocd-applicationset")["$defs"])


@pytest.mark.parametrize("name", NAMES)
def test_every_reference_resolves_in_every_bundled_kubernetes_version(name: str) -> None:
    schema = _schema(name)
    refs = {node["$ref"] for _, node in _walk(schema) if isinstance(node.get("$ref"), str)}
    local = {r.removeprefix("#/$defs/") for r in refs if r.startswith("#/")}
    assert local <= set(schema.get("$defs", {})), name
    assert set(schema.get("$defs", {})) <= local, f"{name}: unused $defs"
    external = {r for r in refs if not r.startswith("#/")}
    assert all(r.startswith(f"{K8S_DEFINITIONS}#/$defs/io.k8s.") for r in external), external
    for version in kubernetes_versions():
        resolver = manifests.registry(version).resolver()
        for reference in external:
            resolver.lookup(reference)


def test_the_pod_template_is_the_kubernetes_definition_in_every_version() -> None:
    for version in kubernetes_versions():
        assert errors(TFJOB, version=version) == [], version
        assert errors(
            changed(TFJOB, lambda d: _tf_container(d).update(imagePullPolicyy="Always")), version=version
        ) == [("spec.tfReplicaSpecs.Worker.template.spec.containers[0].imagePullPolicyy", "unknown field")], version


def test_catalog_entries_agree_where_the_catalog_has_them() -> None:
    for key, name in ENTRIES.items():
        assert manifests.CATALOG.get(key, name) == name, key
