"""The import's reverse mapping: an Experiment's metadata, objective, algorithm, budget and search as spec fields."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from katib_gitops.commands.importer.compare import GENERATOR_ANNOTATIONS, GENERATOR_LABELS, LAST_APPLIED
from katib_gitops.core.diagnostics import Diagnostic, FindingsError
from katib_gitops.core.kinds import DEFAULT_COLLECTOR_PATHS, TrialKind
from katib_gitops.core.registry import declare
from katib_gitops.expand.experiment import (
    LABEL_SPEC,
    MANAGED_BY,
    METADATA_REFERENCE,
    SAFETY_ANNOTATIONS,
    default_description,
    default_pod_labels,
    katib_string,
)
from katib_gitops.spec.model import camel_case
from katib_gitops.yamlio.documents import Document

MAX_SPEC_NAME = 31

# Rule IDs of import refusals (documented in docs/migration.md).
RULE_UNSUPPORTED = declare(  # ConfigMap templates, trialParameters out of order, ...
    "import-unsupported",
    "IMPORT",
    "The Experiment uses what a TuningSpec cannot say (NAS, a ConfigMap template, metadata trialParameters).",
).id
_RULE_NUMBER = declare(  # a feasibleSpace string no spec number writes back
    "import-number", "IMPORT", "Every feasibleSpace bound is a number literal."
).id

_INT_LITERAL = re.compile(r"[+-]?[0-9]+")
_DOUBLE_LITERAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


# =================================================================== values


def number(text: Any, integer: bool) -> int | float | None:
    """The spec number that the generator writes back as exactly `text`, if any ("0.01" -> 0.01, "1e-3" -> None)."""
    if not isinstance(text, str):
        return None
    try:
        whole = int(text)
    except ValueError:
        whole = None
    if whole is not None and str(whole) == text:
        return whole
    if integer:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if katib_string(value) == text and value == value and abs(value) != float("inf") else None


def _spec_number(text: Any, integer: bool) -> int | float | str | None:
    """The spec value for a feasibleSpace bound: a number when it writes back as `text`, else the text itself
    when it is a number literal the spec accepts as a string ("0.00"); None when it is no number at all."""
    found = number(text, integer)
    if found is not None:
        return found
    literal = _INT_LITERAL if integer else _DOUBLE_LITERAL
    return text if isinstance(text, str) and literal.fullmatch(text) else None


def typed_setting(value: Any) -> Any:
    """An algorithm setting as a typed spec value, only where katib_string gives the same text back."""
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    found = number(value, integer=False)
    return value if found is None else found


# =================================================================== metadata


def spec_name(raw: str) -> str:
    """A valid spec name (DNS-1035 label, at most 31 characters) close to `raw`."""
    text = re.sub(r"[^a-z0-9-]+", "-", raw.lower())
    text = re.sub(r"-+", "-", text).strip("-")
    text = re.sub(r"^[^a-z]+", "", text) or "imported"
    if len(text) > MAX_SPEC_NAME:
        cut = text[:MAX_SPEC_NAME]
        text = cut[: cut.rfind("-")] if "-" in cut[MAX_SPEC_NAME // 2 :] else cut
    return text.rstrip("-")


def name_of(meta: Mapping[str, Any]) -> tuple[str, str]:
    """The spec name for an Experiment's metadata, and a note when it is not the Experiment's name."""
    labels = meta.get("labels") or {}
    if labels.get(LABEL_SPEC):
        return spec_name(str(labels[LABEL_SPEC])), ""
    raw = str(meta.get("name") or str(meta.get("generateName") or "").rstrip("-") or "imported")
    name = spec_name(raw)
    if name == raw:
        return name, ""
    return name, (
        f"spec name '{name}' (from Experiment name '{raw}': "
        f"specs take at most {MAX_SPEC_NAME} characters, a-z, 0-9 and '-')"
    )


def spec_head(name: str, meta: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    """The spec's metadata: its name and the labels and annotations the generator does not write itself."""
    head: dict[str, Any] = {"name": name}
    for key, owned in (("labels", GENERATOR_LABELS), ("annotations", GENERATOR_ANNOTATIONS | {LAST_APPLIED})):
        values = meta.get(key) or {}
        kept = {k: v for k, v in values.items() if k not in owned}
        replaced = sorted(
            k
            for k, v in values.items()
            if k in owned and k != LAST_APPLIED and _generator_value(key, k) not in (None, v)
        )
        if replaced:
            notes.append(f"{key} {', '.join(replaced)}: the generator writes its own value")
        if LAST_APPLIED in values and key == "annotations":
            notes.append(f"annotation {LAST_APPLIED} dropped")
        if kept:
            head[key] = dict(kept)
    return head


def _generator_value(where: str, key: str) -> str | None:
    fixed = {**MANAGED_BY} if where == "labels" else {**SAFETY_ANNOTATIONS}
    return fixed.get(key)


