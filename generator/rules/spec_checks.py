"""Check stage for specs: rules the schema cannot express, each a small named unit.

Every rule is registered at level SPEC with `core.registry.rule` (a stable ID, a severity
and a one-line doc; `katib-gitops rules` lists them) and yields `Finding`s, a path into the
TuningSpec and a message; `run_checks` turns them into diagnostics. Where a rule mirrors one
of Katib's (../shared/research/katib-rules.md) its doc names that rule, so a spec fails here
before the cluster would refuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from katib_gitops.core import kinds, registry
from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.registry import Finding, rule
from katib_gitops.expand.experiment import (
    HASH_LENGTH,
    MAX_NAME,
    budget,
    primary_container,
    profile_fields,
    spec_profile_budget,
    trial_kind,
)
from katib_gitops.rules.runner import diagnostics
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from katib_gitops.spec.model import Profile, SpecSet, Targets, TuningSpec


def run_checks(spec_set: SpecSet) -> list[Diagnostic]:
    """Every spec rule on every spec of the set, as diagnostics in their spec's file, sorted."""
    rules = registry.checks("SPEC")
    found: list[Diagnostic] = []
    for spec in spec_set.specs:
        found.extend(diagnostics(spec.document, registry.run(rules, spec, spec_set)))
    return sorted(found)


def _param_path(index: int, *rest: str | int) -> list[str | int]:
    return ["spec", "parameters", index, *rest]


# --------------------------------------------------------------- objective


DEFAULT_METRIC_NAME = re.compile(r"[A-Za-z0-9_|-]+")


