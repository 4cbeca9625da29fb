"""ADMIT and ADMIT-CFG rules: what Katib's validating webhook refuses (katib-rules.md §1-11)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from katib_gitops.core.diagnostics import FindingsError, Severity
from katib_gitops.core.registry import Finding, rule
from katib_gitops.rules.framework import Context, get, hashable, is_blank, shared
from katib_gitops.yamlio.documents import load_documents

OBJECTIVE_TYPES = ("minimize", "maximize")
RESUME_POLICIES = ("", "Never", "LongRunning", "FromVolume")
PARAMETER_TYPES = ("int", "double", "categorical", "discrete", "unknown")
DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal", "unknown")
NAME_PREFIX = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")  # Go MatchString: unanchored (NAME-01)
PLACEHOLDER = re.compile(r"\$\{trialParameters\..+?\}")
META_REFERENCE = re.compile(r"\$\{trialSpec\.(.+?)\}")  # Katib's own pattern, unanchored
META_KEYS = ("Name", "Namespace", "Kind", "APIVersion", "Annotations", "Labels")
SPEC: tuple[str, ...] = ("spec",)
TEMPLATE: tuple[str, ...] = ("spec", "trialTemplate")
COLLECTOR: tuple[str, ...] = ("spec", "metricsCollectorSpec")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --------------------------------------------------------------- name (§1)


# What the API server appends to a generateName (k8s.io/apiserver pkg/storage/names/generate.go:
# the prefix cut to 58 characters, then 5 random ones), before Katib's validating webhook sees the name.
GENERATED_PREFIX_MAX, GENERATED_SUFFIX = 58, 5


def _judged_name(ctx: Context) -> tuple[tuple[str, ...], Any, int]:
    """Where the name Katib judges comes from, its first characters, and its length in bytes.

    With only a generateName, Katib sees the name the API server generated from it.
    """
    name = get(ctx.experiment, "metadata", "name")
    prefix = get(ctx.experiment, "metadata", "generateName")
    if (name is None or name == "") and isinstance(prefix, str) and prefix:
        cut = prefix.encode()[:GENERATED_PREFIX_MAX]
        return ("metadata", "generateName"), prefix, len(cut) + GENERATED_SUFFIX
    return ("metadata", "name"), name, len(name.encode()) if isinstance(name, str) else 0


@rule(
    "NAME-01",
    "ADMIT",
    "metadata.name starts with a lower-case letter (Katib checks its name pattern without an end anchor).",
)
def name_pattern(ctx: Context) -> Iterator[Finding]:
    path, name, _ = _judged_name(ctx)
    if not isinstance(name, str) or not NAME_PREFIX.match(name):
        what = "generateName" if path[-1] == "generateName" else "name"
        yield Finding(
            path,
            f"Experiment {what} {name!r} must start with a lower-case letter",
            "use lower-case letters, digits and '-', at most 40 characters",
        )


@rule("NAME-02", "ADMIT", "metadata.name is at most 40 characters (Katib >= 0.18).", since=(0, 18))
def name_length(ctx: Context) -> Iterator[Finding]:
    path, name, length = _judged_name(ctx)
    if isinstance(name, str) and NAME_PREFIX.match(name) and length > 40:
        generated = path[-1] == "generateName"
        yield Finding(
            path,
            f"the names generated from generateName are {length} characters, more than 40"
            if generated
            else f"Experiment name is {length} characters, more than 40",
            "Katib builds Trial, Deployment and PV names from it"
            + (f"; the API server appends {GENERATED_SUFFIX} characters to the prefix" if generated else ""),
        )


# --------------------------------------------------------------- counts (§2)


@rule("COUNT-01", "ADMIT", "spec.maxFailedTrialCount is not negative.")
def max_failed_not_negative(ctx: Context) -> Iterator[Finding]:
    value = _int(ctx.spec.get("maxFailedTrialCount"))
    if value is not None and value < 0:
        yield Finding(SPEC + ("maxFailedTrialCount",), f"maxFailedTrialCount is {value}; it must not be less than 0")


@rule("COUNT-02", "ADMIT", "spec.maxTrialCount is greater than 0.")
def max_trials_positive(ctx: Context) -> Iterator[Finding]:
    value = _int(ctx.spec.get("maxTrialCount"))
    if value is not None and value <= 0:
        yield Finding(SPEC + ("maxTrialCount",), f"maxTrialCount is {value}; it must be greater than 0")


@rule("COUNT-03", "ADMIT", "spec.parallelTrialCount is greater than 0.")
def parallel_positive(ctx: Context) -> Iterator[Finding]:
    value = _int(ctx.spec.get("parallelTrialCount"))
    if value is not None and value <= 0:
        yield Finding(SPEC + ("parallelTrialCount",), f"parallelTrialCount is {value}; it must be greater than 0")


@rule("COUNT-04", "ADMIT", "spec.maxFailedTrialCount is at most spec.maxTrialCount (Katib >= 0.15).", since=(0, 15))
def failed_within_max(ctx: Context) -> Iterator[Finding]:
    failed, limit = _int(ctx.spec.get("maxFailedTrialCount")), _int(ctx.spec.get("maxTrialCount"))
    if failed is not None and limit is not None and failed > limit:
        yield Finding(
            SPEC + ("maxFailedTrialCount",), f"maxFailedTrialCount ({failed}) is greater than maxTrialCount ({limit})"
        )


@rule(
    "COUNT-05",
    "ADMIT",
    "spec.parallelTrialCount (3 when unset, COUNT-06) is at most spec.maxTrialCount (Katib >= 0.15).",
    since=(0, 15),
)
def parallel_within_max(ctx: Context) -> Iterator[Finding]:
    parallel, limit = _int(ctx.spec.get("parallelTrialCount")), _int(ctx.spec.get("maxTrialCount"))
    if parallel is not None and limit is not None and parallel > limit:
        written = "parallelTrialCount" in (ctx.raw.get("spec") or {})
        hint = "" if written else "Katib defaults parallelTrialCount to 3; set it explicitly (COUNT-06)"
        yield Finding(
            SPEC + ("parallelTrialCount",),
            f"parallelTrialCount ({parallel}) is greater than maxTrialCount ({limit})",
            hint,
        )


# --------------------------------------------------------------- objective (§4)


@rule("OBJ-01", "ADMIT", "spec.objective is present.")
def objective_present(ctx: Context) -> Iterator[Finding]:
    if not isinstance(ctx.spec.get("objective"), dict) or not ctx.spec["objective"]:
        yield Finding(SPEC + ("objective",), "spec.objective must be specified")


@rule("OBJ-02", "ADMIT", "spec.objective.type is exactly minimize or maximize.")
def objective_type(ctx: Context) -> Iterator[Finding]:
    objective = ctx.spec.get("objective")
    if isinstance(objective, dict) and objective and objective.get("type") not in OBJECTIVE_TYPES:
        yield Finding(
            SPEC + ("objective", "type"), f"objective type {objective.get('type')!r} must be minimize or maximize"
        )


@rule("OBJ-03", "ADMIT", "spec.objective.objectiveMetricName is set.")
def objective_metric(ctx: Context) -> Iterator[Finding]:
    objective = ctx.spec.get("objective")
    if isinstance(objective, dict) and objective and is_blank(objective.get("objectiveMetricName")):
        yield Finding(SPEC + ("objective", "objectiveMetricName"), "objectiveMetricName must be specified")


@rule(
    "OBJ-04",
    "ADMIT",
    "spec.objective.additionalMetricNames does not contain the objective metric (Katib >= 0.14).",
    since=(0, 14),
)
def objective_not_additional(ctx: Context) -> Iterator[Finding]:
    objective = ctx.spec.get("objective")
    extra = objective.get("additionalMetricNames") if isinstance(objective, dict) else None
    if isinstance(objective, dict) and isinstance(extra, list) and objective.get("objectiveMetricName") in extra:
        index = extra.index(objective["objectiveMetricName"])
        yield Finding(
            SPEC + ("objective", "additionalMetricNames", index),
            "additionalMetricNames must not contain the objective metric",
        )


# --------------------------------------------------------------- algorithm, early stopping, resume (§5-7)


@rule("ALG-01", "ADMIT", "spec.algorithm is present.")
def algorithm_present(ctx: Context) -> Iterator[Finding]:
    if not isinstance(ctx.spec.get("algorithm"), dict):
        yield Finding(SPEC + ("algorithm",), "spec.algorithm must be specified")


@rule("ALG-02", "ADMIT", "spec.algorithm.algorithmName is set.")
def algorithm_name_set(ctx: Context) -> Iterator[Finding]:
    if isinstance(ctx.spec.get("algorithm"), dict) and is_blank(ctx.algorithm_name):
        yield Finding(SPEC + ("algorithm", "algorithmName"), "algorithmName must be specified")


@rule("ALG-03", "ADMIT-CFG", "The algorithm has a suggestion image in the katib-config (exact, case-sensitive name).")
def algorithm_configured(ctx: Context) -> Iterator[Finding]:
    if isinstance(ctx.spec.get("algorithm"), dict) and ctx.algorithm_name not in ctx.config.suggestions:
        known = ", ".join(sorted(ctx.config.suggestions))
        yield Finding(
            SPEC + ("algorithm", "algorithmName"),
            f"no suggestion for algorithm {ctx.algorithm_name!r} in {ctx.config.source}",
            f"known: {known}",
        )


@rule("ES-02", "ADMIT", "spec.earlyStopping, when present, names its algorithm.")
def early_stopping_named(ctx: Context) -> Iterator[Finding]:
    early = ctx.spec.get("earlyStopping")
    if isinstance(early, dict) and is_blank(early.get("algorithmName")):
        yield Finding(SPEC + ("earlyStopping", "algorithmName"), "earlyStopping.algorithmName must be specified")


@rule("ES-03", "ADMIT-CFG", "The early-stopping algorithm has an image in the katib-config.")
def early_stopping_configured(ctx: Context) -> Iterator[Finding]:
    early = ctx.spec.get("earlyStopping")
    name = early.get("algorithmName") if isinstance(early, dict) else None
    if isinstance(early, dict) and (not hashable(name) or name not in ctx.config.early_stoppings):
        known = ", ".join(sorted(ctx.config.early_stoppings))
        yield Finding(
            SPEC + ("earlyStopping", "algorithmName"),
            f"no early-stopping service {early.get('algorithmName')!r} in {ctx.config.source}",
            f"known: {known}",
        )


@rule("RP-01", "ADMIT", "spec.resumePolicy is Never, LongRunning or FromVolume.")
def resume_policy(ctx: Context) -> Iterator[Finding]:
    value = ctx.spec.get("resumePolicy", "")
    if value not in RESUME_POLICIES:
        yield Finding(
            SPEC + ("resumePolicy",), f"invalid resumePolicy {value!r}", "one of Never, LongRunning, FromVolume"
        )


# --------------------------------------------------------------- parameters (§8)


@rule("PARAM-01", "ADMIT", "spec.parameters or spec.nasConfig is given.")
def parameters_or_nas(ctx: Context) -> Iterator[Finding]:
    if is_blank(ctx.spec.get("parameters")) and ctx.spec.get("nasConfig") is None:
        yield Finding(SPEC, "spec.parameters or spec.nasConfig must be specified")


@rule("PARAM-02", "ADMIT", "spec.parameters and spec.nasConfig are not both given.")
def parameters_xor_nas(ctx: Context) -> Iterator[Finding]:
    if not is_blank(ctx.spec.get("parameters")) and ctx.spec.get("nasConfig") is not None:
        yield Finding(SPEC + ("nasConfig",), "only one of spec.parameters and spec.nasConfig can be specified")


@shared
def _parameters(ctx: Context) -> list[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """(index, parameter, feasibleSpace or {}) of each spec.parameters entry that is a mapping."""
    parameters = ctx.spec.get("parameters")
    found: list[tuple[int, Mapping[str, Any], Mapping[str, Any]]] = []
    for index, parameter in enumerate(parameters if isinstance(parameters, list) else []):
        if isinstance(parameter, dict):
            space = parameter.get("feasibleSpace")
            found.append((index, parameter, space if isinstance(space, dict) else {}))
    return found


@rule("PARAM-03", "ADMIT", "parameterType is int, double, categorical, discrete or unknown.")
def parameter_type(ctx: Context) -> Iterator[Finding]:
    for index, parameter, _ in _parameters(ctx):
        if parameter.get("parameterType") not in PARAMETER_TYPES:
            yield Finding(
                SPEC + ("parameters", index, "parameterType"),
                f"parameterType {parameter.get('parameterType')!r} is not supported",
            )


@rule(
    "PARAM-04",
    "ADMIT",
    "feasibleSpace.distribution is uniform, logUniform, normal, logNormal or unknown (Katib >= 0.18).",
    since=(0, 18),
)
def parameter_distribution(ctx: Context) -> Iterator[Finding]:
    for index, _, space in _parameters(ctx):
        value = space.get("distribution", "")
        if value not in ("", *DISTRIBUTIONS):
            yield Finding(
                SPEC + ("parameters", index, "feasibleSpace", "distribution"),
                f"distribution {value!r} is not supported",
            )


@rule("PARAM-07", "ADMIT", "int and double parameters take min/max, not a list.")
def numeric_without_list(ctx: Context) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") in ("int", "double") and not is_blank(space.get("list")):
            yield Finding(
                SPEC + ("parameters", index, "feasibleSpace", "list"),
                f"feasibleSpace.list is not supported for {parameter['parameterType']}",
            )


@rule("PARAM-08", "ADMIT", "int and double parameters have both min and max (Katib >= 0.18; before, at least one).")
def numeric_bounds(ctx: Context) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") not in ("int", "double"):
            continue
        missing = [k for k in ("min", "max") if is_blank(space.get(k))]
        if missing and (ctx.version >= (0, 18) or len(missing) == 2):
            yield Finding(
                SPEC + ("parameters", index, "feasibleSpace", "max"),
                f"feasibleSpace.{' and '.join(missing)} must be specified for {parameter['parameterType']}",
            )


@rule("PARAM-09", "ADMIT", "categorical and discrete parameters take a list, not min/max/step.")
def list_without_bounds(ctx: Context) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") in ("categorical", "discrete"):
            extra = [k for k in ("min", "max", "step") if not is_blank(space.get(k))]
            if extra:
                yield Finding(
                    SPEC + ("parameters", index, "feasibleSpace", extra[0]),
                    f"feasibleSpace .{', .'.join(extra)} not supported for {parameter['parameterType']}",
                )


# --------------------------------------------------------------- trial template (§10)


def _template(ctx: Context) -> Mapping[str, Any] | None:
    value = ctx.spec.get("trialTemplate")
    return value if isinstance(value, dict) else None


@rule("TT-01", "ADMIT", "spec.trialTemplate is present.")
def template_present(ctx: Context) -> Iterator[Finding]:
    if _template(ctx) is None:
        yield Finding(TEMPLATE, "spec.trialTemplate must be specified")


@rule("TT-02", "ADMIT", "trialTemplate.primaryContainerName is set.")
def primary_container_set(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is not None and is_blank(template.get("primaryContainerName")):
        yield Finding(TEMPLATE + ("primaryContainerName",), "primaryContainerName must be specified")


@rule(
    "TT-03",
    "ADMIT",
    "successCondition and failureCondition are set (Katib fills them only for Job, TFJob, PyTorchJob, XGBoostJob, "
    "MPIJob, TrainJob).",
)
def conditions_set(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is not None and (
        is_blank(template.get("successCondition")) or is_blank(template.get("failureCondition"))
    ):
        yield Finding(
            TEMPLATE,
            "successCondition and failureCondition must be specified",
            "Katib has no default for this trial kind or for configMap sources",
        )


@rule("TT-04", "ADMIT", "trialTemplate.trialParameters is present and not empty.")
def trial_parameters_present(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is not None and is_blank(template.get("trialParameters")):
        yield Finding(TEMPLATE + ("trialParameters",), "trialParameters must be specified")


@rule("TT-05", "ADMIT", "The trial template has a trialSpec or a configMap.")
def template_source(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is not None and template.get("trialSpec") is None and template.get("configMap") is None:
        yield Finding(TEMPLATE, "trialSpec or configMap must be specified")


@rule("TT-06", "ADMIT", "The trial template does not have both a trialSpec and a configMap.")
def template_single_source(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is not None and template.get("trialSpec") is not None and template.get("configMap") is not None:
        yield Finding(TEMPLATE + ("configMap",), "only one of trialSpec or configMap can be specified")


@rule("TT-07", "ADMIT", "A configMap source names configMapName, configMapNamespace and templatePath.")
def config_map_complete(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    source = template.get("configMap") if template is not None else None
    if isinstance(source, dict):
        missing = [k for k in ("configMapName", "configMapNamespace", "templatePath") if is_blank(source.get(k))]
        if missing:
            yield Finding(TEMPLATE + ("configMap",), f"configMap needs {', '.join(missing)}")


def _accepted_trial_parameters(template: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any], str | None]]:
    """(index, entry, problem) per trialParameter, in Katib's order: TT-10, then TT-11, then TT-12."""
    names: set[str] = set()
    references: set[str] = set()
    entries = template.get("trialParameters")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        entry = entry if isinstance(entry, dict) else {}
        name, reference = entry.get("name"), entry.get("reference")
        if is_blank(name) or is_blank(reference) or "{" in str(name) or "}" in str(name):
            yield index, entry, "TT-10"
        elif hashable(name) and name in names:
            yield index, entry, "TT-11"
        elif hashable(reference) and reference in references:
            yield index, entry, "TT-12"
        else:
            names.add(str(name))
            references.add(str(reference))
            yield index, entry, None


