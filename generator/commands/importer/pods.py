"""The trialSpec helpers of the import: trial kind, the Istio opt-out, pruning emptied mappings."""

from __future__ import annotations

from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import TrialKind

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
