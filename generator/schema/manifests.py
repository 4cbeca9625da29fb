"""JSON Schema validation of manifests: our schemas in schemas/, Kubernetes core types from kubernetes-validate.

Our schemas reference Kubernetes core definitions (PodTemplateSpec, Container,
ObjectMeta, ...) as `https://kubernetes.io/api/_definitions.json#/$defs/<name>`;
that document comes from kubernetes-validate's bundled schemas for the chosen
Kubernetes version (the strict variant, so unknown fields are errors there too).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import UsageError
from katib_gitops.schema.ours import schema_text

K8S_DEFINITIONS = "https://kubernetes.io/api/_definitions.json"

# (apiVersion, kind) -> schema file in schemas/ (without .schema.json), for all but the trial kinds
_OTHERS: dict[tuple[str, str], str] = {
    ("katib-gitops.dev/v1alpha1", "TuningSpec"): "tuningspec",
    ("katib-gitops.dev/v1alpha1", "Targets"): "targets",
    ("kubeflow.org/v1beta1", "Experiment"): "experiment",
    ("kubeflow.org/v1beta1", "Trial"): "trial",
    ("kubeflow.org/v1beta1", "Suggestion"): "suggestion",
    ("argoproj.io/v1alpha1", "Application"): "argocd-application",
    ("argoproj.io/v1alpha1", "ApplicationSet"): "argocd-applicationset",
    ("argoproj.io/v1alpha1", "AppProject"): "argocd-appproject",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "flux-kustomization",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "flux-gitrepository",
    ("source.toolkit.fluxcd.io/v1", "OCIRepository"): "flux-ocirepository",
    ("trainer.kubeflow.org/v1alpha1", "TrainingRuntime"): "trainingruntime",
    ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"): "trainingruntime",
    ("trainer.kubeflow.org/v1alpha1", "OptimizationJob"): "optimizationjob",  # rules/optimizationjob_checks.py
}


# The built-in kinds that are custom resources with structural schemas: the API server drops a null
# field (nothing there is `nullable`) before it validates them (apiextensions-apiserver,
# PruneNonNullableNullsWithoutDefaults). Not Katib's kinds (schemaless CRDs keep every field) nor
# katib-gitops' own (files, never sent to a cluster).
_NULLS_PRUNED_GROUPS = frozenset(
    {"argoproj.io", "kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "trainer.kubeflow.org"}
)


def prunes_nulls(api_version: str) -> bool:
    """Whether the API server prunes null fields of this built-in kind's objects before validating."""
    return api_version == "kubeflow.org/v1" or api_version.rpartition("/")[0] in _NULLS_PRUNED_GROUPS


def without_nulls(value: Any) -> Any:
    """`value` without the mapping entries that are null (list items stay); `value` itself when it has none.

    Most objects have none: a walk that copies nothing finds that first.
    """
    return _pruned(value) if _has_null_entry(value) else value


def _has_null_entry(value: Any) -> bool:
    if isinstance(value, dict):
        for item in value.values():
            if item is None or (isinstance(item, (dict, list)) and _has_null_entry(item)):
                return True
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and _has_null_entry(item):
                return True
    return False


def _pruned(value: Any) -> Any:
    """`value` without its null mapping entries, sharing every part that has none."""
    if isinstance(value, dict):
        pruned = {k: _pruned(v) for k, v in value.items() if v is not None}
        same = len(pruned) == len(value) and all(pruned[k] is v for k, v in value.items())
        return value if same else pruned
    if isinstance(value, list):
        items = [_pruned(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


class _Catalog(Mapping[tuple[str, str], str]):
    """(apiVersion, kind) -> schema name: each trial kind's `schema` as KINDS has it now, then the others."""

    def _entries(self) -> dict[tuple[str, str], str]:
        trial_kinds = {(k.api_version, k.kind): k.schema for k in kinds.KINDS.values() if k.schema is not None}
        return {**trial_kinds, **_OTHERS}

    def __getitem__(self, key: tuple[str, str]) -> str:
        known = kinds.lookup(key[1], key[0]) if isinstance(key, tuple) and len(key) == 2 else None
        if known is not None and known.schema is not None:
            return known.schema
        return _OTHERS[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())


CATALOG: Mapping[tuple[str, str], str] = _Catalog()


def kubernetes_versions() -> list[str]:
    """Kubernetes versions kubernetes-validate bundles schemas for, oldest first ('1.37', ...)."""
    root = _k8s_root()
    found = {p.name[1:].rsplit(".", 1)[0] for p in root.iterdir() if p.name.endswith("-local-strict")}
    return sorted((v.replace("-local-strict", "") for v in found), key=lambda v: tuple(int(x) for x in v.split(".")))


def _k8s_root() -> Path:
    import importlib.util

    # Located without importing it: kubernetes_validate imports jsonschema and more (~70 ms).
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("kubernetes-validate is not installed: it provides the Kubernetes schemas")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def k8s_folder(version: str) -> Path:
    matches = sorted(_k8s_root().glob(f"v{version}.*-local-strict"))
    if not matches:
        raise UsageError(f"Kubernetes version {version} is not bundled; known: {', '.join(kubernetes_versions())}")
    return matches[-1]


@functools.lru_cache(maxsize=8)
def registry(version: str) -> Any:
    """A referencing.Registry that resolves Kubernetes core definitions for `version`."""
    from referencing import Registry, Resource

    definitions = json.loads((k8s_folder(version) / "_definitions.json").read_text(encoding="utf-8"))
    return Registry().with_resource(K8S_DEFINITIONS, Resource.from_contents(definitions))


def validator(name: str, version: str) -> Any:
    """A Draft 2020-12 validator for our schema `name` (see ours.schema_path) with Kubernetes `version` core types."""
    return _validator(schema_text(name), version)


@functools.lru_cache(maxsize=64)
def _validator(text: str, version: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(text), registry=registry(version))


def core_schema_path(api_version: str, kind: str, version: str) -> Path:
    """Where kubernetes-validate keeps the strict schema of a core kind (the file may not exist)."""
    group, _, api = api_version.rpartition("/")
    group = group.split(".")[0] if group else ""
    name = f"{kind.lower()}-{group}-{api}.json" if group else f"{kind.lower()}-{api}.json"
    return k8s_folder(version) / name


@functools.lru_cache(maxsize=256)
def has_core_schema(api_version: str, kind: str, version: str) -> bool:
    return core_schema_path(api_version, kind, version).is_file()


@functools.lru_cache(maxsize=256)
def core_validator(api_version: str, kind: str, version: str) -> Any | None:
    """kubernetes-validate's strict schema for a core kind, or None when it has none."""
    from jsonschema import Draft202012Validator

    if not has_core_schema(api_version, kind, version):
        return None
    schema = json.loads(core_schema_path(api_version, kind, version).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=registry(version))


def latest_kubernetes() -> str:
    return kubernetes_versions()[-1]
