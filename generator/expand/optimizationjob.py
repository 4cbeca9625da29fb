"""Build stage for the second backend: a TuningSpec (and optionally a Profile) becomes a Kubeflow Trainer
OptimizationJob (trainer.kubeflow.org/v1alpha1), and the source map that places its fields back at the spec.

The API tracks Kubeflow Trainer's unreleased `master` (docs/optimizationjob.md names the commit): the type
OptimizationJobSpec in pkg/apis/trainer/v1alpha1/optimizationjob_types.go and the CRD generated from it.
The spec model (spec/model.py) stays the same for both backends: this module maps it onto the
OptimizationJob's fields, and the trial onto `trainJobTemplate` with the same short form, profiles
(through the TrainJob's runtime patch) and Istio opt-out as the Experiment's TrainJob trial
(expand/experiment.py). The output is canonical like the Experiment's: every default the CRD's schema
would fill in (numTrials, parallelTrials, direction, a space's type) is written out.

Only what OptimizationJob can express is built: rules/portability.py refuses every other spec first,
each reason at its line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import Layout
from katib_gitops.expand.experiment import (
    ANNOTATION_PROFILE,
    HASH_LENGTH,
    LABEL_SPEC,
    MANAGED_BY,
    SAFETY_ANNOTATIONS,
    budget,
    build_trial_spec,
    katib_string,
    trial_kind,
)
from katib_gitops.expand.origins import BUDGET_DEFAULTS, Origin, SourceMap, value_at
from katib_gitops.spec.model import Parameter, Profile, Targets, TuningSpec

API_VERSION = "trainer.kubeflow.org/v1alpha1"
KIND = "OptimizationJob"
OBJECT_FILE = "optimizationjob.yaml"  # the base's file, where a Katib spec has experiment.yaml
# Limits of the CRD (kubebuilder markers of OptimizationJobSpec, Parameter, CategoricalSpace).
MAX_TRIALS = 100  # numTrials and parallelTrials: 1..100
MAX_PARAMETERS = 100
MAX_CHOICES = 100
MAX_TEXT = 64  # a parameter's name, a metric's name, a choice, a bound
DEFAULT_TRIALS = 1  # numTrials and parallelTrials when left out (kubebuilder:default=1)
# The controller passes each value as the environment variable KUBEFLOW_TRAINER_OPT_<NAME> of the trainer
# (KEP-2605, "Parameter Propagation via Environment Variables & Annotations": learning_rate is read as
# KUBEFLOW_TRAINER_OPT_LEARNING_RATE). The KEP shows names made of letters, digits and '_' only.
ENV_PREFIX = "KUBEFLOW_TRAINER_OPT_"
ENV_SUFFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
DIRECTIONS = {"maximize": "Maximize", "minimize": "Minimize"}
ALGORITHMS = ("random", "grid")  # Phase 1 of KEP-2605: SearchAlgorithm has `random` and `grid` only
SEED_SETTING = "random_state"  # Katib's setting of the random algorithm that OptimizationJob calls `seed`
SPACE_TYPES = {"double": "Float", "int": "Int"}
DISTRIBUTIONS = ("uniform", "logUniform")  # SearchSpace: uniform, logUniform, categorical


def env_name(parameter_name: str) -> str | None:
    """The environment variable an OptimizationJob's trial reads the parameter from; None when the name
    is not made of letters, digits and '_' (the controller's mapping of other names is not specified)."""
    return ENV_PREFIX + parameter_name.upper() if ENV_SUFFIX.match(parameter_name) else None


# ------------------------------------------------------------- fields


def objectives(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"metric": raw["metric"], "direction": DIRECTIONS[raw["type"]]}]


def search_algorithm(raw: Mapping[str, Any]) -> dict[str, Any]:
    if raw["name"] == "grid":
        return {"grid": {}}
    settings = raw.get("settings") or {}
    return {"random": {"seed": int(settings[SEED_SETTING])} if SEED_SETTING in settings else {}}


def search_space(parameter: Parameter) -> dict[str, Any]:
    if parameter.type == "categorical":
        return {"categorical": {"choices": [katib_string(v) for v in parameter.values]}}
    bounds = {"min": katib_string(parameter.min), "max": katib_string(parameter.max)}
    return {parameter.distribution: {**bounds, "type": SPACE_TYPES[parameter.type]}}


def parameters(spec: TuningSpec) -> list[dict[str, Any]]:
    return [{"name": p.name, "searchSpace": search_space(p)} for p in spec.parameters]


def counts(plan: Mapping[str, Any]) -> dict[str, int]:
    return {
        "numTrials": plan.get("maxTrials", DEFAULT_TRIALS),
        "parallelTrials": plan.get("parallelTrials", DEFAULT_TRIALS),
    }


