"""Whether a spec can move to the OptimizationJob backend, and each reason it cannot, at the spec's own line.

One rule per reason (TS-OPT-*), registered at level SPEC. generate and validate run them on every spec
whose backend is `optimizationjob` (spec.model.backend_of): an error keeps the spec from being built, as
any other spec rule's. `katib-gitops port` runs them on every spec, whatever its backend
(commands/port.py). The facts are those of Kubeflow Trainer's OptimizationJob on master (the type
OptimizationJobSpec, pkg/apis/trainer/v1alpha1/optimizationjob_types.go, and KEP-2605's "Non-Goals"):
TrainJob trials only, random or grid search, uniform, log-uniform and categorical spaces without steps,
one objective metric, 1 to 100 trials, values passed as KUBEFLOW_TRAINER_OPT_<NAME> environment
variables, metrics read from the TrainJob's status (no collectors), no early stopping, NAS or resuming.
What the CRD's own schema and CEL rules refuse (more than 100 parameters or choices, parallelTrials over
numTrials, grid over a range) is found by validating the OptimizationJob built from the spec
(rules/optimizationjob_checks.py).

Errors say what cannot carry over and, where there is one, the nearest equivalent; warnings name what
carries over with a different meaning (a goal, a failure budget, Katib's trial settings).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.registry import Finding, Rule, lookup, rule
from katib_gitops.expand import optimizationjob as oj
from katib_gitops.expand.experiment import budget, spec_profile_budget
from katib_gitops.rules.runner import diagnostics
from katib_gitops.spec.model import OPTIMIZATION_JOB_BACKEND, Parameter, SpecSet, TuningSpec, backend_of

Check = Callable[[TuningSpec, SpecSet], Iterator[Finding]]


class PortRule(NamedTuple):
    rule: Rule
    check: Check  # the reasons, whatever the spec's backend


PORT_RULES: list[PortRule] = []


def _port_rule(rule_id: str, doc: str, *, severity: Severity = Severity.ERROR) -> Callable[[Check], Check]:
    """Register `check` as spec rule `rule_id`, run by generate only for a spec whose backend is optimizationjob,
    and keep it for `port`, which runs it on every spec."""

    def register(check: Check) -> Check:
        def for_backend(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
            if backend_of(spec, spec_set.targets) == OPTIMIZATION_JOB_BACKEND:
                yield from check(spec, spec_set)

        for_backend.__module__ = check.__module__
        for_backend.__name__ = check.__name__
        rule(rule_id, "SPEC", doc, severity=severity)(for_backend)
        found = lookup(rule_id)
        assert found is not None
        PORT_RULES.append(PortRule(found, check))
        return check

    return register


def reasons(spec: TuningSpec, spec_set: SpecSet) -> list[Diagnostic]:
    """Every TS-OPT-* finding on `spec` as if its backend were optimizationjob, positioned, sorted."""
    found = ((item.rule, finding) for item in PORT_RULES for finding in item.check(spec, spec_set))
    return sorted(set(diagnostics(spec.document, found)))


# --------------------------------------------------------------- the trial


@_port_rule(
    "TS-OPT-KIND",
    "An OptimizationJob runs TrainJobs only (its trainJobTemplate; KEP-2605 drops arbitrary CRD support): the "
    "trial is a TrainJob, in the short form or as a raw trialSpec.",
)
def trial_is_train_job(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if oj.runtime_layout(spec):
        return
    trial = spec.trial
    raw = "trialSpec" in trial
    kind = (trial["trialSpec"].get("kind") if raw else trial.get("kind")) or "a job"
    yield Finding(
        ["spec", "trial", "trialSpec", "kind"] if raw else ["spec", "trial", "kind"],
        f"an OptimizationJob cannot run a {kind} trial: it runs TrainJobs only",
        hint="nearest: the same program as a TrainJob (trial.kind: TrainJob, trial.runtime: a (Cluster)TrainingRuntime"
        " such as torch-distributed)",
    )


KATIB_TRIAL_SETTINGS = ("primaryContainer", "successCondition", "failureCondition", "primaryPodLabels", "retain")


@_port_rule(
    "TS-OPT-TRIAL-SETTINGS",
    "Katib's trial settings (primaryContainer, success and failure conditions, primaryPodLabels, retain) have no "
    "OptimizationJob field: the controller decides from the TrainJob's own conditions.",
    severity=Severity.WARNING,
)
def katib_trial_settings(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    for field in KATIB_TRIAL_SETTINGS:
        if field in spec.trial:
            yield Finding(
                ["spec", "trial", field],
                f"trial.{field} is a Katib trial setting: an OptimizationJob has no such field and it is left out",
                at_key=True,
            )


@_port_rule(
    "TS-OPT-COLLECTOR",
    "An OptimizationJob has no metrics collector: it reads the metric the trainer reports to the TrainJob's status "
    "(KEP-2605 omits pull-based collectors).",
)
def no_collector(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if "metricsCollector" in spec.trial:
        yield Finding(
            ["spec", "trial", "metricsCollector"],
            "an OptimizationJob has no metrics collector",
            hint="nearest: report the metric from the training program to the TrainJob's status (the Kubeflow SDK's "
            "progress reporting, Trainer's TrainJobStatus feature gate) and remove metricsCollector",
            at_key=True,
        )


# --------------------------------------------------------------- the search


@_port_rule(
    "TS-OPT-ALGORITHM",
    "An OptimizationJob searches at random (an optional integer seed, Katib's random_state) or on a grid, nothing "
    "else (SearchAlgorithm: random, grid).",
)
def algorithm(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    raw = spec.body["algorithm"]
    name = raw["name"]
    if name not in oj.ALGORITHMS:
        yield Finding(
            ["spec", "algorithm", "name"],
            f"an OptimizationJob cannot search with {name!r}: only random and grid",
            hint="nearest: random (with maxTrials as the budget); TPE, Bayesian optimization and the like are "
            "planned for a later phase of the API",
        )
        return
    for setting, value in (raw.get("settings") or {}).items():
        path: list[str | int] = ["spec", "algorithm", "settings", setting]
        if name == "grid" or setting != oj.SEED_SETTING:
            yield Finding(path, f"{name} search has no setting {setting!r} in an OptimizationJob", at_key=True)
        elif isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value)):
            yield Finding(path, f"random_state becomes the integer seed; {value!r} is not an integer")


@_port_rule(
    "TS-OPT-EARLY-STOPPING",
    "An OptimizationJob stops no trial early: pruning is planned for a later phase (KEP-2605).",
)
def no_early_stopping(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if "earlyStopping" in spec.body:
        yield Finding(
            ["spec", "earlyStopping"],
            "an OptimizationJob has no early stopping",
            hint="nearest: none; every trial runs to its end",
            at_key=True,
        )


@_port_rule("TS-OPT-NAS", "An OptimizationJob searches hyperparameters only, no architectures (KEP-2605: no NAS).")
def no_nas(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if "nas" in spec.body:
        yield Finding(["spec", "nas"], "an OptimizationJob has no neural architecture search", at_key=True)


@_port_rule(
    "TS-OPT-METRICS",
    "An OptimizationJob has exactly one objective metric, with no additional metrics and no metric strategies "
    "(objectives: one item; KEP-2605 omits complex metric strategies).",
)
def one_metric(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    objective = spec.body["objective"]
    for index, name in enumerate(objective.get("additionalMetrics") or []):
        yield Finding(
            ["spec", "objective", "additionalMetrics", index],
            f"an OptimizationJob tracks one metric; additional metric {name!r} is not collected",
            hint="nearest: report it from the program for your own records; only the objective metric is optimized",
        )
    default = "min" if objective["type"] == "minimize" else "max"
    for name, strategy in (objective.get("strategies") or {}).items():
        if strategy != default:
            yield Finding(
                ["spec", "objective", "strategies", name],
                f"strategy {strategy!r} for {name!r}: an OptimizationJob compares each trial's {default} only",
            )


@_port_rule(
    "TS-OPT-GOAL",
    "An OptimizationJob has no goal: it runs all numTrials even when a trial reaches the objective's goal.",
    severity=Severity.WARNING,
)
def no_goal(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if "goal" in spec.body["objective"]:
        yield Finding(
            ["spec", "objective", "goal"],
            "an OptimizationJob has no goal: every one of maxTrials trials runs",
            hint="nearest: a smaller maxTrials",
        )


# --------------------------------------------------------------- parameters


@_port_rule(
    "TS-OPT-STEP",
    "An OptimizationJob's uniform and log-uniform spaces have no step (UniformSpace, LogUniformSpace: min, max, "
    "type); an int's step of 1 is what its Int space samples anyway.",
)
def no_step(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    for index, parameter in enumerate(spec.parameters):
        if parameter.step is not None and parameter.type in ("int", "double") and not _unit_int_step(parameter):
            yield Finding(
                ["spec", "parameters", index, "step"],
                f"parameter {parameter.name!r}: an OptimizationJob samples {parameter.type} values without a step",
                hint=_stepped_values(parameter),
            )


def _unit_int_step(parameter: Parameter) -> bool:
    """An int's step of 1 is what an Int space samples anyway (every integer in [min, max])."""
    return parameter.type == "int" and parameter.step == 1