# =================================================================== the parts around the trial


def objective_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": raw["type"]}
    if raw.get("goal") is not None:
        out["goal"] = raw["goal"]
    out["metric"] = raw["objectiveMetricName"]
    if raw.get("additionalMetricNames"):
        out["additionalMetrics"] = list(raw["additionalMetricNames"])
    default = "min" if raw["type"] == "minimize" else "max"
    strategies = {s["name"]: s["value"] for s in raw.get("metricStrategies") or [] if s.get("value") != default}
    if strategies:
        out["strategies"] = strategies
    return out


def algorithm_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": raw["algorithmName"]}
    settings = {str(s.get("name")): typed_setting(s.get("value")) for s in raw.get("algorithmSettings") or []}
    if settings:
        out["settings"] = settings
    return out


def budget_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for source, target in (
        ("maxTrialCount", "maxTrials"),
        ("parallelTrialCount", "parallelTrials"),
        ("maxFailedTrialCount", "maxFailedTrials"),
    ):
        if spec.get(source) is not None:
            out[target] = spec[source]
    if spec.get("resumePolicy", "Never") != "Never":
        out["resumePolicy"] = spec["resumePolicy"]
    return out


def collector_of(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The spec's metricsCollector for a defaulted metricsCollectorSpec (None: the StdOut default)."""
    kind = (raw.get("collector") or {}).get("kind", "StdOut")
    source = raw.get("source") or {}
    files = source.get("fileSystemPath") or {}
    out: dict[str, Any] = {"kind": kind}
    if kind in DEFAULT_COLLECTOR_PATHS and files.get("path") != DEFAULT_COLLECTOR_PATHS[kind]:
        out["path"] = files.get("path")
    if kind == "File" and files.get("format", "TEXT") != "TEXT":
        out["format"] = files["format"]
    if kind == "PrometheusMetric":
        http = source.get("httpGet") or {}
        out.update(
            {k: http[k] for k, default in (("path", "/metrics"), ("port", 8080)) if http.get(k, default) != default}
        )
    if kind == "Custom":
        out["container"] = copy.deepcopy(raw["collector"].get("customCollector") or {})
        if files.get("path"):
            out["path"] = files["path"]
    if (source.get("filter") or {}).get("metricsFormat"):
        out["filter"] = list(source["filter"]["metricsFormat"])
    return None if out == {"kind": "StdOut"} else out


def template_fields(
    template: Mapping[str, Any], kind: TrialKind | None, collector: dict[str, Any] | None
) -> dict[str, Any]:
    """The trial's primaryContainer, conditions, pod labels, collector and retain, where not the defaults."""
    trial_spec = template.get("trialSpec") or {}
    out: dict[str, Any] = {}
    container = template.get("primaryContainerName")
    if container != (kind.container if kind else "main"):
        out["primaryContainer"] = container
    for key, default in (
        ("successCondition", kind.success if kind else None),
        ("failureCondition", kind.failure if kind else None),
    ):
        if template.get(key) and template[key] != default:
            out[key] = template[key]
    labels = dict(template.get("primaryPodLabels") or {})
    if labels != dict(default_pod_labels(kind, trial_spec)):
        out["primaryPodLabels"] = labels
    if collector is not None:
        out["metricsCollector"] = collector
    if template.get("retain"):
        out["retain"] = True
    return out


# =================================================================== the search


def parameters_of(document: Document, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Spec parameters (without `pass`), checked one to one against the trialParameters."""
    template = spec["trialTemplate"]
    entries = [e for e in template.get("trialParameters") or [] if not _is_metadata(e)]
    if "nasConfig" in spec:  # the trialParameters carry the algorithm's assignments: nas_of
        return []
    raw = spec["parameters"]
    _check_trial_parameters(document, raw, template.get("trialParameters") or [])
    out, problems = [], []
    # _check_trial_parameters made them one to one.
    for index, (parameter, entry) in enumerate(zip(raw, entries, strict=True)):
        item, found = _parameter(document, index, parameter, entry)
        out.append(item)
        problems.extend(found)
    if problems:
        raise FindingsError(problems)
    return out


def _is_metadata(entry: Any) -> bool:
    return isinstance(entry, Mapping) and str(entry.get("reference", "")).startswith(METADATA_REFERENCE)


def metadata_parameters_of(template: Mapping[str, Any]) -> list[dict[str, str]]:
    """trial.metadataParameters: the trialParameters that read the trial's own metadata (TT-14)."""
    out = []
    for entry in template.get("trialParameters") or []:
        if _is_metadata(entry):
            item = {"name": str(entry["name"]), "reference": str(entry["reference"])}
            if entry.get("description") and entry["description"] != default_description(item["reference"]):
                item["description"] = str(entry["description"])
            out.append(item)
    return out


def nas_of(document: Document, spec: Mapping[str, Any]) -> dict[str, Any]:
    """spec.nas: the graph, the operations with their parameters in the spec's form, and the trials' assignments."""
    config = spec["nasConfig"]
    operations, problems = [], []
    for i, operation in enumerate(config.get("operations") or []):
        item: dict[str, Any] = {"type": operation.get("operationType")}
        if "parameters" in operation:
            item["parameters"] = []
            for j, raw in enumerate(operation["parameters"] or []):
                where = ["spec", "nasConfig", "operations", i, "parameters", j, "feasibleSpace"]
                converted, found = _operation_parameter(document, raw, where)
                item["parameters"].append(converted)
                problems += found
        operations.append(item)
    if problems:
        raise FindingsError(problems)
    assignments = []
    for entry in _leading_trial_parameters(document, spec["trialTemplate"].get("trialParameters") or []):
        item = {"name": str(entry["name"]), "reference": str(entry["reference"])}
        if entry.get("description") and entry["description"] != default_description(item["reference"], nas=True):
            item["description"] = str(entry["description"])
        assignments.append(item)
    return {"graph": dict(config.get("graphConfig") or {}), "operations": operations, "assignments": assignments}


def _operation_parameter(
    document: Document, raw: Mapping[str, Any], where: list[Any]
) -> tuple[dict[str, Any], list[Diagnostic]]:
    kind = raw.get("parameterType")
    values, problems = _space_values(document, kind, raw.get("feasibleSpace") or {}, where)
    return {"name": raw.get("name"), "type": kind, **values}, problems


def _leading_trial_parameters(document: Document, entries: list[Any]) -> list[Any]:
    """The trialParameters before those that read trial metadata, which a spec writes last (refused otherwise)."""
    first_meta = next((i for i, e in enumerate(entries) if _is_metadata(e)), len(entries))
    for index, entry in enumerate(entries[first_meta:], first_meta):
        if not _is_metadata(entry):
            raise FindingsError(
                [
                    document.diagnostic(
                        ["spec", "trialTemplate", "trialParameters", index],
                        RULE_UNSUPPORTED,
                        f"trialParameter '{entry.get('name')}' comes after one that reads trial metadata: "
                        "a spec writes those last",
                        hint="move the trialParameters that reference ${trialSpec...} to the end",
                    )
                ]
            )
    return entries[:first_meta]


def _check_trial_parameters(document: Document, parameters: list[Any], entries: list[Any]) -> None:
    where = ["spec", "trialTemplate", "trialParameters"]
    entries = _leading_trial_parameters(document, entries)
    names = [str(p.get("name")) for p in parameters]
    references = [str(e.get("reference", "")) for e in entries]
    if names != references:
        raise FindingsError(
            [
                document.diagnostic(
                    where,
                    RULE_UNSUPPORTED,
                    f"trialParameters reference {references}, but a spec writes one per parameter, in order: {names}",
                    hint="reorder trialParameters to follow spec.parameters, or add the missing ones",
                )
            ]
        )


def _parameter(
    document: Document, index: int, raw: Mapping[str, Any], entry: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Diagnostic]]:
    kind = raw["parameterType"]
    space = raw.get("feasibleSpace") or {}
    values, problems = _space_values(document, kind, space, ["spec", "parameters", index, "feasibleSpace"])
    out: dict[str, Any] = {"name": raw["name"], "type": kind, **values}
    if space.get("distribution", "uniform") != "uniform":
        out["distribution"] = space["distribution"]
    if entry["name"] != camel_case(raw["name"]):
        out["trialParameter"] = entry["name"]
    if entry.get("description") and entry["description"] != default_description(raw["name"]):
        out["description"] = entry["description"]
    return out, problems


def _space_values(
    document: Document, kind: Any, space: Mapping[str, Any], where: list[Any]
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """A feasibleSpace's min/max/step or values in the spec's form; `where` is the feasibleSpace's path."""
    out: dict[str, Any] = {}
    found: list[tuple[list[Any], Any, Any]] = []  # (path, text, spec value)
    if kind in ("int", "double"):
        for key in ("min", "max", "step"):
            if key in space:
                out[key] = _spec_number(space[key], integer=kind == "int")
                found.append(([*where, key], space[key], out[key]))
    elif kind == "discrete":
        texts = space.get("list") or []
        out["values"] = [_spec_number(v, integer=False) for v in texts]
        found += [
            ([*where, "list", i], text, value) for i, (text, value) in enumerate(zip(texts, out["values"], strict=True))
        ]
    else:
        out["values"] = list(space.get("list") or [])
    problems = [
        document.diagnostic(
            path,
            _RULE_NUMBER,
            f"{text!r} is not a number literal ({kind})",
            hint="Katib parses feasibleSpace values as numbers; fix the value in the Experiment first",
        )
        for path, text, value in found
        if value is None
    ]
    return out, problems