@shared
def _trial_parameters(ctx: Context) -> list[tuple[int, Mapping[str, Any], str | None]]:
    """_accepted_trial_parameters of the trial template; none without a template."""
    template = _template(ctx)
    return [] if template is None else list(_accepted_trial_parameters(template))


def _trial_parameter_problems(ctx: Context, wanted: str) -> Iterator[Finding]:
    messages = {
        "TT-10": ((), "name and reference must be specified, and the name must not contain '{{' or '}}'"),
        "TT-11": (("name",), "trialParameter name {name!r} is duplicated"),
        "TT-12": (("reference",), "trialParameter reference {reference!r} is duplicated"),
    }
    for index, entry, problem in _trial_parameters(ctx):
        if problem == wanted:
            suffix, text = messages[wanted]
            yield Finding(
                TEMPLATE + ("trialParameters", index, *suffix),
                text.format(name=entry.get("name"), reference=entry.get("reference")),
            )


@rule("TT-10", "ADMIT", "Every trialParameter has a name and a reference; names contain no braces.")
def trial_parameter_complete(ctx: Context) -> Iterator[Finding]:
    yield from _trial_parameter_problems(ctx, "TT-10")


@rule("TT-11", "ADMIT", "trialParameter names are unique.")
def trial_parameter_names_unique(ctx: Context) -> Iterator[Finding]:
    yield from _trial_parameter_problems(ctx, "TT-11")


