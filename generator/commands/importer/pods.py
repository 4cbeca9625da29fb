"""The trialSpec helpers of the import: trial kind, the Istio opt-out, pruning emptied mappings."""

from __future__ import annotations

from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import Layout, TrialKind

ISTIO_KEY, ISTIO_VALUE = next(iter(kinds.ISTIO_OFF.items()))


def strip_istio_opt_out(metadata: Any) -> None:
    """Take out of a pod template's metadata the Istio opt-out the generator adds back, as the label (Katib
    >= 0.19) or the annotation (older Katib): one setting whichever way the imported Experiment spells it."""
    if not isinstance(metadata, dict):
        return
    for field in ("annotations", "labels"):
        values = metadata.get(field)
        if isinstance(values, dict) and values.get(ISTIO_KEY) == ISTIO_VALUE:
            del values[ISTIO_KEY]
            prune(metadata, field)


def _our_runtime_patch(trial_spec: Any, kind: TrialKind | None) -> tuple[list[Any], dict[str, Any]] | None:
    """A TrainJob: (its runtimePatches, our patch in it, manager katib-gitops.dev/manager); else None."""
    if kind is None or kind.layout is not Layout.RUNTIME or not isinstance(trial_spec, dict):
        return None
    spec = trial_spec.get("spec")
    patches = spec.get("runtimePatches") if isinstance(spec, dict) else None
    if not isinstance(patches, list):
        return None
    for patch in patches:
        if isinstance(patch, dict) and patch.get("manager") == kinds.RUNTIME_PATCH_MANAGER:
            return patches, patch
    return None


def runtime_patch_job(trial_spec: Any, kind: TrialKind | None) -> dict[str, Any] | None:
    """A TrainJob: the trainer node's replicated job in our runtime patch, where the generator writes the Istio
    opt-out and a profile's nodeSelector and tolerations; else None."""
    found = _our_runtime_patch(trial_spec, kind)
    jobs = _get(found[1], "trainingRuntimeSpec", "template", "spec", "replicatedJobs") if found else None
    for job in jobs if isinstance(jobs, list) else []:
        if isinstance(job, dict) and kind is not None and job.get("name") == kind.primary_role:
            return job
    return None


def strip_runtime_patch_istio(trial_spec: Any, kind: TrialKind | None) -> None:
    """A TrainJob: take the Istio opt-out out of the trainer node's pod template in our runtime patch (the
    generator adds it back there), and with it the parts of our patch it leaves empty."""
    found = _our_runtime_patch(trial_spec, kind)
    if found is None:
        return
    patches, patch = found
    job = runtime_patch_job(trial_spec, kind)
    if job is not None:
        strip_istio_opt_out(_get(job, "template", "spec", "template", "metadata"))
        prune(job, "template", "spec", "template", "metadata")
        if set(job) == {"name"}:
            patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"].remove(job)
    _drop_empty_list(patch, ("trainingRuntimeSpec", "template", "spec"), "replicatedJobs")
    if set(patch) == {"manager"}:
        patches.remove(patch)
    if not patches:
        del trial_spec["spec"]["runtimePatches"]


def _get(node: Any, *path: str) -> Any:
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _drop_empty_list(node: dict[str, Any], path: tuple[str, ...], key: str) -> None:
    """Delete the empty list `key` at `path` inside `node`, then the mappings that leaves empty."""
    parent = _get(node, *path)
    if isinstance(parent, dict) and parent.get(key) == []:
        del parent[key]
        prune(node, *path)


def trial_kind_of(trial_spec: Any) -> TrialKind | None:
    if not isinstance(trial_spec, dict):
        return None
    return kinds.lookup(str(trial_spec.get("kind", "")), str(trial_spec.get("apiVersion", "")))


def prune(node: dict[str, Any], *path: str) -> None:
    """Remove empty mappings along `path` inside `node`, deepest first."""
    if not path or not isinstance(node.get(path[0]), dict):
        return
    prune(node[path[0]], *path[1:])
    if not node[path[0]]:
        del node[path[0]]
