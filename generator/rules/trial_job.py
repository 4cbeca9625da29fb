"""TT-20's second half: what Katib's round trip through Go's batch/v1 Job changes in a Job trialSpec.

pkg/webhook/v1beta1/experiment/validator/validator.go:validateTrialJob converts the substituted
trialSpec into a Go batch/v1 Job, and validatePatchJob computes a JSON patch from that Job,
re-serialised, back to the template (github.com/mattbaird/jsonpatch CreatePatch(converted,
original)): a key the original has and the converted Job lacks is an `add` operation, and any
operation other than `remove` outside /resources/limits/ and /resources/requests/ refuses the
Experiment ("unable to convert: <path> - <value> to Job").

Go's encoding/json drops an empty slice or map under an `omitempty` tag, so an empty list or an
empty map that the Job type holds as a Go map comes back missing: `args: []`, `env: []`,
`labels: {}`, `resources: {limits: {}}` (the path ends in /limits, with no slash after it). An
empty struct (`resources: {}`, `emptyDir: {}`, `securityContext: {}`) is written back as `{}`, and
the slices k8s.io/api tags without omitempty (PodSpec.containers, NodeSelector.nodeSelectorTerms,
the Job's podFailurePolicy/successPolicy rules, onExitCodes.values, projected sources, Ceph
monitors) come back as `[]`: those pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

# Slices k8s.io/api (core/v1, batch/v1 types.go) tags without omitempty, by key: `[]` survives the round trip.
KEPT_EMPTY_LISTS = frozenset({"containers", "nodeSelectorTerms", "rules", "sources", "monitors"})
# Go maps in a Job and its pod template (all omitempty), by key and the key of the mapping they sit in
# (None: any): `{}` is dropped. Every other mapping in a Job is a Go struct, written back as `{}`.
DROPPED_EMPTY_MAPS: Mapping[str, str | None] = {
    "labels": "metadata",
    "annotations": "metadata",
    "nodeSelector": None,
    "overhead": None,
    "limits": "resources",
    "requests": "resources",
    "matchLabels": None,
    "volumeAttributes": "csi",
    "options": "flexVolume",
}

Path = tuple[str | int, ...]


def dropped_empties(node: Any, path: Path = (), parent: str = "") -> Iterator[tuple[Path, str]]:
    """(path, key) of every empty list or map in a Job trialSpec that converting it to a Go Job drops."""
    if isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (Mapping, list)):
                yield from dropped_empties(value, path + (index,), parent)
        return
    if not isinstance(node, Mapping):
        return
    for raw_key, value in node.items():
        key = str(raw_key)
        if isinstance(value, list) and not value:
            if key not in KEPT_EMPTY_LISTS and not (key == "values" and parent == "onExitCodes"):
                yield path + (key,), key
        elif isinstance(value, Mapping) and not value:
            if key in DROPPED_EMPTY_MAPS and DROPPED_EMPTY_MAPS[key] in (None, parent):
                yield path + (key,), key
        elif isinstance(value, (Mapping, list)):
            yield from dropped_empties(value, path + (key,), key)
