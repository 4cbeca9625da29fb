"""Expand stage: one Kustomize base per spec, one overlay per (namespace, profile).

The generator builds every target Experiment itself; an overlay is the namespace
plus the JSON6902 patch that turns the base into that Experiment. Strategic merge
is never used inside the trialSpec: on a custom resource it replaces lists whole
(kustomize-findings F3).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from katib_gitops.expand import optimizationjob
from katib_gitops.expand.experiment import build_experiment
from katib_gitops.kustomize import jsonpatch
from katib_gitops.spec.model import OPTIMIZATION_JOB_BACKEND, Profile, SpecSet, TuningSpec, backend_of

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"
BASE_DIR = "_base"  # '_' cannot start a namespace name, so it never collides
EXPERIMENT_FILE = "experiment.yaml"
KUSTOMIZATION_FILE = "kustomization.yaml"


# Argo CD Application and Flux Kustomization names become label values (Argo CD's tracking label
# app.kubernetes.io/instance; Flux's kustomize.toolkit.fluxcd.io/name on every object it applies,
# fluxcd/flux2#2004): at most 63 characters.
MAX_GITOPS_NAME = 63
GITOPS_HASH_LENGTH = 8


def gitops_name(spec_name: str, namespace: str, profile: str, cluster: str = "") -> str:
    """`<spec>.<namespace>.<profile>` (`.<cluster>` after it for a spec that names clusters), or, when that is
    over 63 characters, its first characters and `-<hash>`.

    '.' cannot occur in spec, namespace, profile or cluster names, so full names never collide (three parts
    or four). The hash (SHA-256 of the names, as the Experiment name's hash: expand/experiment.py) depends only
    on the target, so a shortened name is the same on every run and whatever the order of the inputs.
    """
    parts = [spec_name, namespace, profile, *([cluster] if cluster else [])]
    full = ".".join(parts)
    if len(full) <= MAX_GITOPS_NAME:
        return full
    text = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:GITOPS_HASH_LENGTH]
    head = full[: MAX_GITOPS_NAME - GITOPS_HASH_LENGTH - 1].rstrip("-.")
    return f"{head}-{digest}"


@dataclasses.dataclass(frozen=True)
class Overlay:
    spec_name: str
    namespace: str
    profile: str
    experiment: dict[str, Any]
    patch: list[dict[str, Any]]

    @property
    def directory(self) -> str:
        return f"{self.spec_name}/{self.namespace}/{self.profile}"

    @property
    def name(self) -> str:
        """The name of the GitOps objects (Argo CD Application, Flux Kustomization) that deploy this overlay."""
        return gitops_name(self.spec_name, self.namespace, self.profile)


@dataclasses.dataclass(frozen=True)
class Expansion:
    """A spec's base and overlays; `base` and each overlay's `experiment` are the objects of its backend (an
    Experiment, or an OptimizationJob: `kind`)."""

    spec: TuningSpec
    base: dict[str, Any]
    overlays: tuple[Overlay, ...]
    kind: str = "Experiment"

    @property
    def base_directory(self) -> str:
        return f"{self.spec.name}/{BASE_DIR}"

    @property
    def object_file(self) -> str:
        """The base's file: experiment.yaml, or optimizationjob.yaml."""
        return optimizationjob.OBJECT_FILE if self.kind == optimizationjob.KIND else EXPERIMENT_FILE


def base_profile(spec: TuningSpec, spec_set: SpecSet) -> Profile | None:
    """The profile whose counts the base carries: the spec's first, by name."""
    return spec_set.targets.profiles.get(min(spec.profiles)) if spec.profiles else None


def build_object(
    spec: TuningSpec, spec_set: SpecSet, profile: Profile | None = None, *, budget_from: Profile | None = None
) -> dict[str, Any]:
    """The object of the spec's backend (spec.model.backend_of): its Experiment, or its OptimizationJob."""
    if backend_of(spec, spec_set.targets) == OPTIMIZATION_JOB_BACKEND:
        build = optimizationjob.build_optimization_job
    else:
        build = build_experiment
    return build(spec, profile, spec_set.katib_version, budget_from=budget_from)


def expand_spec(spec: TuningSpec, spec_set: SpecSet) -> Expansion:
    """The base and one overlay per namespace x profile.

    A profile's object does not depend on the namespace (neither builder reads it), so it is
    built, and its patch from the base computed, once per profile; each overlay's object is that one with its own
    top level and `metadata`, the namespace set there, and every other part shared, as the patch is: nothing
    changes a built object or a patch in place (the defaulting and the renderer's patching work on copies).
    """
    base = build_object(spec, spec_set, budget_from=base_profile(spec, spec_set))
    built = {}
    for profile_name in sorted(spec.profiles):
        unnamespaced = build_object(spec, spec_set, spec_set.targets.profiles[profile_name])
        built[profile_name] = (unnamespaced, jsonpatch.diff(base, unnamespaced))
    overlays = []
    for namespace in sorted(spec.namespaces):
        for profile_name in sorted(spec.profiles):
            unnamespaced, patch = built[profile_name]
            target = {**unnamespaced, "metadata": {**unnamespaced["metadata"], "namespace": namespace}}
            overlays.append(Overlay(spec.name, namespace, profile_name, target, patch))
    return Expansion(spec, base, tuple(overlays), base["kind"])


def expand(spec_set: SpecSet) -> list[Expansion]:
    return [expand_spec(spec, spec_set) for spec in spec_set.specs]


def base_kustomization(resource: str = EXPERIMENT_FILE) -> dict[str, Any]:
    return {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "resources": [resource]}


def overlay_kustomization(expansion: Expansion, overlay: Overlay, patch: str | None = None) -> dict[str, Any]:
    """The overlay's kustomization; `patch`: `patch_text(overlay.patch)` when the caller has it already."""
    out: dict[str, Any] = {
        "apiVersion": KUSTOMIZE_API,
        "kind": "Kustomization",
        "namespace": overlay.namespace,
        "resources": [f"../../{BASE_DIR}"],
    }
    if overlay.patch:
        group, _, version = str(expansion.base["apiVersion"]).rpartition("/")
        name = expansion.base["metadata"]["name"]
        target = {"group": group, "version": version, "kind": expansion.kind, "name": name}
        out["patches"] = [{"target": target, "patch": patch_text(overlay.patch) if patch is None else patch}]
    return out


def patch_text(ops: list[dict[str, Any]]) -> str:
    """The patch as an inline YAML list, the form kustomize documents for `patches`."""
    from katib_gitops.yamlio.writer import dump

    return dump(ops)