@rule(
    "TS-OBJ-METRICS",
    "SPEC",
    "The objective metric is not repeated in additionalMetrics, strategies name known metrics, and the default "
    "filter can read every name (OBJ-04, OBJ-06, OBJ-08).",
)
def objective_metrics(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    objective = spec.body["objective"]
    extra = objective.get("additionalMetrics", [])
    if objective["metric"] in extra:
        index = extra.index(objective["metric"])
        yield Finding(
            ["spec", "objective", "additionalMetrics", index],
            f"'{objective['metric']}' is the objective metric; Katib refuses it here too",
        )
    known = {objective["metric"], *extra}
    collector = spec.trial.get("metricsCollector") or {"kind": "StdOut"}
    default_filter = (
        not collector.get("filter")
        and collector.get("kind") in ("StdOut", "File")
        and collector.get("format", "TEXT") == "TEXT"
    )
    named: list[tuple[list[str | int], Any]] = [(["spec", "objective", "metric"], objective["metric"])]
    named += [(["spec", "objective", "additionalMetrics", i], m) for i, m in enumerate(extra)]
    for where, name in named:
        if default_filter and not DEFAULT_METRIC_NAME.fullmatch(name):
            yield Finding(
                where,
                f"Katib's default metrics filter cannot read metric {name!r}",
                hint="use letters, digits, '_', '|' and '-', or give the collector a filter",
            )
    for name in objective.get("strategies", {}):
        if name not in known:
            yield Finding(
                ["spec", "objective", "strategies", name],
                f"strategy for unknown metric '{name}'",
                hint=f"metrics: {', '.join(sorted(known))}",
            )


# --------------------------------------------------------------- algorithm


def _katib_config(spec_set: SpecSet) -> KatibConfig:
    """The cluster's katib-config (--katib-config), or Katib's standalone install's."""
    return spec_set.katib_config or STANDALONE


@rule(
    "TS-ALGORITHM",
    "SPEC",
    "Algorithm and early-stopping names exist in the katib-config: the cluster's (--katib-config) or Katib's "
    "standalone install's (ALG-03, ES-03).",
)
def algorithm_names(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    config = _katib_config(spec_set)
    name = spec.body["algorithm"]["name"]
    if name not in config.suggestions:
        yield Finding(
            ["spec", "algorithm", "name"],
            f"unknown algorithm '{name}' in {config.source}",
            hint=_did_you_mean(name, tuple(config.suggestions)),
        )
    early = spec.body.get("earlyStopping")
    if early and early["name"] not in config.early_stoppings:
        yield Finding(
            ["spec", "earlyStopping", "name"],
            f"unknown early-stopping algorithm '{early['name']}' in {config.source}",
            hint=_did_you_mean(early["name"], tuple(config.early_stoppings)),
        )


def _did_you_mean(name: str, options: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(name, options, n=1)
    return f"did you mean '{close[0]}'?" if close else f"known: {', '.join(options)}"


# --------------------------------------------------------------- budget


@rule(
    "TS-BUDGET",
    "SPEC",
    "Counts fit every profile: maxFailedTrials and parallelTrials at most maxTrials (COUNT-04..06), reported at "
    "the profile's budget too.",
)
def budget_relations(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    targets = spec_set.targets
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for profile_name in spec.profiles:
        profile = targets.profiles.get(profile_name)
        if profile is None:
            continue  # TS-TARGETS
        plan = budget(spec, profile)
        origins = _budget_origins(spec, profile)
        parallel = plan.get("parallelTrials", kinds.DEFAULT_PARALLEL)
        limit = plan.get("maxTrials")
        problems: list[tuple[tuple[str, ...], str, str]] = []
        if limit is not None and parallel > limit:
            hint = "" if "parallelTrials" in plan else "Katib defaults parallelTrials to 3; set it explicitly"
            problems.append(
                (("maxTrials", "parallelTrials"), f"parallelTrials ({parallel}) exceeds maxTrials ({limit})", hint)
            )
        if limit is not None and plan.get("maxFailedTrials", 0) > limit:
            message = f"maxFailedTrials ({plan['maxFailedTrials']}) exceeds maxTrials ({limit})"
            problems.append((("maxFailedTrials", "maxTrials"), message, ""))
        for fields, message, hint in problems:
            for finding in _budget_findings(spec, targets, profile_name, origins, fields, message, hint):
                if (tuple(finding.path), finding.message) not in seen:  # the spec's own values: once, not per profile
                    seen.add((tuple(finding.path), finding.message))
                    yield finding


BudgetOrigin = tuple[str, list[str | int]]  # ("spec" | "profile", path in that document)


def _budget_origins(spec: TuningSpec, profile: Profile) -> dict[str, BudgetOrigin]:
    """Where each budget field of (spec, profile) comes from; a default: the spec's budget (or its targets)."""
    out: dict[str, BudgetOrigin] = {}
    for field in ("maxTrials", "parallelTrials", "maxFailedTrials"):
        if field in spec_profile_budget(spec, profile.name):
            out[field] = ("spec", ["spec", "targets", "budget", profile.name, field])
        elif field in profile.budget:
            out[field] = ("profile", ["spec", "profiles", profile.name, "budget", field])
        elif field in spec.body.get("budget", {}):
            out[field] = ("spec", ["spec", "budget", field])
    return out


def _budget_findings(
    spec: TuningSpec,
    targets: Targets,
    profile: str,
    origins: dict[str, BudgetOrigin],
    fields: tuple[str, ...],
    message: str,
    hint: str,
) -> Iterator[Finding]:
    """At the spec (its own value, else where it picks the profile) and, when the profile's budget is part of it,
    at the profile's value in the Targets file."""
    mine = [origins[f][1] for f in fields if f in origins and origins[f][0] == "spec"]
    theirs = [origins[f][1] for f in fields if f in origins and origins[f][0] == "profile"]
    index = spec.profiles.index(profile)
    if not theirs:
        where = f" with profile '{profile}'" if any(p[:3] == ["spec", "targets", "budget"] for p in mine) else ""
        yield Finding(
            mine[0] if mine else ["spec", "budget"] if "budget" in spec.body else ["spec"], message + where, hint
        )
        return
    at = targets.document.position(theirs[0])
    yield Finding(
        mine[0] if mine else ["spec", "targets", "profiles", index],
        f"{message} with profile '{profile}' ({targets.document.file}:{at[0]})",
        hint or f"override it for this spec in spec.targets.budget.{profile}",
    )
    yield Finding(
        theirs[0],
        f"{message} for spec '{spec.name}' ({spec.document.file})",
        hint or f"the spec can override it in spec.targets.budget.{profile}",
        document=targets.document,
    )


# --------------------------------------------------------------- parameters


@rule(
    "TS-PARAM-UNIQUE",
    "SPEC",
    "Parameter names and trialParameter names (metadata parameters included) are unique (PARAM-11, TT-11).",
)
def unique_parameters(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    names: set[str] = set()
    trial_names: set[str] = set()
    for index, parameter in enumerate(spec.parameters):
        if parameter.name in names:
            yield Finding(_param_path(index, "name"), f"duplicate parameter '{parameter.name}'")
        if parameter.trial_parameter in trial_names:
            yield Finding(
                _param_path(index),
                f"trialParameter name '{parameter.trial_parameter}' is used twice",
                hint="set 'trialParameter' to tell them apart",
            )
        names.add(parameter.name)
        trial_names.add(parameter.trial_parameter)
    for where, entries in _extra_trial_parameters(spec):
        for index, entry in enumerate(entries):
            if entry["name"] in trial_names:
                yield Finding(
                    [*where, index, "name"],
                    f"trialParameter name '{entry['name']}' is used twice",
                    hint="give each trialParameter a name of its own",
                )
            trial_names.add(entry["name"])


def _extra_trial_parameters(spec: TuningSpec) -> list[tuple[list[str | int], list[Any]]]:
    """The trialParameters not made from spec.parameters: NAS assignments, then the trial's metadata."""
    return [
        (["spec", "nas", "assignments"], list(spec.body.get("nas", {}).get("assignments", []))),
        (["spec", "trial", "metadataParameters"], list(spec.trial.get("metadataParameters", []))),
    ]


@rule(
    "TS-PARAM-RANGE",
    "SPEC",
    "min is at most max, step is greater than 0, and log distributions have min > 0 (PARAM-14, PARAM-15, PARAM-17).",
)
def parameter_ranges(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    for index, p in enumerate(spec.parameters):
        if p.step is not None and float(p.step) <= 0:
            yield Finding(_param_path(index, "step"), f"step must be greater than 0, got {p.step}")
        if p.min is None or p.max is None:
            continue
        low, high = float(p.min), float(p.max)
        if low > high:
            yield Finding(_param_path(index, "min"), f"min ({p.min}) is greater than max ({p.max})")
        if p.distribution in ("logUniform", "logNormal") and low <= 0:
            yield Finding(_param_path(index, "min"), f"{p.distribution} needs min > 0, got {p.min}")


@rule(
    "TS-PARAM-PASS",
    "SPEC",
    "Every parameter reaches the trial: flags and env vars need a known pod template, placeholders (metadata "
    "parameters too) appear in the trial (TT-15, TT-R1, TT-R2).",
)
def parameter_delivery(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    import json

    kind = trial_kind(spec)
    text = json.dumps(spec.trial)
    for index, p in enumerate(spec.parameters):
        token = f"${{trialParameters.{p.trial_parameter}}}"
        if p.delivery.mode == "placeholder" and token not in text:
            yield Finding(
                _param_path(index, "pass"),
                f"placeholder {token} does not appear in the trial",
                hint="write it where the value belongs, e.g. in args",
            )
        elif p.delivery.mode != "placeholder" and kind is None:
            yield Finding(
                _param_path(index),
                f"cannot pass '{p.name}' as {p.delivery.mode}: trialSpec kind is not one katib-gitops knows",
                hint="use 'pass: placeholder'",
            )
    yield from _named_delivery(spec, text)


META_KEY = re.compile(r"\$\{trialSpec\.(Labels|Annotations)\[(.+)\]\}\Z")


def _named_delivery(spec: TuningSpec, text: str) -> Iterator[Finding]:
    """NAS assignments and metadata parameters are used in the trial (TT-15).

    A label or annotation a metadata parameter reads exists (TT-R2).
    """
    trial_spec = spec.trial.get("trialSpec")
    metadata = trial_spec.get("metadata") if isinstance(trial_spec, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    for base, entries in _extra_trial_parameters(spec):
        for index, entry in enumerate(entries):
            token = f"${{trialParameters.{entry['name']}}}"
            if token not in text:
                yield Finding(
                    [*base, index, "name"],
                    f"placeholder {token} does not appear in the trial",
                    hint="write it where the value belongs, e.g. in args or env",
                )
    for index, meta in enumerate(spec.trial.get("metadataParameters", [])):
        where: list[str | int] = ["spec", "trial", "metadataParameters", index]
        keyed = META_KEY.match(meta["reference"])
        if keyed and keyed.group(2) not in (metadata.get(keyed.group(1).lower()) or {}):
            yield Finding(
                [*where, "reference"],
                f"the trial job has no {keyed.group(1).lower()[:-1]} '{keyed.group(2)}' (TT-R2)",
                hint=f"set it in trial.trialSpec.metadata.{keyed.group(1).lower()}",
            )


@rule(
    "TS-NAS",
    "SPEC",
    "A spec tunes parameters or searches architectures (nas), never both; nas runs with enas or darts and assigns "
    "exactly what that algorithm gives (PARAM-01, PARAM-02, NAS-02, TT-R1).",
)
def nas_search(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    body = spec.body
    algorithm = body["algorithm"]["name"]
    if bool(body.get("parameters")) == ("nas" in body):
        both = "nas" in body
        yield Finding(
            ["spec", "nas"] if both else ["spec"],
            "give either parameters (hyperparameter tuning) or nas (architecture search)"
            + (", not both" if both else ""),
            hint="Katib refuses both and neither (PARAM-01, PARAM-02)",
            at_key=both,
        )
        return
    known = kinds.NAS_ASSIGNMENTS.get(algorithm)
    if "nas" not in body:
        if known:
            yield Finding(
                ["spec", "algorithm", "name"],
                f"{algorithm} searches architectures: give nas instead of parameters (NAS-02)",
            )
        return
    if known is None:
        yield Finding(
            ["spec", "algorithm", "name"], f"nas needs the enas or darts algorithm, not '{algorithm}' (NAS-02)"
        )
        return
    references = [a["reference"] for a in body["nas"]["assignments"]]
    for index, reference in enumerate(references):
        if reference not in known or references.index(reference) != index:
            yield Finding(
                ["spec", "nas", "assignments", index, "reference"],
                f"{algorithm} assigns each trial {', '.join(known)}: '{reference}' is not one of them, or repeats "
                "(TT-R1)",
            )
    missing = [k for k in known if k not in references]
    if missing:
        yield Finding(
            ["spec", "nas", "assignments"],
            f"{algorithm} assigns {', '.join(missing)} too: every assignment needs a trialParameter (TT-R1)",
        )


# --------------------------------------------------------------- trial


@rule(
    "TS-TRIAL-ROLES",
    "SPEC",
    "Replica roles exist for the trial kind (for TrainJob: 'node'); the roles profileRoles names are the trial's.",
)
def trial_roles(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    kind = trial_kind(spec)
    if kind is not None and "replicas" in spec.trial:
        for role in spec.trial["replicas"]:
            if role not in kind.roles:
                yield Finding(
                    ["spec", "trial", "replicas", role],
                    f"unknown role '{role}' for {kind.kind}",
                    hint=_roles_hint(kind),
                )
    chosen = spec.trial.get("profileRoles") or {}
    if kind is None and chosen:
        yield Finding(
            ["spec", "trial", "profileRoles"],
            "profileRoles needs a trial kind katib-gitops knows",
            hint="a profile cannot change the pods of this trialSpec kind",
            at_key=True,
        )
        return
    declared = declared_roles(spec, kind)
    for role in chosen:
        where: list[str | int] = ["spec", "trial", "profileRoles", role]
        if kind is not None and role not in kind.roles:
            yield Finding(where, f"unknown role '{role}' for {kind.kind}", hint=_roles_hint(kind), at_key=True)
        elif role not in declared:
            yield Finding(
                where, f"this trial has no role '{role}'", hint=f"its roles: {', '.join(declared)}", at_key=True
            )


def _roles_hint(kind: kinds.TrialKind) -> str:
    if kind.roles:
        return f"{kind.kind} roles: {', '.join(kind.roles)}"
    return f"{kind.kind} has no replica roles: a profile reaches its one pod"


def declared_roles(spec: TuningSpec, kind: kinds.TrialKind | None) -> tuple[str, ...]:
    """The roles the trial has: those it gives (short form, or a raw trialSpec's map of roles), else the default."""
    if kind is None or kind.layout is kinds.Layout.TEMPLATE:
        return ()
    if kind.layout is kinds.Layout.RUNTIME:
        return kind.roles
    if "trialSpec" in spec.trial:
        return tuple(str(role) for role, _ in kinds.pod_template_places(spec.trial["trialSpec"], kind))
    return tuple(spec.trial.get("replicas") or kind.default_replicas)


@rule(
    "TS-TRIAL-KIND",
    "SPEC",
    "A TrainJob names its runtime; a raw trialSpec of another kind gives success/failure conditions (TT-03, DEF-08).",
)
def trial_kind_needs(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    trial = spec.trial
    kind = trial_kind(spec)
    if "trialSpec" not in trial and kind is not None and kind.layout is kinds.Layout.RUNTIME and "runtime" not in trial:
        yield Finding(["spec", "trial"], f"a {kind.kind} trial needs 'runtime' (the ClusterTrainingRuntime name)")
    if "trialSpec" in trial:
        raw = trial["trialSpec"]
        meta = raw.get("metadata") or {}
        for key in ("name", "namespace"):
            if key in meta:
                yield Finding(
                    ["spec", "trial", "trialSpec", "metadata", key],
                    f"trialSpec must not set metadata.{key}; Katib sets it per trial (TT-18)",
                )
        if kind is None:
            for key in ("successCondition", "failureCondition"):
                if key not in trial:
                    yield Finding(
                        ["spec", "trial"],
                        f"'{key}' is required for trial kind {raw.get('kind')} (Katib has no default)",
                    )


# Short-form fields that a raw trialSpec, or a TrainJob, has nowhere to put.
RAW_IGNORES = ("env", "resources", "imagePullPolicy", "volumes", "volumeMounts", "pod", "container")
TRAINJOB_IGNORES = ("imagePullPolicy", "volumes", "volumeMounts", "pod", "container")


@rule(
    "TS-TRIAL-FIELDS",
    "SPEC",
    "Every trial field takes effect: a raw trialSpec or a TrainJob has no place for some short-form fields.",
)
def trial_fields_used(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    trial = spec.trial
    kind = trial_kind(spec)
    if "trialSpec" in trial:
        unused, why = [k for k in RAW_IGNORES if k in trial], "write it inside the raw trialSpec"
    elif kind is not None and kind.layout is kinds.Layout.RUNTIME:
        unused, why = [k for k in TRAINJOB_IGNORES if k in trial], f"a {kind.kind} takes pod settings from its runtime"
        for role, value in (trial.get("replicas") or {}).items():
            if isinstance(value, dict) and set(value) - {"replicas"}:
                yield Finding(
                    ["spec", "trial", "replicas", role],
                    f"a {kind.kind} takes only a node count here",
                    hint=f"use 'replicas: {{{kind.primary_role}: N}}'",
                )
    else:
        return
    for key in unused:
        yield Finding(["spec", "trial", key], f"'{key}' has no effect here", hint=why, at_key=True)


@rule(
    "TS-TRIAL-CONTAINER",
    "SPEC",
    "The primary container exists in a raw trialSpec (TT-02); pods of other roles without it are TT-R4's error in "
    "`validate`.",
)
def primary_container_present(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    kind = trial_kind(spec)
    if "trialSpec" not in spec.trial or kind is None:
        return
    name = primary_container(spec)
    raw = spec.trial["trialSpec"]
    places = [path for _, path in kinds.pod_template_places(raw, kind)]
    templates = {path: template for _, path, template in kinds.pod_templates(raw, kind)}
    if places and not any(name in _container_names(templates.get(path)) for path in places):
        yield Finding(
            ["spec", "trial", "trialSpec", *places[0], "spec"],
            f"no pod has a container named '{name}'",
            hint="set 'primaryContainer' or rename the container",
        )


def _container_names(template: Any) -> list[Any]:
    pod = template.get("spec", {}) if isinstance(template, dict) else {}
    return [c.get("name") for c in pod.get("containers", []) if isinstance(c, dict)] if isinstance(pod, dict) else []


@rule("TS-COLLECTOR", "SPEC", "The metrics collector is complete (MC-07, MC-09, MC-12, MC-14).")
def collector(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    raw = spec.trial.get("metricsCollector")
    if not raw:
        return
    where = ["spec", "trial", "metricsCollector"]
    kind = raw["kind"]
    if kind == "Custom" and not raw.get("container"):
        yield Finding(where, "a Custom collector needs 'container'")
    if kind == "File" and raw.get("format") == "JSON" and raw.get("filter"):
        yield Finding(where + ["filter"], "a JSON metrics file takes no filter")
    if kind == "TensorFlowEvent" and "format" in raw:
        yield Finding(where + ["format"], "TensorFlowEvent takes no format")
    for index, pattern in enumerate(raw.get("filter", [])):
        if not re.fullmatch(r".*\(.*\).*\(.*\).*", pattern):
            yield Finding(where + ["filter", index], "a filter needs two groups: metric name, then value")


# --------------------------------------------------------------- targets


@rule(
    "TS-TARGETS",
    "SPEC",
    "Namespaces and profiles a spec deploys to are declared in the Targets file, the profile fits the trial kind, and "
    "targets.budget names only those profiles.",
)
def targets_declared(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    targets = spec_set.targets
    for index, namespace in enumerate(spec.namespaces):
        if namespace not in targets.namespaces:
            yield Finding(
                ["spec", "targets", "namespaces", index],
                f"namespace '{namespace}' is not declared in {targets.document.file}",
            )
    kind = trial_kind(spec)
    for index, name in enumerate(spec.profiles):
        profile = targets.profiles.get(name)
        if profile is None:
            yield Finding(
                ["spec", "targets", "profiles", index],
                f"profile '{name}' is not declared in {targets.document.file}",
                hint=_did_you_mean(name, tuple(targets.profiles)),
            )
            continue
        yield from _profile_fits(spec, profile.body, name, kind, index)
    for name in spec.body["targets"].get("budget") or {}:
        if name not in spec.profiles:
            yield Finding(
                ["spec", "targets", "budget", name],
                f"budget for profile '{name}', which this spec does not deploy to",
                hint=f"profiles: {', '.join(spec.profiles)}",
                at_key=True,
            )


# What a TrainJob's runtime patch (Trainer v2.2+) has no place for: it patches a pod's nodeSelector,
# tolerations, labels and annotations, and trainer.resourcesPerNode takes the resources.
TRAINJOB_CANNOT_CARRY = ("runtimeClassName",)


def _profile_fits(
    spec: TuningSpec, body: dict[str, Any] | Any, name: str, kind: kinds.TrialKind | None, index: int
) -> Iterator[Finding]:
    where: list[str | int] = ["spec", "targets", "profiles", index]
    if kind is None and set(body) - {"description", "budget", *kinds.KUEUE_LABELS}:
        yield Finding(where, f"profile '{name}' changes pods, but the trialSpec kind is unknown to katib-gitops")
    elif kind is not None and kind.layout is kinds.Layout.RUNTIME:
        received = profile_fields(spec.trial, kind, kind.primary_role, body)
        refused = [k for k in TRAINJOB_CANNOT_CARRY if k in body and k in received]
        if refused:
            yield Finding(
                where,
                f"profile '{name}' sets {', '.join(refused)}, which a {kind.kind} cannot carry",
                hint="set it in the ClusterTrainingRuntime (a runtime patch has no place for it)",
            )
    roles = body.get("roles", [])
    declared = set(declared_roles(spec, kind))
    for role in roles:
        if kind is not None and kind.layout is kinds.Layout.REPLICAS and role not in declared:
            yield Finding(where, f"profile '{name}' targets role '{role}', which this trial does not have")


@rule("TS-NAME-UNIQUE", "SPEC", "Spec names are unique in the specs folder: each owns a folder of output.")
def unique_name(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    first = _first_by_name(spec_set)[spec.name]
    if first is not spec:
        yield Finding(["metadata", "name"], f"spec name '{spec.name}' is also used in {first.document.file}")


_FIRST_BY_NAME: list[tuple[SpecSet, dict[str, TuningSpec]]] = []  # the last spec set's, made once for all its specs


def _first_by_name(spec_set: SpecSet) -> dict[str, TuningSpec]:
    """The first spec of each name, in the set's order: one pass for the whole set, not one per spec."""
    if _FIRST_BY_NAME and _FIRST_BY_NAME[0][0] is spec_set:
        return _FIRST_BY_NAME[0][1]
    first: dict[str, TuningSpec] = {}
    for spec in spec_set.specs:
        first.setdefault(spec.name, spec)
    _FIRST_BY_NAME[:] = [(spec_set, first)]
    return first


@rule("TS-NAME", "SPEC", "'<spec name>-<hash>' fits Katib's 40-character Experiment name limit (NAME-02).")
def name_length(spec: TuningSpec, _: SpecSet) -> Iterator[Finding]:
    if len(spec.name) + 1 + HASH_LENGTH > MAX_NAME:
        yield Finding(
            ["metadata", "name"],
            f"name is {len(spec.name)} characters; at most {MAX_NAME - 1 - HASH_LENGTH} leave room for the hash",
        )


# --------------------------------------------------------------- GitOps settings


@rule(
    "TS-GITOPS",
    "SPEC",
    "GitOps settings agree (an Argo CD destination by name or server, not both: util/argo/argo.go "
    "GetDestinationServer), and a spec's targets.clusters are declared, each destination given alike.",
)
def gitops_settings(spec: TuningSpec, spec_set: SpecSet) -> Iterator[Finding]:
    targets = spec_set.targets
    settings = targets.gitops
    declared = tuple(c.name for c in settings.clusters) if settings else ()
    for index, name in enumerate(spec.clusters):
        if name not in declared:
            where = (
                f"gitops.clusters of {targets.document.file}" if settings else f"{targets.document.file} (no gitops)"
            )
            yield Finding(
                ["spec", "targets", "clusters", index],
                f"cluster '{name}' is not declared in {where}",
                hint=_did_you_mean(name, declared) if declared else "declare it under gitops.clusters",
            )
    if settings is None:
        return
    named = [c for c in settings.clusters if c.name in spec.clusters]
    if "argocd" in settings.tools and len({bool(c.destination_name) for c in named}) > 1:
        by_name = ", ".join(c.name for c in named if c.destination_name)
        yield Finding(
            ["spec", "targets", "clusters"],
            f"these clusters give their Argo CD destination by destinationName ({by_name}), the others by server: "
            "one ApplicationSet fills one destination field",
            hint="give every cluster of this spec its destinationName (Argo CD names in-cluster 'in-cluster')",
        )
    if spec is spec_set.specs[0]:  # the Targets file's own settings: reported once
        yield from _gitops_targets(targets)


def _gitops_targets(targets: Targets) -> Iterator[Finding]:
    raw = targets.document.data["spec"]["gitops"]
    at = ["spec", "gitops"]
    argo, flux, tools = raw.get("argocd", {}), raw.get("flux", {}), raw.get("tools", ["argocd", "flux"])

    def finding(path: list[str | int], message: str, hint: str = "", *, warning: bool = False) -> Finding:
        severity = Severity.WARNING if warning else None
        return Finding([*at, *path], message, hint, severity=severity, document=targets.document, at_key=True)

    if "server" in argo and "destinationName" in argo:
        yield finding(
            ["argocd", "destinationName"],
            "argocd.destinationName and argocd.server both set: Argo CD refuses an Application destination with both",
            hint="keep one",
        )
    for name, cluster in raw.get("clusters", {}).items():
        if "server" in cluster and "destinationName" in cluster:
            yield finding(
                ["clusters", name, "destinationName"],
                f"cluster '{name}' sets destinationName and server: "
                "Argo CD refuses an Application destination with both",
                hint="keep one",
            )
        elif "argocd" in tools and not ("server" in cluster or "destinationName" in cluster):
            yield finding(
                ["clusters", name],
                f"cluster '{name}' has no Argo CD destination",
                hint="set its destinationName (the cluster's name in Argo CD) or server",
            )
    if argo.get("projectPerNamespace"):
        for key in ("project", "projects"):
            if key in argo:
                yield finding(
                    ["argocd", key],
                    f"argocd.{key} with argocd.projectPerNamespace: each namespace's Applications are in its own "
                    "AppProject",
                    hint=f"remove argocd.{key} or projectPerNamespace",
                )
    for namespace in argo.get("projects", {}):
        if namespace not in targets.namespaces:
            yield finding(
                ["argocd", "projects", namespace],
                f"argocd.projects names namespace '{namespace}', which is not declared in spec.namespaces",
                hint=_did_you_mean(namespace, targets.namespaces),
            )
    if "sourceRef" in flux:
        written = [f"flux.{k}" for k in ("secretRef",) if k in flux]
        written += ["names.gitRepository"] if "gitRepository" in raw.get("names", {}) else []
        for what in written:
            yield finding(
                [*what.split(".")],
                f"{what} with flux.sourceRef: no GitRepository is written, the Kustomizations use "
                f"{flux['sourceRef']['name']}",
                hint=f"remove {what}, or flux.sourceRef to write a GitRepository",
            )
    for tool, block in (("argocd", argo), ("flux", flux)):
        if block and tool not in tools:
            yield finding(
                [tool],
                f"{tool} settings, but gitops.tools does not include {tool}: nothing is written for {tool}",
                hint=f"add {tool} to gitops.tools, or remove these settings",
                warning=True,
            )