def _stepped_values(parameter: Parameter) -> str:
    assert parameter.min is not None and parameter.max is not None and parameter.step is not None
    count = math.floor((parameter.max - parameter.min) / parameter.step + 1e-9) + 1
    if count > oj.MAX_CHOICES or count < 1:
        return f"nearest: drop the step ({count} values on the grid: more than a categorical list's {oj.MAX_CHOICES})"
    values = [parameter.min + i * parameter.step for i in range(count)]
    shown = ", ".join(str(round(v, 12)) for v in values[:4]) + (", ..." if count > 4 else "")
    return f"nearest: type: categorical with the {count} values [{shown}] (the trial reads them as text)"


@_port_rule(
    "TS-OPT-DISCRETE",
    "An OptimizationJob has no discrete space: its categorical space holds the same values as text (CategoricalSpace).",
)
def no_discrete(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    for index, parameter in enumerate(spec.parameters):
        if parameter.type == "discrete":
            yield Finding(
                ["spec", "parameters", index, "type"],
                f"parameter {parameter.name!r}: an OptimizationJob has no discrete space",
                hint="nearest: type: categorical with the same values (the trial receives the same text; a grid "
                "search needs categorical parameters anyway)",
            )


@_port_rule(
    "TS-OPT-DISTRIBUTION",
    "An OptimizationJob samples uniform or log-uniform only (SearchSpace: uniform, logUniform, categorical).",
)
def distribution(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    nearest = {"normal": "uniform", "logNormal": "logUniform"}
    for index, parameter in enumerate(spec.parameters):
        if parameter.type in ("int", "double") and parameter.distribution not in oj.DISTRIBUTIONS:
            yield Finding(
                ["spec", "parameters", index, "distribution"],
                f"parameter {parameter.name!r}: an OptimizationJob has no {parameter.distribution} distribution",
                hint=f"nearest: distribution: {nearest.get(parameter.distribution, 'uniform')} over the same range",
            )


@_port_rule(
    "TS-OPT-PASS",
    "An OptimizationJob passes each value as the trainer's environment variable KUBEFLOW_TRAINER_OPT_<NAME> "
    "(KEP-2605): every parameter is passed so, and nothing else refers to a value.",
)
def passed_as_env(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    for index, parameter in enumerate(spec.parameters):
        env = oj.env_name(parameter.name)
        if env is None:
            yield Finding(
                ["spec", "parameters", index, "name"],
                f"parameter {parameter.name!r}: an OptimizationJob passes it as KUBEFLOW_TRAINER_OPT_<NAME>, and "
                "this name is not made of letters, digits and '_'",
                hint=f"nearest: name it {_identifier(parameter.name)!r} with pass: {{env: "
                f"{oj.ENV_PREFIX}{_identifier(parameter.name).upper()}}}",
            )
            continue
        delivery = parameter.delivery
        if delivery.mode == "env" and delivery.env == env:
            continue
        where: list[str | int] = ["spec", "parameters", index, "pass"]
        if "pass" not in spec.body["parameters"][index]:
            where = ["spec", "parameters", index, "name"]
        how = {"flag": f"as the flag {delivery.flag}", "env": f"as {delivery.env}", "placeholder": "by placeholder"}
        hint = f"nearest: pass: {{env: {env}}}, read by the program"
        if delivery.mode == "flag":
            hint += f"; or keep the flag in trial.args as [{delivery.flag}, $({env})], which Kubernetes expands"
        yield Finding(
            where,
            f"parameter {parameter.name!r} is passed {how[delivery.mode]}: an OptimizationJob sets {env} only",
            hint=hint,
        )
    for index, _entry in enumerate(spec.trial.get("metadataParameters") or []):
        yield Finding(
            ["spec", "trial", "metadataParameters", index],
            "an OptimizationJob passes no trial metadata to the trial (Katib's ${trialSpec.Name} and the like)",
        )
    if "trialSpec" in spec.trial and "${trialParameters." in repr(spec.trial["trialSpec"]):
        yield Finding(
            ["spec", "trial", "trialSpec"],
            "the trialSpec refers to Katib's ${trialParameters.*}: an OptimizationJob fills in no placeholder",
            hint="nearest: read the KUBEFLOW_TRAINER_OPT_<NAME> environment variables in the program",
            at_key=True,
        )


def _identifier(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "param"
    return text if not text[0].isdigit() else f"p{text}"


# --------------------------------------------------------------- the budget


class _Place(NamedTuple):
    """Where a budget field of one plan (a profile's, or the spec's own) is written."""

    path: tuple[str | int, ...]
    document: Any  # None: the spec's own document


def _budget_places(spec: TuningSpec, spec_set: SpecSet, field: str) -> Iterator[tuple[Any, _Place]]:
    """(value, where) of `field` in each budget the spec's objects get: one per profile, else the spec's own."""
    profiles = [spec_set.targets.profiles[p] for p in sorted(spec.profiles) if p in spec_set.targets.profiles]
    if not profiles:
        yield spec.body.get("budget", {}).get(field), _Place(("spec", "budget", field), None)
        return
    for profile in profiles:
        value = budget(spec, profile).get(field)
        if field in spec_profile_budget(spec, profile.name):
            place = _Place(("spec", "targets", "budget", profile.name, field), None)
        elif field in profile.budget:
            place = _Place(("spec", "profiles", profile.name, "budget", field), spec_set.targets.document)
        else:
            place = _Place(("spec", "budget", field), None)
        yield value, place


def _once(found: Iterable[tuple[_Place, Finding]]) -> Iterator[Finding]:
    seen: set[tuple[tuple[str | int, ...], int]] = set()
    for place, finding in found:
        key = (place.path, id(place.document))
        if key not in seen:
            seen.add(key)
            yield finding


def _finding(place: _Place, message: str, hint: str = "", spec: TuningSpec | None = None) -> Finding:
    path = list(place.path)
    if place.document is None and spec is not None and not _has(spec.document.data, path):
        path = ["spec", "budget"] if "budget" in spec.body else ["spec"]
    return Finding(path, message, hint, document=place.document)


def _has(data: Any, path: list[str | int]) -> bool:
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return False
        data = data[part]
    return True


@_port_rule(
    "TS-OPT-TRIALS",
    f"An OptimizationJob runs 1 to {oj.MAX_TRIALS} trials, {oj.MAX_TRIALS} at most at a time (numTrials, "
    "parallelTrials), and maxTrials is set (numTrials defaults to 1): for every profile's budget.",
)
def trial_counts(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    found: list[tuple[_Place, Finding]] = []
    for value, place in _budget_places(spec, spec_set, "maxTrials"):
        if value is None:
            message = "maxTrials is not set: an OptimizationJob would run numTrials' default of 1 trial"
            found.append((place, _finding(place, message, f"nearest: maxTrials: {oj.MAX_TRIALS} or less", spec)))
        elif value > oj.MAX_TRIALS:
            message = f"maxTrials {value}: an OptimizationJob runs at most {oj.MAX_TRIALS} trials"
            hint = f"nearest: maxTrials: {oj.MAX_TRIALS}, then a second spec that searches on"
            found.append((place, _finding(place, message, hint, spec)))
    for value, place in _budget_places(spec, spec_set, "parallelTrials"):
        if value is not None and value > oj.MAX_TRIALS:
            message = f"parallelTrials {value}: an OptimizationJob runs at most {oj.MAX_TRIALS} trials at a time"
            found.append((place, _finding(place, message, f"nearest: parallelTrials: {oj.MAX_TRIALS}", spec)))
    yield from _once(found)


@_port_rule(
    "TS-OPT-RESUME",
    "An OptimizationJob cannot be resumed once done (KEP-2605: no pause and resume): resumePolicy is Never or unset.",
)
def no_resume(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    found = [
        (
            place,
            _finding(
                place,
                f"resumePolicy {value}: an OptimizationJob cannot be resumed",
                "nearest: none; to search further, a new spec (a new OptimizationJob) with the results as its start",
                spec,
            ),
        )
        for value, place in _budget_places(spec, spec_set, "resumePolicy")
        if value not in (None, "Never")
    ]
    yield from _once(found)


@_port_rule(
    "TS-OPT-FAILED",
    "An OptimizationJob has no failure budget (maxFailedTrials): failed trials count towards numTrials.",
    severity=Severity.WARNING,
)
def no_failure_budget(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    found = [
        (place, _finding(place, f"maxFailedTrials {value}: an OptimizationJob has no failure budget", spec=spec))
        for value, place in _budget_places(spec, spec_set, "maxFailedTrials")
        if value is not None
    ]
    yield from _once(found)
