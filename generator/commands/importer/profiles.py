"""Profiles the import extracts from a trialSpec: extended resources and, with them, the pods' scheduling;
the trial job's Kueue queue and priority class."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from katib_gitops.commands.importer.pods import prune, runtime_patch_job
from katib_gitops.core.kinds import KUEUE_LABELS, Layout, TrialKind, pod_templates
from katib_gitops.core.quantity import is_extended

MAX_PROFILE_NAME = 20
NOTHING = "Imported: adds nothing to the trial pods."
_SCHEDULING = ("nodeSelector", "tolerations", "runtimeClassName")
# A profile's queue and priority class, as schemas/targets.schema.json takes them: label values.
_LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_MAX_LABEL_VALUE = 63


def extract_profile(
    trial_spec: dict[str, Any], kind: TrialKind | None, container: str
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Split a trialSpec into (trialSpec without the profile's parts, profile name, profile body).

    Extended resources of the primary container, when the same in every role
    that has them, become the profile's resources; nodeSelector, tolerations and
    runtimeClassName move with them when every pod has the same value. The trial
    job's labels kueue.x-k8s.io/queue-name and kueue.x-k8s.io/priority-class, for any kind, become the
    profile's queue and priorityClass.
    """
    out = copy.deepcopy(trial_spec)
    taken = {field: _take_label(out, label) for field, label in KUEUE_LABELS.items()}
    name, body = _extract_pods(out, kind, container)
    for field, value in taken.items():
        if value is not None:
            body[field] = value
            what = "queue" if field == "queue" else "priority class"
            body["description"] = f"{body['description'][:-1]}; Kueue {what} {value}."
    return out, name, body


def _take_label(trial_spec: dict[str, Any], label: str) -> str | None:
    """Take a Kueue label off the trial job's metadata (if its value is one a profile can carry)."""
    metadata = trial_spec.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    value = labels.get(label) if isinstance(labels, dict) else None
    if not isinstance(value, str) or len(value) > _MAX_LABEL_VALUE or not _LABEL_VALUE.fullmatch(value):
        return None
    assert isinstance(labels, dict)
    del labels[label]
    prune(trial_spec, "metadata", "labels")
    return value


def _extract_pods(out: dict[str, Any], kind: TrialKind | None, container: str) -> tuple[str, dict[str, Any]]:
    """(profile name, profile body) of the pods' parts of `out`, which loses them."""
    primaries = _primary(out, kind, container) if kind is not None else []
    parts = [(role, c, key, _extended_part(c, key)) for role, c, key in primaries]
    with_parts = [p for p in parts if p[3]]
    if kind is None or not with_parts:
        return "imported-cpu", {"description": NOTHING}
    if any(p[3] != with_parts[0][3] for p in with_parts):
        return "imported", {
            "description": f"{NOTHING[:-1]}: extended resources differ between roles and stay in the trial."
        }
    resources = with_parts[0][3]
    for _, c, key, part in with_parts:
        for group, amounts in part.items():
            for name in amounts:
                del c[key][group][name]
            prune(c, key, group)
    body: dict[str, Any] = {"description": "", "resources": copy.deepcopy(resources)}
    roles = sorted({p[0] for p in with_parts})
    if kind.layout is Layout.REPLICAS and roles != sorted({p[0] for p in parts}):
        body["roles"] = roles
    body.update(_move_pod_scheduling(out, kind))
    what = ", ".join(sorted({n for g in resources.values() for n in g}))
    moved = [k for k in _SCHEDULING if k in body]
    body["description"] = f"Imported: {what}" + (f" with the pods' {', '.join(moved)}" if moved else "") + "."
    return profile_name(resources), body


def profile_name(resources: Mapping[str, Mapping[str, Any]]) -> str:
    """The proposed profile name for extended resources: imported-gpu for any GPU, else after the first resource."""
    names = sorted({n for amounts in resources.values() for n in amounts})
    if any("gpu" in n.rsplit("/", 1)[-1].lower() for n in names):
        return "imported-gpu"
    tail = re.sub(r"[^a-z0-9-]+", "-", names[0].rsplit("/", 1)[-1].lower()).strip("-")
    return f"imported-{tail}"[:MAX_PROFILE_NAME].rstrip("-")


def _primary(trial_spec: dict[str, Any], kind: TrialKind, container: str) -> list[tuple[str, dict[str, Any], str]]:
    """(role, container, resources key) of every primary container; TrainJob's trainer is one."""
    if kind.layout is Layout.RUNTIME:
        trainer = (trial_spec.get("spec") or {}).get("trainer")
        return [(kind.primary_role, trainer, "resourcesPerNode")] if isinstance(trainer, dict) else []
    found = []
    for role, pod in _pods(trial_spec, kind):
        found += [
            (role, c, "resources")
            for c in pod.get("containers") or []
            if isinstance(c, dict) and c.get("name") == container
        ]
    return found


def _pods(trial_spec: dict[str, Any], kind: TrialKind) -> list[tuple[str, dict[str, Any]]]:
    """(role, pod spec) of every pod template that has one."""
    return [(role, t["spec"]) for role, _, t in pod_templates(trial_spec, kind) if isinstance(t.get("spec"), dict)]


def _extended_part(container: Mapping[str, Any], key: str) -> dict[str, Any]:
    resources = container.get(key) or {}
    part = {
        group: {k: v for k, v in (resources.get(group) or {}).items() if is_extended(k)}
        for group in ("requests", "limits")
    }
    return {k: v for k, v in part.items() if v}


def _move_pod_scheduling(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, Any]:
    if kind.layout is Layout.RUNTIME:
        return _move_runtime_scheduling(trial_spec, kind)
    pods = [pod for _, pod in _pods(trial_spec, kind)]
    moved: dict[str, Any] = {}
    for key in _SCHEDULING:
        values = [p.get(key) for p in pods]
        if pods and values[0] and all(v == values[0] for v in values):
            moved[key] = copy.deepcopy(values[0])
            for pod in pods:
                del pod[key]
    return moved


def _move_runtime_scheduling(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, Any]:
    """A TrainJob: the nodeSelector and tolerations of the trainer node's pods in our runtime patch, where the
    generator writes a profile's (docs/spec.md, "TrainJob"); a runtime patch has no place for runtimeClassName."""
    job = runtime_patch_job(trial_spec, kind)
    pod = job.get("template", {}).get("spec", {}).get("template", {}).get("spec") if job is not None else None
    if job is None or not isinstance(pod, dict):
        return {}
    moved = {key: pod.pop(key) for key in ("nodeSelector", "tolerations") if pod.get(key)}
    prune(job, "template", "spec", "template", "spec")
    return moved
