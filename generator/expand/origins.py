"""The source map: which node of a TuningSpec or of the Targets file each field of a built Experiment comes from.

generate judges the Experiments it builds (katib_gitops.rules.generated) and reports each finding at
what the user wrote: `SourceMap(spec, targets, profile).origin(path)` answers, for a JSON path into
the Experiment `build_experiment(spec, profile)` returns, the node that holds its value (the setting,
the parameter, the profile's resource). A field the generator wrote itself (a default, the Istio
opt-out) points at the nearest node the user can change, and its note says which default it is.

The map is computed on demand from the path, the spec and the built Experiment, so building stays
as fast as it was; tests/test_origins.py proves that every field of every Experiment the test specs
build maps to a node that exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import DEFAULT_PARALLEL, Layout
from katib_gitops.expand.experiment import (
    env_list,
    profile_fields,
    spec_profile_budget,
    split_image,
    trial_kind,
)
from katib_gitops.spec.model import Profile, Targets, TuningSpec
from katib_gitops.yamlio.documents import Document

Path = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Node:
    """A node the user wrote: a path in a spec or Targets document (at its key, for a mapping key)."""

    document: Document
    path: Path
    at_key: bool = False


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a field comes from: the first node is where a finding is reported, the others are where it is
    reported too (a profile's budget, and the spec that deploys to that profile). `note` names the default
    katib-gitops or Katib wrote when the user wrote no value."""

    nodes: tuple[Node, ...]
    note: str = ""
    hint: str = ""  # how the user changes the value, when the node alone does not tell


BUDGET_FIELDS = {
    "parallelTrialCount": "parallelTrials",
    "maxTrialCount": "maxTrials",
    "maxFailedTrialCount": "maxFailedTrials",
    "resumePolicy": "resumePolicy",
}
BUDGET_DEFAULTS = {
    "parallelTrials": f"parallelTrials is not set: Katib's default {DEFAULT_PARALLEL}",
    "resumePolicy": "resumePolicy is not set: katib-gitops writes Never",
    "maxTrials": "maxTrials is not set",
    "maxFailedTrials": "maxFailedTrials is not set",
}
PARAMETER_FIELDS = {"name": "name", "parameterType": "type"}
SPACE_FIELDS = {"min": "min", "max": "max", "step": "step", "list": "values", "distribution": "distribution"}
ISTIO_NOTE = 'katib-gitops adds sidecar.istio.io/inject: "false" to every trial pod'


def exists(data: Any, path: Sequence[str | int]) -> bool:
    """Whether `data` has a node at `path`."""
    for part in path:
        if isinstance(part, int):
            if not (isinstance(data, list) and 0 <= part < len(data)):
                return False
            data = data[part]
        elif isinstance(data, Mapping) and part in data:
            data = data[part]
        else:
            return False
    return True


def value_at(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, Mapping):
            data = data.get(part)
        else:
            return None
    return data