def train_job_template(trial_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's TrainJob as a template: its labels and annotations, and its spec."""
    out: dict[str, Any] = {}
    metadata = trial_spec.get("metadata")
    if metadata:
        out["metadata"] = metadata
    out["spec"] = trial_spec.get("spec", {})
    return out


def optimization_job_spec(
    spec: TuningSpec,
    profile: Profile | None,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    budget_from: Profile | None = None,
) -> dict[str, Any]:
    body = spec.body
    out: dict[str, Any] = {"objectives": objectives(body["objective"])}
    out["searchAlgorithm"] = search_algorithm(body["algorithm"])
    out["parameters"] = parameters(spec)
    out.update(counts(budget(spec, profile or budget_from)))
    trial_spec = build_trial_spec(spec, profile, katib_version, placeholders=False)
    out["trainJobTemplate"] = train_job_template(trial_spec)
    return out


# ------------------------------------------------------------- naming


def immutable_hash(job_spec: Mapping[str, Any], profile: str = "") -> str:
    """Short hash of the whole spec: the CRD forbids any change after creation (`self == oldSelf` on
    OptimizationJobSpec), counts included; the profile name too, as for an Experiment."""
    text = json.dumps([profile, job_spec], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def build_optimization_job(
    spec: TuningSpec,
    profile: Profile | None = None,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    *,
    budget_from: Profile | None = None,
) -> dict[str, Any]:
    """The complete OptimizationJob for `spec`, for one profile or profile-neutral (the base, whose counts come
    from `budget_from`, as build_experiment's)."""
    body = optimization_job_spec(spec, profile, katib_version, budget_from)
    annotations = {**spec.annotations, **SAFETY_ANNOTATIONS, LABEL_SPEC: spec.name}
    if profile is not None:
        annotations[ANNOTATION_PROFILE] = profile.name
    labels = {**spec.labels, **MANAGED_BY, LABEL_SPEC: spec.name}
    name = f"{spec.name}-{immutable_hash(body, profile.name if profile else '')}"
    metadata = {"name": name, "labels": labels, "annotations": annotations}
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": body}


def is_optimization_job(obj: Mapping[str, Any]) -> bool:
    return obj.get("apiVersion") == API_VERSION and obj.get("kind") == KIND


# ------------------------------------------------------------- the source map

Path = tuple[str | int, ...]
_SPACE_FIELDS = {"min": "min", "max": "max", "choices": "list"}
_PARALLEL_DEFAULT = f"parallelTrials is not set: OptimizationJob's default {DEFAULT_TRIALS}"
_TRIALS_DEFAULT = f"maxTrials is not set: OptimizationJob's default numTrials {DEFAULT_TRIALS}"


class JobSourceMap:
    """Origins of the fields of an OptimizationJob built from `spec` for `profile`: each OptimizationJob path
    is read as the Experiment field that holds the same fact, and answered by the Experiment's SourceMap."""

    def __init__(
        self,
        spec: TuningSpec,
        targets: Targets,
        job: Mapping[str, Any],
        profile: Profile | None = None,
        budget_profile: Profile | None = None,
    ) -> None:
        self.job = job
        template = value_at(job, ("spec", "trainJobTemplate")) or {}
        kind = trial_kind(spec) or kinds.KINDS["TrainJob"]
        trial = {"apiVersion": kind.api_version, "kind": kind.kind, **template}
        experiment = {"metadata": job.get("metadata", {}), "spec": {"trialTemplate": {"trialSpec": trial}}}
        self.source = SourceMap(spec, targets, experiment, profile, budget_profile)
        self.spec = spec

    def origin(self, path: Sequence[str | int]) -> Origin:
        path = tuple(path)
        if path[:1] != ("spec",) or len(path) < 2:
            return self.source.origin(path)
        head, rest = path[1], path[2:]
        if head in ("numTrials", "parallelTrials"):
            found = self.source.origin(("spec", "maxTrialCount" if head == "numTrials" else "parallelTrialCount"))
            default = BUDGET_DEFAULTS["maxTrials" if head == "numTrials" else "parallelTrials"]
            if found.note == default:
                return Origin(found.nodes, _TRIALS_DEFAULT if head == "numTrials" else _PARALLEL_DEFAULT)
            return found
        if head == "objectives":
            field = "objectiveMetricName" if rest[1:2] == ("metric",) else "type"
            return self.source.origin(("spec", "objective", field))
        if head == "searchAlgorithm":
            settings = list(self.spec.body["algorithm"].get("settings") or {})
            if rest[1:2] == ("seed",) and SEED_SETTING in settings:
                return self.source.origin(("spec", "algorithm", "algorithmSettings", settings.index(SEED_SETTING)))
            return self.source.origin(("spec", "algorithm", "algorithmName"))
        if head == "parameters":
            return self._parameter(rest)
        if head == "trainJobTemplate":
            return self.source.origin(("spec", "trialTemplate", "trialSpec", *rest))
        return self.source.origin(("spec",))

    def _parameter(self, rest: Path) -> Origin:
        if not rest or not isinstance(rest[0], int):
            return self.source.origin(("spec", "parameters"))
        at: Path = ("spec", "parameters", rest[0])
        tail = rest[1:]
        if tail == ("name",):
            return self.source.origin((*at, "name"))
        if tail[:1] == ("searchSpace",) and tail[2:3] == ("type",):
            return self.source.origin((*at, "parameterType"))
        if tail[:1] == ("searchSpace",) and len(tail) > 2 and str(tail[2]) in _SPACE_FIELDS:
            return self.source.origin((*at, "feasibleSpace", _SPACE_FIELDS[str(tail[2])], *tail[3:4]))
        if tail[:1] == ("searchSpace",) and len(tail) == 2:
            return self.source.origin((*at, "feasibleSpace", "distribution"))
        return self.source.origin(at)


def source_map(
    spec: TuningSpec,
    targets: Targets,
    built: Mapping[str, Any],
    profile: Profile | None = None,
    budget_profile: Profile | None = None,
) -> SourceMap | JobSourceMap:
    """The source map of an object generate built: an Experiment's or an OptimizationJob's."""
    if is_optimization_job(built):
        return JobSourceMap(spec, targets, built, profile, budget_profile)
    return SourceMap(spec, targets, built, profile, budget_profile)


def runtime_layout(spec: TuningSpec) -> bool:
    """Whether the spec's trial is a TrainJob (the only trial kind an OptimizationJob runs)."""
    kind = trial_kind(spec)
    return kind is not None and kind.layout is Layout.RUNTIME
