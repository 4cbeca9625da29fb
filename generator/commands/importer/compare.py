"""What the import's round trip compares: an Experiment without the documented differences, and where two differ."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from katib_gitops.commands.importer.pods import ISTIO_KEY, ISTIO_VALUE, strip_istio_opt_out, trial_kind_of
from katib_gitops.core.kinds import Layout, pod_templates
from katib_gitops.expand.experiment import (
    ANNOTATION_PROFILE,
    LABEL_SPEC,
    MANAGED_BY,
    SAFETY_ANNOTATIONS,
    default_description,
    trainer_pod_patch,
)

GENERATOR_LABELS = frozenset({*MANAGED_BY, LABEL_SPEC})
GENERATOR_ANNOTATIONS = frozenset({*SAFETY_ANNOTATIONS, LABEL_SPEC, ANNOTATION_PROFILE})
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def comparable(experiment: Mapping[str, Any]) -> dict[str, Any]:
    """The Experiment as the round trip compares it, with the documented differences taken out.

    Left out: metadata other than labels and annotations (the name carries the
    hash, the namespace comes from the overlay), the generator's own labels and
    annotations, kubectl's last-applied annotation, and `status`. Filled in, as
    the generator does: `sidecar.istio.io/inject: "false"` on pod templates of
    known kinds that do not set it (the label or the annotation: compared as the
    label; a TrainJob's in our runtime patch, on the trainer node's pods), and
    the default description of a trialParameter that has none. metricStrategies
    are compared by name: Katib reads them into a map, and the generator lists
    the objective metric first.
    """
    out = copy.deepcopy(dict(experiment))
    out.pop("status", None)
    raw_meta = out.get("metadata")
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in GENERATOR_LABELS}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in GENERATOR_ANNOTATIONS | {LAST_APPLIED}
    }
    out["metadata"] = {k: v for k, v in (("labels", labels), ("annotations", annotations)) if v}
    objective = (out.get("spec") or {}).get("objective")
    if isinstance(objective, dict) and isinstance(objective.get("metricStrategies"), list):
        objective["metricStrategies"] = sorted(
            objective["metricStrategies"], key=lambda s: str(s.get("name")) if isinstance(s, dict) else ""
        )
    template = (out.get("spec") or {}).get("trialTemplate")
    if isinstance(template, dict):
        _fill_generator_defaults(template, nas="nasConfig" in out["spec"])
    return out


def _fill_generator_defaults(template: dict[str, Any], *, nas: bool) -> None:
    trial_spec = template.get("trialSpec")
    for pod in opt_out_places(trial_spec):
        metadata = pod.setdefault("metadata", {})
        strip_istio_opt_out(metadata)  # the label or the annotation: one setting (Katib version dependent)
        metadata.setdefault("labels", {})[ISTIO_KEY] = ISTIO_VALUE
    for entry in template.get("trialParameters") or []:
        if isinstance(entry, dict) and not entry.get("description"):
            entry["description"] = default_description(str(entry.get("reference")), nas=nas)


def opt_out_places(trial_spec: Any) -> list[dict[str, Any]]:
    """The pod templates the generator puts the Istio opt-out on; a TrainJob's is in our runtime patch, which
    this makes where it is missing (so call it on a copy to only look)."""
    kind = trial_kind_of(trial_spec)
    if kind is not None and kind.layout is Layout.RUNTIME:
        spec = trial_spec.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("runtimePatches", []), list):
            return [trainer_pod_patch(trial_spec, kind)]
        return []
    return [pod for _, _, pod in pod_templates(trial_spec, kind) if isinstance(pod, dict)]


def differences(left: Any, right: Any, path: str = "", limit: int = 3) -> list[str]:
    """Where two plain values differ, as 'path: a != b' lines (at most `limit`)."""
    if isinstance(left, dict) and isinstance(right, dict):
        found: list[str] = []
        for key in list(left) + [k for k in right if k not in left]:
            where = f"{path}.{key}" if path else str(key)
            if key not in right or key not in left:
                found.append(f"{where}: {'only in the Experiment' if key in left else 'only in the generated one'}")
            else:
                found.extend(differences(left[key], right[key], where, limit))
            if len(found) >= limit:
                break
        return found[:limit]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = []
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found.extend(differences(a, b, f"{path}[{index}]", limit))
        return found[:limit]
    return [] if left == right else [f"{path}: {_short(left)} in the Experiment, {_short(right)} generated"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