class SourceMap:
    """Origins of the fields of `experiment`, built from `spec` for `profile` (None: the base, whose counts
    come from `budget_profile`)."""

    def __init__(
        self,
        spec: TuningSpec,
        targets: Targets,
        experiment: Mapping[str, Any],
        profile: Profile | None = None,
        budget_profile: Profile | None = None,
    ) -> None:
        self.spec = spec
        self.targets = targets
        self.experiment = experiment
        self.profile = profile
        self.budget_profile = profile or budget_profile
        self.kind = trial_kind(spec)

    # ------------------------------------------------------------- nodes

    def _spec(self, *path: str | int, note: str = "", at_key: bool = False) -> Origin:
        """The node at `spec.<path>` of the TuningSpec, or its deepest existing parent."""
        full: Path = ("spec", *path)
        data = self.spec.document.data
        while len(full) > 1 and not exists(data, full):
            full = full[:-1]
            at_key = False
        return Origin((Node(self.spec.document, full, at_key),), note)

    def _first(self, *candidates: Path, note: str = "") -> Origin:
        """The first of `candidates` (paths under the spec's `spec`) the spec has; else the last one's parent.

        The first candidate holds the value; the others are the nearest nodes the user can change instead, so
        `note` (which default applies) goes with them."""
        body = self.spec.body
        for index, path in enumerate(candidates):
            if exists(body, path):
                return self._spec(*path, note=note if index else "")
        return self._spec(*candidates[-1], note=note)

    def _profile(self, *path: str | int, picked: bool = False) -> Origin:
        """A node of the profile in the Targets file; `picked`: and where the spec picks that profile (a budget,
        which the spec can override for the profile)."""
        assert self.budget_profile is not None
        name = self.budget_profile.name
        node = Node(self.targets.document, ("spec", "profiles", name, *path))
        if not picked:
            return Origin((node,))
        spec_node = self._spec("targets", "profiles", self.spec.profiles.index(name)).nodes
        hint = f"the spec can set its own {path[-1]} for this profile in spec.targets.budget.{name}"
        return Origin((node, *spec_node), hint=hint)

    # ------------------------------------------------------------- the Experiment

    def origin(self, path: Sequence[str | int]) -> Origin:
        """The origin of the Experiment's field at `path`."""
        path = tuple(path)
        if path[:1] == ("metadata",):
            return self._metadata(path[1:])
        if path[:1] != ("spec",) or len(path) < 2:
            return self._spec()
        head, rest = path[1], path[2:]
        if head in BUDGET_FIELDS:
            return self._budget(BUDGET_FIELDS[str(head)])
        handler = _SPEC_FIELDS.get(str(head))
        return handler(self, rest) if handler else self._spec()

    def _metadata(self, rest: Path) -> Origin:
        if rest[:1] in (("labels",), ("annotations",)) and len(rest) > 1 and exists(self.spec.document.data, rest):
            return Origin((Node(self.spec.document, ("metadata", *rest)),))
        return Origin((Node(self.spec.document, ("metadata", "name")),))

    def _budget(self, field: str) -> Origin:
        profile = self.budget_profile
        if profile is not None and field in spec_profile_budget(self.spec, profile.name):
            return self._spec("targets", "budget", profile.name, field)
        if profile is not None and field in profile.budget:
            return self._profile("budget", field, picked=True)
        return self._spec(
            "budget", field, note="" if field in self.spec.body.get("budget", {}) else BUDGET_DEFAULTS[field]
        )

    def _objective(self, rest: Path) -> Origin:
        field = rest[:1]
        if field == ("objectiveMetricName",):
            return self._spec("objective", "metric")
        if field == ("additionalMetricNames",):
            return self._spec("objective", "additionalMetrics", *rest[1:2])
        if field == ("metricStrategies",) and len(rest) > 1 and isinstance(rest[1], int):
            return self._strategy(rest[1], rest[2:])
        return self._spec("objective", *rest[:1])

    def _strategy(self, index: int, rest: Path) -> Origin:
        name = value_at(self.experiment, ("spec", "objective", "metricStrategies", index, "name"))
        if name in (self.spec.body["objective"].get("strategies") or {}):
            return self._spec("objective", "strategies", name, at_key=rest == ("name",))
        if rest == ("name",):
            extra = index - 1
            return self._spec("objective", *(("metric",) if extra < 0 else ("additionalMetrics", extra)))
        return self._spec("objective", "type", note="the metric's strategy follows objective.type")

    def _algorithm(self, field: str) -> Callable[[Path], Origin]:
        def origin(rest: Path) -> Origin:
            if rest[:1] == ("algorithmName",):
                return self._spec(field, "name")
            if rest[:1] == ("algorithmSettings",) and len(rest) > 1 and isinstance(rest[1], int):
                names = list(self.spec.body[field].get("settings") or {})
                if rest[1] < len(names):
                    return self._spec(field, "settings", names[rest[1]], at_key=rest[2:] == ("name",))
            return self._spec(field, "settings" if rest[:1] == ("algorithmSettings",) else "name")

        return origin

    def _parameters(self, rest: Path) -> Origin:
        if not rest or not isinstance(rest[0], int):
            return self._spec("parameters")
        return self._parameter(("parameters", rest[0]), rest[1:], note="distribution is not set: uniform")

    def _parameter(self, at: Path, rest: Path, note: str = "") -> Origin:
        """A parameter (of spec.parameters or of a NAS operation) and its feasible space."""
        if rest[:1] and str(rest[0]) in PARAMETER_FIELDS:
            return self._spec(*at, PARAMETER_FIELDS[str(rest[0])])
        if rest[:1] == ("feasibleSpace",) and len(rest) > 1 and str(rest[1]) in SPACE_FIELDS:
            chosen = SPACE_FIELDS[str(rest[1])]
            return self._first((*at, chosen, *rest[2:3]), note=note if chosen == "distribution" else "")
        return self._spec(*at)

    def _nas(self, rest: Path) -> Origin:
        if rest[:1] == ("graphConfig",):
            return self._spec("nas", "graph", *rest[1:])
        if rest[:1] == ("operations",) and len(rest) > 1:
            operation: Path = ("nas", "operations", rest[1])
            tail = rest[2:]
            if tail[:1] == ("operationType",):
                return self._spec(*operation, "type")
            if tail[:1] == ("parameters",) and len(tail) > 1:
                return self._parameter((*operation, "parameters", tail[1]), tail[2:])
            return self._spec(*operation)
        return self._spec("nas")

    def _collector(self, rest: Path) -> Origin:
        at: Path = ("trial", "metricsCollector")
        if "metricsCollector" not in self.spec.trial:
            return self._spec("trial", note="no metricsCollector: katib-gitops writes the StdOut collector")
        if rest[:2] == ("collector", "customCollector"):
            return self._spec(*at, "container", *rest[2:])
        if rest[:2] == ("source", "filter"):
            return self._spec(*at, "filter", *rest[3:4])
        if rest[:1] == ("source",) and rest[2:3] in (("path",), ("port",), ("format",)):
            return self._spec(*at, str(rest[2]), note=f"{rest[2]} is not set: the collector's default")
        return self._spec(*at, "kind")

    def _trial_template(self, rest: Path) -> Origin:
        field = str(rest[0]) if rest else ""
        if field == "trialSpec":
            return self._trial_spec(rest[1:])
        if field == "trialParameters" and len(rest) > 1 and isinstance(rest[1], int):
            return self._trial_parameter(rest[1], rest[2:])
        if field == "primaryContainerName":
            return self._first(("trial", "primaryContainer"), note="the kind's default primary container")
        if field in ("successCondition", "failureCondition", "retain"):
            return self._first(("trial", field), ("trial", "kind"), note=f"{field}: the kind's default")
        if field == "primaryPodLabels":
            return self._first(("trial", field, *rest[1:2]), ("trial", "kind"), note="the kind's default pod labels")
        return self._spec("trial")

    def _trial_parameter(self, index: int, rest: Path) -> Origin:
        """trialParameters: one per parameter, then per NAS assignment, then per metadata parameter."""
        groups: list[tuple[Path, int, dict[str, str]]] = [
            (("parameters",), len(self.spec.parameters), {"name": "trialParameter", "reference": "name"}),
            (("nas", "assignments"), len(self.spec.body.get("nas", {}).get("assignments", [])), {}),
            (("trial", "metadataParameters"), len(self.spec.trial.get("metadataParameters", [])), {}),
        ]
        for at, count, renamed in groups:
            if index < count:
                field = renamed.get(str(rest[0]), str(rest[0])) if rest else ""
                return self._first((*at, index, field), (*at, index, "name")) if field else self._spec(*at, index)
            index -= count
        return self._spec("parameters")

    # ------------------------------------------------------------- the trial

    def _trial_spec(self, rest: Path) -> Origin:
        injected = self._injected(rest)
        if injected is not None:
            return injected
        if "trialSpec" in self.spec.trial:
            return self._spec("trial", "trialSpec", *rest)
        kind = self.kind
        assert kind is not None
        if rest[:2] == ("spec", kind.replica_field) and kind.layout is Layout.REPLICAS:
            if len(rest) == 2:
                return self._first(("trial", "replicas"), ("trial", "kind"), note="the kind's default roles")
            return self._replica(str(rest[2]), rest[3:])
        if kind.layout is Layout.TEMPLATE and rest[:2] == ("spec", "template"):
            return self._pod(("trial",), rest[2:])
        if kind.layout is Layout.RUNTIME and rest[:1] == ("spec",):
            return self._trainer(rest[1:])
        return self._spec("trial", "kind", note="" if rest == ("kind",) else "the trial kind's")

    def _injected(self, rest: Path) -> Origin | None:
        """Fields the generator adds to any trial: a profile's fields, parameter placeholders, the Istio opt-out."""
        from_profile = self._from_profile(rest)
        if from_profile is not None:
            return from_profile
        if "trialSpec" in self.spec.trial and exists(self.spec.trial["trialSpec"], rest):
            return None
        value = value_at(self.experiment, (*_TRIAL_SPEC, *rest))
        text = value.get("value") if isinstance(value, Mapping) else value
        if isinstance(text, str) and "${trialParameters." in text:
            return self._placeholder(text)
        if rest[-2:-1] in (("labels",), ("annotations",)) and rest[-1:] == (next(iter(kinds.ISTIO_OFF)),):
            return self._spec("trial", note=ISTIO_NOTE)
        return None

    def _placeholder(self, text: str) -> Origin:
        for index, parameter in enumerate(self.spec.parameters):
            if f"${{trialParameters.{parameter.trial_parameter}}}" in text:
                return self._first(("parameters", index, "pass"), ("parameters", index, "name"))
        return self._spec("parameters")

    def _from_profile(self, rest: Path) -> Origin | None:
        """A field the profile put there, for the role it went to, else None."""
        profile = self.profile
        if profile is None:
            return None
        body = profile.body
        for field, label in kinds.KUEUE_LABELS.items():
            if rest == ("metadata", "labels", label) and body.get(field):
                return self._profile(field)
        if self.kind is None:
            return None
        role, pod_rest = self._role_of(rest)
        if role is None:
            return None
        fields = profile_fields(self.spec.trial, self.kind, role, body)
        if rest[-1:] == ("image",) and body.get("images"):
            return self._image(rest)
        if "resources" in fields and len(pod_rest) >= 3 and {"resources", "resourcesPerNode"} & set(pod_rest[:-2]):
            amount = pod_rest[-2:]
            if exists(body.get("resources", {}), amount):
                return self._profile("resources", *amount)
        if (
            "nodeSelector" in fields
            and pod_rest[-2:-1] == ("nodeSelector",)
            and pod_rest[-1] in body.get("nodeSelector", {})
        ):
            return self._profile("nodeSelector", pod_rest[-1])
        if "tolerations" in fields and "tolerations" in pod_rest:
            return self._toleration(pod_rest)
        if "runtimeClassName" in fields and pod_rest[-1:] == ("runtimeClassName",) and body.get("runtimeClassName"):
            return self._profile("runtimeClassName")
        return None

    def _role_of(self, rest: Path) -> tuple[str | None, Path]:
        """The role whose pod (or trainer) holds `rest`, and the path inside that pod's spec or container."""
        kind = self.kind
        assert kind is not None
        if kind.layout is Layout.RUNTIME:
            return kind.primary_role, rest
        for role, place in kinds.pod_template_places(value_at(self.experiment, _TRIAL_SPEC), kind):
            if rest[: len(place)] == place:
                return role, rest[len(place) :]
        return None, rest

    def _image(self, rest: Path) -> Origin | None:
        assert self.profile is not None
        image = value_at(self.experiment, (*_TRIAL_SPEC, *rest))
        rules = self.profile.body.get("images") or []
        for index, rule in enumerate(rules):
            if isinstance(image, str) and split_image(image)[0] == rule.get("newName", rule["name"]):
                return self._profile("images", index)
        return None

    def _toleration(self, pod_rest: Path) -> Origin | None:
        assert self.profile is not None
        at = pod_rest.index("tolerations")
        index, after = (pod_rest[at + 1], pod_rest[at + 2 :]) if len(pod_rest) > at + 1 else (None, ())
        own = len((self.spec.trial.get("pod") or {}).get("tolerations", []))
        if not isinstance(index, int) or index < own:
            return None
        tolerations = self.profile.body.get("tolerations", [])
        if index - own < len(tolerations):
            return self._profile("tolerations", index - own, *after)
        return None

    def _replica(self, role: str, rest: Path) -> Origin:
        settings: Path = ("trial", "replicas", role)
        if rest == ("replicas",):
            if isinstance(self.spec.trial.get("replicas", {}).get(role), int):
                return self._spec(*settings)
            return self._first((*settings, "replicas"), ("trial", "replicas"), ("trial", "kind"), note="1 replica")
        if rest == ("restartPolicy",):
            return self._first((*settings, "restartPolicy"), ("trial", "kind"), note="the kind's restartPolicy")
        if rest[:1] == ("template",):
            return self._pod(settings, rest[1:])
        return self._first(settings, ("trial", "kind"))

    def _pod(self, role: Path, rest: Path) -> Origin:
        """A field of a short-form pod template; `role` is the spec's settings for its role (or `trial`)."""
        if rest[:1] == ("metadata",):
            return self._spec("trial", note=ISTIO_NOTE)
        pod = rest[1:]
        if pod[:1] == ("containers",) and len(pod) > 1:
            return self._container(role, pod[2:])
        own = self.spec.trial.get("pod") or {}
        if pod[:1] and pod[0] in own:
            return self._spec("trial", "pod", *pod)
        if pod[:1] == ("volumes",):
            return self._spec("trial", *pod)
        return self._first(("trial", "pod"), ("trial", "kind"), note=f"{pod[:1] or 'pod'}: the kind's default")

    def _container(self, role: Path, rest: Path) -> Origin:
        field = str(rest[0]) if rest else ""
        own = self.spec.trial.get("container") or {}
        if field in own:
            return self._spec("trial", "container", *rest)
        if field == "name":
            return self._first(("trial", "primaryContainer"), ("trial", "kind"), note="the kind's container name")
        if field == "args" and len(rest) > 1 and isinstance(rest[1], int):
            return self._arg(role, rest[1])
        if field in ("image", "command", "args"):
            return self._first((*role, field, *rest[1:2]), ("trial", field, *rest[1:2]))
        if field == "env" and len(rest) > 1 and isinstance(rest[1], int):
            return self._env(role, rest[1], rest[2:])
        if field == "resources":
            return self._first((*role, *rest), ("trial", *rest))
        return self._first(("trial", *rest[:1]), ("trial",))

    def _arg(self, role: Path, index: int) -> Origin:
        """An argument: the spec's own (the role's, else the trial's), then each flag parameter's one or two."""
        own = value_at(self.spec.body, (*role, "args"))
        at = (*role, "args") if own else ("trial", "args")
        count = len(value_at(self.spec.body, at) or [])
        if index < count:
            return self._spec(*at, index)
        index -= count
        for number, parameter in enumerate(self.spec.parameters):
            delivery = parameter.delivery
            width = 0 if delivery.mode != "flag" else 1 if delivery.style == "equals" else 2
            if index < width:
                return self._first(("parameters", number, "pass"), ("parameters", number, "name"))
            index -= width
        return self._spec("parameters")

    def _env(self, role: Path, index: int, rest: Path = ()) -> Origin:
        """An env entry: the trial's, then the role's (a mapping's entry by its key), then the parameters'."""
        for at in dict.fromkeys((("trial", "env"), (*role, "env"))):
            value = value_at(self.spec.body, at)
            entries = env_list(value) if isinstance(value, (Mapping, list)) else []
            if index < len(entries):
                if isinstance(value, Mapping):
                    return self._spec(*at, list(value)[index], at_key=rest == ("name",))
                return self._spec(*at, index, *rest)
            index -= len(entries)
        passed = [number for number, p in enumerate(self.spec.parameters) if p.delivery.mode == "env"]
        if index < len(passed):
            return self._spec("parameters", passed[index], "pass")
        return self._spec("parameters")

    def _trainer(self, rest: Path) -> Origin:
        """A TrainJob's spec: runtimeRef, trainer, our runtime patch."""
        if rest[:1] == ("runtimeRef",):
            return self._spec("trial", "runtime")
        if rest[:1] == ("runtimePatches",):
            return self._spec("trial", note="katib-gitops' runtime patch: the profile's nodeSelector and tolerations")
        field = rest[1:2]
        if field == ("numNodes",):
            return self._first(("trial", "replicas"), ("trial", "kind"), note="1 node")
        if field == ("resourcesPerNode",):
            return self._spec("trial", "resources", *rest[2:])
        if field == ("env",) and len(rest) > 2 and isinstance(rest[2], int):
            return self._env(("trial",), rest[2], rest[3:])
        if field == ("args",) and len(rest) > 2 and isinstance(rest[2], int):
            return self._arg(("trial",), rest[2])
        return self._first(("trial", *field, *rest[2:3]), ("trial",))


_TRIAL_SPEC: Path = ("spec", "trialTemplate", "trialSpec")
_SPEC_FIELDS: dict[str, Callable[[SourceMap, Path], Origin]] = {
    "objective": SourceMap._objective,
    "algorithm": lambda self, rest: self._algorithm("algorithm")(rest),
    "earlyStopping": lambda self, rest: self._algorithm("earlyStopping")(rest),
    "parameters": SourceMap._parameters,
    "nasConfig": SourceMap._nas,
    "metricsCollectorSpec": SourceMap._collector,
    "trialTemplate": SourceMap._trial_template,
}