@rule("TT-12", "ADMIT", "trialParameter references are unique.")
def trial_parameter_references_unique(ctx: Context) -> Iterator[Finding]:
    yield from _trial_parameter_problems(ctx, "TT-12")


def is_meta_reference(reference: str) -> bool:
    """TT-14: `${trialSpec.Name}`, `${trialSpec.Labels[key]}`, ..."""
    match = META_REFERENCE.search(reference)
    if not match:
        return False
    key = match.group(1)
    return key in META_KEYS or any(key.startswith(f"{k}[") and key.endswith("]") for k in META_KEYS)


@rule(
    "TT-13",
    "ADMIT",
    "Each non-metadata trialParameter reference names a spec.parameters entry (when parameters are given).",
)
def trial_parameter_reference_exists(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    names = {name for name in (p.get("name") for p in ctx.parameters) if hashable(name)}
    if template is None or not names:
        return
    for index, entry, problem in _trial_parameters(ctx):
        reference = str(entry.get("reference"))
        if problem is None and not is_meta_reference(reference) and reference not in names:
            yield Finding(
                TEMPLATE + ("trialParameters", index, "reference"),
                f"reference {reference!r} does not exist in spec.parameters",
            )


def template_text(template: Mapping[str, Any], ctx: Context) -> str | None:
    """What Katib searches for placeholders (TT-09): the trialSpec as JSON, or the text of a configMap
    source when it was given (--trial-templates); None when it cannot be known."""
    trial_spec = template.get("trialSpec")
    if trial_spec is None:
        source = template.get("configMap")
        if not isinstance(source, dict):
            return None
        return ctx.trial_template_text(*(str(source.get(k) or "") for k in CONFIGMAP_KEYS))
    return json.dumps(trial_spec, separators=(",", ":"), ensure_ascii=False)


@shared
def _template_text(ctx: Context) -> str | None:
    """template_text of the trial template; None without a template."""
    template = _template(ctx)
    return template_text(template, ctx) if template is not None else None


CONFIGMAP_KEYS = ("configMapNamespace", "configMapName", "templatePath")


@rule(
    "TT-17",
    "ADMIT",
    "A configMap trial template, its placeholders filled in, reads as one object (checked when --trial-templates "
    "gives it).",
)
def configmap_template_parses(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is None or "trialSpec" in template:
        return  # a trialSpec is an object already
    text = _template_text(ctx)
    if text is None:
        return
    try:
        documents = load_documents(PLACEHOLDER.sub("0", text), _source_name(template), strict=False)
    except FindingsError as exc:
        problem = exc.diagnostics[0]
        yield Finding(
            TEMPLATE + ("configMap",),
            f"unable to convert the {_source_name(template)} to an object: line {problem.line}: {problem.message}",
        )
        return
    first = documents[0].data if documents else None  # Katib reads the first document
    if not isinstance(first, dict):
        yield Finding(
            TEMPLATE + ("configMap",),
            f"unable to convert the {_source_name(template)} to an object: it is "
            f"{'empty' if first is None else 'a ' + type(first).__name__}",
        )


def _source_name(template: Mapping[str, Any]) -> str:
    if "trialSpec" in template:
        return "trialSpec"
    source = template.get("configMap") or {}
    return (
        f"trial template {source.get('configMapNamespace')}/{source.get('configMapName')}[{source.get('templatePath')}]"
    )


@rule(
    "TT-08",
    "ADMIT-CFG",
    "A configMap trial template exists: the ConfigMap and its key (checked against --trial-templates when given; "
    "without it, a note says the template went unchecked).",
)
def configmap_template_exists(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    source = template.get("configMap") if template is not None and "trialSpec" not in template else None
    if not isinstance(source, dict) or not all(source.get(k) for k in CONFIGMAP_KEYS):
        return  # TT-07 reports missing fields
    namespace, name, key = (str(source[k]) for k in CONFIGMAP_KEYS)
    if not ctx.trial_templates:
        yield Finding(
            TEMPLATE + ("configMap",),
            f"trial template {namespace}/{name}[{key}] not checked: whether it exists (TT-08), holds every "
            "trialParameter (TT-15, TT-16) and reads as an object (TT-17) is up to the cluster's ConfigMap",
            "pass the ConfigMap that holds the template with --trial-templates",
            Severity.NOTE,
        )
        return
    if ctx.trial_template_text(namespace, name, key) is None:
        yield Finding(
            TEMPLATE + ("configMap",),
            f"unable to parse spec.trialTemplate: no key {key} in ConfigMap {namespace}/{name} among the trial "
            "templates given",
            "pass the ConfigMap that holds the template with --trial-templates, or fix the reference",
        )


@rule(
    "TT-15",
    "ADMIT",
    "Every trialParameter appears as ${trialParameters.<name>} in the trial template (trialSpec, or a configMap "
    "template given with --trial-templates).",
)
def trial_parameter_used(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    text = _template_text(ctx)
    if template is None or text is None:
        return
    for index, entry, problem in _trial_parameters(ctx):
        if problem is None and f"${{trialParameters.{entry['name']}}}" not in text:
            yield Finding(
                TEMPLATE + ("trialParameters", index, "name"),
                f"${{trialParameters.{entry['name']}}} does not appear in the {_source_name(template)}",
            )
            return  # Katib stops here (TT-15)


@rule(
    "TT-16",
    "ADMIT",
    "Every ${trialParameters.x} in the trial template (trialSpec, or a configMap template given with "
    "--trial-templates) is a declared trialParameter.",
)
def placeholders_declared(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    text = _template_text(ctx)
    if template is None or text is None:
        return
    for _, entry, problem in _trial_parameters(ctx):
        if problem is None:
            text = text.replace(f"${{trialParameters.{entry['name']}}}", "x")
    unknown = sorted(set(PLACEHOLDER.findall(text)))
    if unknown:
        where = "trialSpec" if "trialSpec" in template else "configMap"
        yield Finding(TEMPLATE + (where,), f"{', '.join(unknown)} not found in spec.trialTemplate.trialParameters")


@rule("TT-18", "ADMIT", "The trialSpec sets neither metadata.name nor metadata.namespace; Katib sets both per trial.")
def trial_spec_unnamed(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    metadata = get(template, "trialSpec", "metadata") if template is not None else None
    if isinstance(metadata, dict):
        for key in ("name", "namespace"):
            if not is_blank(metadata.get(key)):
                yield Finding(TEMPLATE + ("trialSpec", "metadata", key), f"trialSpec metadata.{key} must be omitted")


@rule("TT-19", "ADMIT", "The trialSpec has apiVersion and kind.")
def trial_spec_typed(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    trial_spec = template.get("trialSpec") if template is not None else None
    if isinstance(trial_spec, dict) and (is_blank(trial_spec.get("apiVersion")) or is_blank(trial_spec.get("kind"))):
        yield Finding(TEMPLATE + ("trialSpec",), "trialSpec apiVersion and kind must be specified")


# --------------------------------------------------------------- metrics collector (§11)

COLLECTOR_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push")
CONFIGURED_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric")


@shared
def _collector(ctx: Context) -> tuple[str, Mapping[str, Any]]:
    spec = ctx.spec.get("metricsCollectorSpec")
    spec = spec if isinstance(spec, dict) else {}
    source = spec.get("source")
    return str(get(spec, "collector", "kind") or ""), source if isinstance(source, dict) else {}


def _collector_kinds(ctx: Context) -> tuple[str, ...]:
    return COLLECTOR_KINDS if ctx.version >= (0, 18) else tuple(k if k != "Push" else "None" for k in COLLECTOR_KINDS)


@rule(
    "MC-03",
    "ADMIT",
    "The collector kind is StdOut, File, TensorFlowEvent, PrometheusMetric, Custom or Push ('None' before Katib 0.18).",
)
def collector_kind(ctx: Context) -> Iterator[Finding]:
    kind, _ = _collector(ctx)
    if kind not in _collector_kinds(ctx):
        hint = "'None' was renamed 'Push' in Katib 0.18" if kind == "None" else ""
        yield Finding(COLLECTOR + ("collector", "kind"), f"invalid metrics collector kind {kind!r}", hint)


@rule(
    "MC-02",
    "ADMIT-CFG",
    "StdOut, File, TensorFlowEvent and PrometheusMetric collectors have an image in the katib-config.",
)
def collector_configured(ctx: Context) -> Iterator[Finding]:
    kind, _ = _collector(ctx)
    if kind in CONFIGURED_KINDS and kind not in ctx.config.collectors:
        yield Finding(
            COLLECTOR + ("collector", "kind"),
            f"no metrics collector {kind!r} in {ctx.config.source}",
            "add it to runtime.metricsCollectors of the katib-config",
        )


def _file_path(source: Mapping[str, Any]) -> Mapping[str, Any]:
    value = source.get("fileSystemPath")
    return value if isinstance(value, dict) else {}


@rule("MC-05", "ADMIT", "A File collector reads an absolute file path (fileSystemPath.kind File).")
def file_collector_path(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    path = _file_path(source)
    if kind == "File" and (path.get("kind") != "File" or not str(path.get("path", "")).startswith("/")):
        yield Finding(
            COLLECTOR + ("source", "fileSystemPath", "path"),
            "file path where metrics file exists is required (absolute, kind File)",
        )


@rule("MC-06", "ADMIT", "A File collector's format is TEXT or JSON.")
def file_collector_format(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    if kind == "File" and _file_path(source).get("format") not in ("TEXT", "JSON"):
        yield Finding(COLLECTOR + ("source", "fileSystemPath", "format"), "format must be TEXT or JSON")


@rule("MC-07", "ADMIT", "A JSON metrics file takes no filter.")
def json_without_filter(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    if kind == "File" and _file_path(source).get("format") == "JSON" and "filter" in source:
        yield Finding(COLLECTOR + ("source", "filter"), "filter must be nil when the metrics file format is JSON")


@rule("MC-08", "ADMIT", "A TensorFlowEvent collector reads an absolute directory (fileSystemPath.kind Directory).")
def tfevent_directory(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    path = _file_path(source)
    if kind == "TensorFlowEvent" and (path.get("kind") != "Directory" or not str(path.get("path", "")).startswith("/")):
        yield Finding(COLLECTOR + ("source",), "directory path where tensorflow event files exist is required")


@rule("MC-09", "ADMIT", "A TensorFlowEvent collector has no format.")
def tfevent_no_format(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    if kind == "TensorFlowEvent" and not is_blank(_file_path(source).get("format")):
        yield Finding(COLLECTOR + ("source", "fileSystemPath", "format"), "format must be empty for TensorFlowEvent")


@rule("MC-10", "ADMIT", "A PrometheusMetric collector's port is a positive integer.")
def prometheus_port(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    port = get(source, "httpGet", "port")
    if kind == "PrometheusMetric" and not (str(port).isdigit() and int(str(port)) > 0):
        yield Finding(COLLECTOR + ("source", "httpGet", "port"), f"port {port!r} must be a positive integer")


@rule("MC-11", "ADMIT", "A PrometheusMetric collector's path starts with '/'.")
def prometheus_path(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    if kind == "PrometheusMetric" and not str(get(source, "httpGet", "path") or "").startswith("/"):
        yield Finding(COLLECTOR + ("source", "httpGet", "path"), "path must start with '/'")


@rule("MC-12", "ADMIT", "A Custom collector gives its container (customCollector).")
def custom_container(ctx: Context) -> Iterator[Finding]:
    kind, _ = _collector(ctx)
    spec = ctx.spec.get("metricsCollectorSpec")
    if kind == "Custom" and is_blank(get(spec, "collector", "customCollector")):
        yield Finding(
            COLLECTOR + ("collector", "customCollector"), "customCollector must be specified for a Custom collector"
        )


@rule("MC-13", "ADMIT", "A Custom collector's fileSystemPath, when given, is absolute and of kind File or Directory.")
def custom_source(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    path = source.get("fileSystemPath")
    if (
        kind == "Custom"
        and isinstance(path, dict)
        and (path.get("kind") not in ("File", "Directory") or not str(path.get("path", "")).startswith("/"))
    ):
        yield Finding(
            COLLECTOR + ("source", "fileSystemPath"),
            "source is invalid: an absolute path of kind File or Directory is required",
        )


@rule(
    "MC-14",
    "ADMIT",
    "Each filter.metricsFormat is a valid regular expression with two groups: metric name, then value.",
)
def filter_formats(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    formats = get(source, "filter", "metricsFormat")
    if kind not in ("File", "TensorFlowEvent", "PrometheusMetric", "Custom") or not isinstance(formats, list):
        return
    for index, pattern in enumerate(formats):
        where: tuple[str | int, ...] = (*COLLECTOR, "source", "filter", "metricsFormat", index)
        try:
            re.compile(str(pattern))
        except re.error as exc:
            yield Finding(where, f"invalid filter: {exc}")
            continue
        if not re.fullmatch(r".*\(.*\).*\(.*\).*", str(pattern), re.DOTALL):
            yield Finding(where, "two top subexpressions are required: metric name, then value")
