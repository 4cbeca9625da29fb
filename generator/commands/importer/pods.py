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


def strip_runtime_patch_istio(trial_spec: Any, kind: TrialKind | None) -> None:
    """A TrainJob: take the Istio opt-out out of the trainer node's pod template in our runtime patch (the
    generator adds it back there), and with it the parts of our patch it leaves empty."""
    if kind is None or kind.layout is not Layout.RUNTIME or not isinstance(trial_spec, dict):
        return
    spec = trial_spec.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("runtimePatches"), list):
        return
    patches = spec["runtimePatches"]
    for index, patch in enumerate(patches):
        if not isinstance(patch, dict) or patch.get("manager") != kinds.RUNTIME_PATCH_MANAGER:
            continue
        jobs = _get(patch, "trainingRuntimeSpec", "template", "spec", "replicatedJobs")
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict) and job.get("name") == kind.primary_role:
                pod = _get(job, "template", "spec", "template")
                if isinstance(pod, dict):
                    strip_istio_opt_out(pod.get("metadata"))
                    prune(job, "template", "spec", "template", "metadata")
                if set(job) == {"name"}:
                    jobs.remove(job)
                break
        _drop_empty_list(patch, ("trainingRuntimeSpec", "template", "spec"), "replicatedJobs")
        if set(patch) == {"manager"}:
            del patches[index]
        break
    if not patches:
        del spec["runtimePatches"]


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
