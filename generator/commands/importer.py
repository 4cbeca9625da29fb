"""Import stage: Katib v1beta1 Experiments become TuningSpecs, plus the Targets entries they need.

The core is pure: `import_experiment` turns one Experiment document into a spec
(a plain dict), the namespace and the profile it was inferred to run with, and
notes. Every import is proven before it is returned: the spec is written out,
read back, built through the generator with that profile, and must equal the
source Experiment after Katib's defaulting, apart from the documented
differences (`comparable`): the name, the namespace, the generator's labels and
annotations, the Istio opt-out on pod templates of known kinds, default
trialParameter descriptions and the order of metricStrategies. The short form is tried first, the raw trialSpec
escape hatch next; an Experiment neither reproduces is refused, never changed.

`merge_imports` folds the results into a Targets document (reusing identical
profiles); `plan_import` and `write_plan` are the I/O edge the CLI calls.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from katib_gitops.core import kinds
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity, UsageError
from katib_gitops.core.kinds import TrialKind
from katib_gitops.expand.experiment import (
    ANNOTATION_PROFILE,
    DEFAULT_COLLECTOR_PATHS,
    LABEL_SPEC,
    MANAGED_BY,
    METADATA_REFERENCE,
    SAFETY_ANNOTATIONS,
    build_experiment,
    default_description,
    default_pod_labels,
    katib_string,
)
from katib_gitops.rules import spec_checks
from katib_gitops.schema import ours
from katib_gitops.spec.model import (
    API_VERSION,
    SPEC_KIND,
    TARGETS_KIND,
    Profile,
    SpecSet,
    Targets,
    camel_case,
    default_flag,
    parse_spec,
)
from katib_gitops.yamlio import Document, dump, load_documents

EXPERIMENT = ("kubeflow.org/v1beta1", "Experiment")
V1ALPHA3 = ("kubeflow.org/v1alpha3", "Experiment")
MAX_SPEC_NAME = 31
MAX_PROFILE_NAME = 20
DEFAULT_NAMESPACE = "default"
TARGETS_FILE = "targets.yaml"
GENERATOR_LABELS = frozenset({*MANAGED_BY, LABEL_SPEC})
GENERATOR_ANNOTATIONS = frozenset({*SAFETY_ANNOTATIONS, LABEL_SPEC, ANNOTATION_PROFILE})
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ISTIO_KEY, ISTIO_VALUE = next(iter(kinds.ISTIO_OFF.items()))
KEPT_METADATA = ("name", "generateName", "namespace", "labels", "annotations")
# Container fields the short form writes itself; any other goes to `container`.
SHORT_CONTAINER_FIELDS = ("name", "image", "imagePullPolicy", "command", "args", "env", "resources", "volumeMounts")
TRAINER_FIELDS = ("image", "command", "args", "env", "numNodes", "resourcesPerNode")
PLACEHOLDER = "${trialParameters.%s}"
NOTHING = "Imported: adds nothing to the trial pods."

# Validator rules whose verdict depends on the cluster's katib-config, which an
# import cannot know: reported as notes, not refusals.
CLUSTER_RULES = frozenset({"TT-R5"})

# Rule IDs of import refusals (documented in docs/migration.md).
EMPTY_TEMPLATES: Mapping[
    tuple[str, str, str], str
] = {}  # no ConfigMap trial templates known (import --trial-templates)
RULE_UNSUPPORTED = "import-unsupported"  # ConfigMap templates, trialParameters out of order, ...
RULE_NUMBER = "import-number"  # a feasibleSpace string no spec number writes back
RULE_ROUND_TRIP = "import-round-trip"  # no spec form reproduces the Experiment
RULE_KIND = "import-kind"  # not a kubeflow.org/v1beta1 Experiment


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """One imported Experiment: its spec, where it ran, and what the reader should know."""

    spec: dict[str, Any]  # the TuningSpec document, plain data
    namespace: str
    profile: str  # proposed profile name; `merge_imports` may reuse or rename it
    profile_body: dict[str, Any]
    form: str  # "short" | "raw"
    notes: tuple[str, ...]
    source: str  # file (and document index) it came from
    experiment: str  # namespace/name of the source Experiment

    @property
    def name(self) -> str:
        return str(self.spec["metadata"]["name"])


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One way of writing the trial, with the profile it is built with."""

    form: str
    trial: dict[str, Any] | None  # None: this form does not fit (see `reason`)
    passes: Mapping[str, Any]  # parameter name -> its `pass` (absent: the default flag)
    profile: str
    profile_body: dict[str, Any]
    reason: str = ""


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


INT_LITERAL = re.compile(r"[+-]?[0-9]+")
DOUBLE_LITERAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def spec_number(text: Any, integer: bool) -> int | float | str | None:
    """The spec value for a feasibleSpace bound: a number when it writes back as `text`, else the text itself
    when it is a number literal the spec accepts as a string ("0.00"); None when it is no number at all."""
    found = number(text, integer)
    if found is not None:
        return found
    literal = INT_LITERAL if integer else DOUBLE_LITERAL
    return text if isinstance(text, str) and literal.fullmatch(text) else None


def typed_setting(value: Any) -> Any:
    """An algorithm setting as a typed spec value, only where katib_string gives the same text back."""
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    found = number(value, integer=False)
    return value if found is None else found


def spec_name(raw: str) -> str:
    """A valid spec name (DNS-1035 label, at most 31 characters) close to `raw`."""
    text = re.sub(r"[^a-z0-9-]+", "-", raw.lower())
    text = re.sub(r"-+", "-", text).strip("-")
    text = re.sub(r"^[^a-z]+", "", text) or "imported"
    if len(text) > MAX_SPEC_NAME:
        cut = text[:MAX_SPEC_NAME]
        text = cut[: cut.rfind("-")] if "-" in cut[MAX_SPEC_NAME // 2 :] else cut
    return text.rstrip("-")


def _prune(node: dict[str, Any], *path: str) -> None:
    """Remove empty mappings along `path` inside `node`, deepest first."""
    if not path or not isinstance(node.get(path[0]), dict):
        return
    _prune(node[path[0]], *path[1:])
    if not node[path[0]]:
        del node[path[0]]


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
        for index, (a, b) in enumerate(zip(left, right)):
            found.extend(differences(a, b, f"{path}[{index}]", limit))
        return found[:limit]
    return [] if left == right else [f"{path}: {_short(left)} in the Experiment, {_short(right)} generated"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# =================================================================== what is compared


def trial_kind_of(trial_spec: Any) -> TrialKind | None:
    if not isinstance(trial_spec, dict):
        return None
    return kinds.lookup(str(trial_spec.get("kind", "")), str(trial_spec.get("apiVersion", "")))


def pod_templates(trial_spec: dict[str, Any], kind: TrialKind | None) -> Iterator[dict[str, Any]]:
    """Every pod template (metadata + spec) of `trial_spec`, for a kind the generator knows."""
    if kind is None:
        return
    for path in kind.pod_spec_paths(trial_spec):
        node: Any = trial_spec
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            yield node


def comparable(experiment: Mapping[str, Any]) -> dict[str, Any]:
    """The Experiment as the round trip compares it, with the documented differences taken out.

    Left out: metadata other than labels and annotations (the name carries the
    hash, the namespace comes from the overlay), the generator's own labels and
    annotations, kubectl's last-applied annotation, and `status`. Filled in, as
    the generator does: `sidecar.istio.io/inject: "false"` on pod templates of
    known kinds that do not set it, and the default description of a
    trialParameter that has none. metricStrategies are compared by name: Katib
    reads them into a map, and the generator lists the objective metric first.
    """
    out = copy.deepcopy(dict(experiment))
    out.pop("status", None)
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else {}
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
    for pod in pod_templates(trial_spec, trial_kind_of(trial_spec)) if isinstance(trial_spec, dict) else ():
        pod.setdefault("metadata", {}).setdefault("annotations", {}).setdefault(ISTIO_KEY, ISTIO_VALUE)
    for entry in template.get("trialParameters") or []:
        if isinstance(entry, dict) and not entry.get("description"):
            entry["description"] = default_description(str(entry.get("reference")), nas=nas)


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


def parameters_of(document: Document, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Spec parameters (without `pass`), checked one to one against the trialParameters."""
    template = spec["trialTemplate"]
    entries = [e for e in template.get("trialParameters") or [] if not _is_metadata(e)]
    if "nasConfig" in spec:  # the trialParameters carry the algorithm's assignments: nas_of
        return []
    raw = spec["parameters"]
    _check_trial_parameters(document, raw, template.get("trialParameters") or [])
    out, problems = [], []
    for index, (parameter, entry) in enumerate(zip(raw, entries)):
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
    """spec.nas: the graph, the operations with their parameters in the spec's form, and the assignments trials receive."""
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
    for entry in leading_trial_parameters(document, spec["trialTemplate"].get("trialParameters") or []):
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


def leading_trial_parameters(document: Document, entries: list[Any]) -> list[Any]:
    """The trialParameters before those that read trial metadata, which a spec writes last (refused otherwise)."""
    first_meta = next((i for i, e in enumerate(entries) if _is_metadata(e)), len(entries))
    for index, entry in enumerate(entries[first_meta:], first_meta):
        if not _is_metadata(entry):
            raise FindingsError(
                [
                    document.diagnostic(
                        ["spec", "trialTemplate", "trialParameters", index],
                        RULE_UNSUPPORTED,
                        f"trialParameter '{entry.get('name')}' comes after one that reads trial metadata: a spec writes those last",
                        hint="move the trialParameters that reference ${trialSpec...} to the end",
                    )
                ]
            )
    return entries[:first_meta]


def _check_trial_parameters(document: Document, parameters: list[Any], entries: list[Any]) -> None:
    where = ["spec", "trialTemplate", "trialParameters"]
    entries = leading_trial_parameters(document, entries)
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
                out[key] = spec_number(space[key], integer=kind == "int")
                found.append(([*where, key], space[key], out[key]))
    elif kind == "discrete":
        out["values"] = [spec_number(v, integer=False) for v in space.get("list") or []]
        found += [
            ([*where, "list", i], text, value)
            for i, (text, value) in enumerate(zip(space.get("list") or [], out["values"]))
        ]
    else:
        out["values"] = list(space.get("list") or [])
    problems = [
        document.diagnostic(
            path,
            RULE_NUMBER,
            f"{text!r} is not a number literal ({kind})",
            hint="Katib parses feasibleSpace values as numbers; fix the value in the Experiment first",
        )
        for path, text, value in found
        if value is None
    ]
    return out, problems


def template_fields(
    template: Mapping[str, Any], kind: TrialKind | None, collector: dict[str, Any] | None
) -> dict[str, Any]:
    """The trial's primaryContainer, conditions, pod labels, collector and retain, where they differ from the defaults."""
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


# =================================================================== profiles


def is_extended(resource: str) -> bool:
    """Extended resources (nvidia.com/gpu, xilinx/...) carry a domain outside kubernetes.io."""
    return "/" in resource and not resource.split("/", 1)[0].endswith("kubernetes.io")


def _primary(trial_spec: dict[str, Any], kind: TrialKind, container: str) -> list[tuple[str, dict[str, Any], str]]:
    """(role, container, resources key) of every primary container; TrainJob's trainer is one."""
    if not kind.pod_templates:
        trainer = (trial_spec.get("spec") or {}).get("trainer")
        return [("node", trainer, "resourcesPerNode")] if isinstance(trainer, dict) else []
    found = []
    for path in kind.pod_spec_paths(trial_spec):
        pod = _at(trial_spec, path)
        role = str(path[2]) if kind.replica_field else ""
        found += [
            (role, c, "resources")
            for c in (pod or {}).get("containers") or []
            if isinstance(c, dict) and c.get("name") == container
        ]
    return found


def _at(node: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _extended_part(container: Mapping[str, Any], key: str) -> dict[str, Any]:
    resources = container.get(key) or {}
    part = {
        group: {k: v for k, v in (resources.get(group) or {}).items() if is_extended(k)}
        for group in ("requests", "limits")
    }
    return {k: v for k, v in part.items() if v}


def extract_profile(
    trial_spec: dict[str, Any], kind: TrialKind | None, container: str
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Split a trialSpec into (trialSpec without the profile's parts, profile name, profile body).

    Extended resources of the primary container, when the same in every role
    that has them, become the profile's resources; nodeSelector, tolerations and
    runtimeClassName move with them when every pod has the same value.
    """
    out = copy.deepcopy(trial_spec)
    primaries = _primary(out, kind, container) if kind is not None else []
    parts = [(role, c, key, _extended_part(c, key)) for role, c, key in primaries]
    with_parts = [p for p in parts if p[3]]
    if kind is None or not with_parts:
        return out, "imported-cpu", {"description": NOTHING}
    if any(p[3] != with_parts[0][3] for p in with_parts):
        return (
            out,
            "imported",
            {"description": f"{NOTHING[:-1]}: extended resources differ between roles and stay in the trial."},
        )
    resources = with_parts[0][3]
    for _, c, key, part in with_parts:
        for group, amounts in part.items():
            for name in amounts:
                del c[key][group][name]
            _prune(c, key, group)
    body: dict[str, Any] = {"description": "", "resources": copy.deepcopy(resources)}
    roles = sorted({p[0] for p in with_parts})
    if kind.replica_field and roles != sorted({p[0] for p in parts}):
        body["roles"] = roles
    body.update(_move_pod_scheduling(out, kind))
    what = ", ".join(sorted({n for g in resources.values() for n in g}))
    moved = [k for k in ("nodeSelector", "tolerations", "runtimeClassName") if k in body]
    body["description"] = f"Imported: {what}" + (f" with the pods' {', '.join(moved)}" if moved else "") + "."
    return out, profile_name(resources), body


def _move_pod_scheduling(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, Any]:
    pods = [p for p in (_at(trial_spec, path) for path in kind.pod_spec_paths(trial_spec)) if isinstance(p, dict)]
    moved: dict[str, Any] = {}
    for key in ("nodeSelector", "tolerations", "runtimeClassName"):
        values = [p.get(key) for p in pods]
        if pods and values[0] and all(v == values[0] for v in values):
            moved[key] = copy.deepcopy(values[0])
            for pod in pods:
                del pod[key]
    return moved


def profile_name(resources: Mapping[str, Mapping[str, Any]]) -> str:
    names = sorted({n for amounts in resources.values() for n in amounts})
    if any("gpu" in n.rsplit("/", 1)[-1].lower() for n in names):
        return "imported-gpu"
    tail = re.sub(r"[^a-z0-9-]+", "-", names[0].rsplit("/", 1)[-1].lower()).strip("-")
    return f"imported-{tail}"[:MAX_PROFILE_NAME].rstrip("-")


# =================================================================== parameter deliveries


def infer_deliveries(containers: list[dict[str, Any]], parameters: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How each parameter reaches `containers`, popping the flags and env vars the generator appends.

    The generator appends `--flag value` / `--flag=value` to args and `{name,
    value}` to env, in parameter order, to every primary container; anything
    else is a placeholder left where it is.
    """
    passes: dict[str, Any] = {}
    touched: set[int] = set()
    for parameter in reversed(parameters):
        token = PLACEHOLDER % parameter.get("trialParameter", camel_case(parameter["name"]))
        found = _pop_flag(containers, token) or _pop_env(containers, token)
        if found is None:
            passes[parameter["name"]] = "placeholder"
            continue
        touched.update(range(len(containers)))
        passes[parameter["name"]] = _pass_value(parameter["name"], found)
    for index in touched:
        for key in ("args", "env"):
            if key in containers[index] and not containers[index][key]:
                del containers[index][key]
    return passes


def _pass_value(name: str, found: dict[str, str]) -> Any:
    if found.get("flag") == default_flag(name) and "style" not in found:
        return None
    return found


def _pop_flag(containers: list[dict[str, Any]], token: str) -> dict[str, str] | None:
    tails = [c.get("args") if isinstance(c.get("args"), list) else [] for c in containers]
    if not containers or not all(tails):
        return None
    if all(len(a) >= 2 and a[-1] == token and a[-2] == tails[0][-2] for a in tails) and _flag_like(tails[0][-2]):
        flag = tails[0][-2]
        for a in tails:
            del a[-2:]
        return {"flag": flag}
    last = tails[0][-1]
    flag = last[: -len(token) - 1] if isinstance(last, str) and last.endswith("=" + token) else ""
    if _flag_like(flag) and all(a[-1] == last for a in tails):
        for a in tails:
            a.pop()
        return {"flag": flag, "style": "equals"}
    return None


def _flag_like(text: Any) -> bool:
    return isinstance(text, str) and text.startswith("-") and "${" not in text and "=" not in text


def _pop_env(containers: list[dict[str, Any]], token: str) -> dict[str, str] | None:
    tails = [c.get("env") if isinstance(c.get("env"), list) else [] for c in containers]
    if not containers or not all(tails):
        return None
    last = tails[0][-1]
    if not (isinstance(last, dict) and set(last) == {"name", "value"} and last["value"] == token):
        return None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(last["name"])) or not all(e[-1] == last for e in tails):
        return None
    for e in tails:
        e.pop()
    return {"env": str(last["name"])}


# =================================================================== trial forms


class NoShortForm(Exception):
    """The trialSpec has something the short form cannot write; the message says what."""


def env_value(items: list[Any]) -> Any:
    """A map `{NAME: value}` when every entry is a plain string value, else the list itself."""
    plain = all(isinstance(e, dict) and set(e) == {"name", "value"} and isinstance(e["value"], str) for e in items)
    names = [e.get("name") for e in items if isinstance(e, dict)]
    return {e["name"]: e["value"] for e in items} if plain and len(set(names)) == len(items) else copy.deepcopy(items)


def short_trial(
    trial_spec: dict[str, Any], kind: TrialKind, container: str, parameters: Sequence[Mapping[str, Any]], flags: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(short-form trial, parameter passes) for `trial_spec`; NoShortForm when it does not fit."""
    extra = sorted(set(trial_spec) - {"apiVersion", "kind", "spec"})
    if extra:
        raise NoShortForm(f"the trialSpec sets {', '.join(extra)}")
    if not kind.pod_templates:
        return _short_train_job(trial_spec, parameters, flags)
    roles = _roles(trial_spec, kind)
    pods = {role: _pod(template, role, kind, container) for role, (_, template) in roles.items()}
    containers = {role: pod.pop("containers")[0] for role, pod in pods.items()}
    passes = (
        infer_deliveries(list(containers.values()), parameters)
        if flags
        else {p["name"]: "placeholder" for p in parameters}
    )
    trial: dict[str, Any] = {"kind": kind.kind}
    overrides: dict[str, dict[str, Any]] = {role: {} for role in roles}
    trial.update(_shared_container(containers, overrides))
    trial.update(_pod_extras(pods))
    if kind.replica_field:
        trial["replicas"] = {
            role: _role_entry(settings, overrides[role], kind) for role, (settings, _) in roles.items()
        }
    return _ordered(trial), passes


def _roles(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    spec = trial_spec.get("spec") or {}
    if kind.replica_field is None:
        if set(spec) != {"template"}:
            raise NoShortForm(f"the Job sets {', '.join(sorted(set(spec) - {'template'}))}")
        return {"": ({}, spec["template"])}
    if set(spec) != {kind.replica_field} or not spec[kind.replica_field]:
        raise NoShortForm(
            f"the {kind.kind} sets {', '.join(sorted(set(spec) - {kind.replica_field})) or 'no replicas'}"
        )
    out = {}
    for role, entry in spec[kind.replica_field].items():
        if set(entry) != {"replicas", "restartPolicy", "template"} or not isinstance(entry["replicas"], int):
            raise NoShortForm(f"role {role} does not set exactly replicas, restartPolicy and template")
        out[role] = ({"replicas": entry["replicas"], "restartPolicy": entry["restartPolicy"]}, entry["template"])
    return out


def _pod(template: Mapping[str, Any], role: str, kind: TrialKind, container: str) -> dict[str, Any]:
    where = f"role {role}" if role else "the pod template"
    meta = copy.deepcopy(template.get("metadata") or {})
    annotations = meta.get("annotations") or {}
    if annotations.get(ISTIO_KEY) == ISTIO_VALUE:
        del annotations[ISTIO_KEY]
    _prune(meta, "annotations")
    if meta or set(template) - {"metadata", "spec"}:
        raise NoShortForm(f"{where} sets pod template metadata ({', '.join(sorted(meta)) or 'other fields'})")
    pod = copy.deepcopy(template.get("spec") or {})
    names = [c.get("name") for c in pod.get("containers") or []]
    if names != [container]:
        raise NoShortForm(f"{where} has containers {names}, the short form writes one named '{container}'")
    if kind.replica_field is None:
        if pod.get("restartPolicy") is None:
            raise NoShortForm("the Job's pod sets no restartPolicy (the generator writes Never)")
        if pod["restartPolicy"] == kind.restart_policy:
            del pod["restartPolicy"]
    return pod


def _same(values: Sequence[Any]) -> bool:
    return all(v == values[0] for v in values)


def _shared_container(containers: dict[str, dict[str, Any]], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Trial-level container fields; what differs per role goes to `overrides`."""
    roles = list(containers)
    trial: dict[str, Any] = {}
    for key in ("imagePullPolicy", "volumeMounts"):
        values = [containers[r].get(key) for r in roles]
        if not _same(values):
            raise NoShortForm(f"{key} differs between roles")
        if values[0] is not None:
            trial[key] = copy.deepcopy(values[0])
    extras = [{k: v for k, v in containers[r].items() if k not in SHORT_CONTAINER_FIELDS} for r in roles]
    if not _same(extras):
        raise NoShortForm(f"container fields {', '.join(sorted({k for e in extras for k in e}))} differ between roles")
    if extras[0]:
        trial["container"] = copy.deepcopy(extras[0])
    images = [containers[r].get("image") for r in roles]
    if not all(isinstance(i, str) and i for i in images):
        raise NoShortForm("a container has no image")
    trial["image"] = images[0]
    _per_role(overrides, roles, "image", images, trial)
    for key in ("command", "args"):
        _per_role(overrides, roles, key, [containers[r].get(key) for r in roles], trial, empty=[])
    _split_env(overrides, roles, [containers[r].get("env") or [] for r in roles], trial)
    resources = [containers[r].get("resources") for r in roles]
    if _same(resources):
        _set(trial, "resources", resources[0])
    else:
        for role, value in zip(roles, resources):
            _set(overrides[role], "resources", value)
    return trial


def _per_role(
    overrides: dict[str, dict[str, Any]],
    roles: list[str],
    key: str,
    values: list[Any],
    trial: dict[str, Any],
    empty: Any = None,
) -> None:
    """The first role's value at trial level; each role that differs gets its own (or `empty` to drop it)."""
    _set(trial, key, values[0])
    for role, value in zip(roles, values):
        if value != values[0]:
            overrides[role][key] = copy.deepcopy(value) if value is not None else empty


def _set(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = copy.deepcopy(value)


def _split_env(
    overrides: dict[str, dict[str, Any]], roles: list[str], values: list[list[Any]], trial: dict[str, Any]
) -> None:
    common = 0
    while all(len(v) > common and v[common] == values[0][common] for v in values):
        common += 1
    if common:
        trial["env"] = env_value(values[0][:common])
    for role, value in zip(roles, values):
        if value[common:]:
            overrides[role]["env"] = env_value(value[common:])


def _pod_extras(pods: dict[str, dict[str, Any]]) -> dict[str, Any]:
    values = list(pods.values())
    if not _same(values):
        raise NoShortForm("pod settings differ between roles")
    pod = copy.deepcopy(values[0])
    out: dict[str, Any] = {}
    if "volumes" in pod:
        out["volumes"] = pod.pop("volumes")
    if pod:
        out["pod"] = pod
    return out


def _role_entry(settings: Mapping[str, Any], overrides: dict[str, Any], kind: TrialKind) -> Any:
    entry: dict[str, Any] = {"replicas": settings["replicas"]}
    if settings["restartPolicy"] != kind.restart_policy:
        entry["restartPolicy"] = settings["restartPolicy"]
    entry.update(overrides)
    return entry["replicas"] if list(entry) == ["replicas"] else entry


def _short_train_job(
    trial_spec: dict[str, Any], parameters: Sequence[Mapping[str, Any]], flags: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = trial_spec.get("spec") or {}
    trainer = copy.deepcopy(spec.get("trainer") or {})
    runtime = spec.get("runtimeRef") or {}
    if (
        set(spec) != {"runtimeRef", "trainer"}
        or list(runtime) != ["name"]
        or set(trainer) - set(TRAINER_FIELDS)
        or "image" not in trainer
        or "numNodes" not in trainer
    ):
        raise NoShortForm(
            "the TrainJob sets more than runtimeRef.name and the trainer's image, command, args, env, numNodes and resourcesPerNode"
        )
    passes = infer_deliveries([trainer], parameters) if flags else {p["name"]: "placeholder" for p in parameters}
    trial: dict[str, Any] = {"kind": "TrainJob", "runtime": runtime["name"], "image": trainer["image"]}
    for key in ("command", "args"):
        _set(trial, key, trainer.get(key))
    if trainer.get("env"):
        trial["env"] = env_value(trainer["env"])
    _set(trial, "resources", trainer.get("resourcesPerNode"))
    if trainer["numNodes"] != 1:
        trial["replicas"] = {"node": trainer["numNodes"]}
    return trial, passes


TRIAL_ORDER = (
    "kind",
    "runtime",
    "image",
    "imagePullPolicy",
    "command",
    "args",
    "env",
    "resources",
    "replicas",
    "volumes",
    "volumeMounts",
    "pod",
    "container",
)


def _ordered(trial: dict[str, Any]) -> dict[str, Any]:
    return {k: trial[k] for k in TRIAL_ORDER if k in trial}


def raw_trial(trial_spec: dict[str, Any], kind: TrialKind | None) -> dict[str, Any]:
    """The trialSpec for the escape hatch: as it is, minus the Istio opt-out the generator adds back."""
    out = copy.deepcopy(trial_spec)
    for pod in pod_templates(out, kind):
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        if annotations.get(ISTIO_KEY) == ISTIO_VALUE:
            del annotations[ISTIO_KEY]
            _prune(pod, "metadata", "annotations")
    return out


# =================================================================== one Experiment


def import_document(
    document: Document, trial_templates: Mapping[tuple[str, str, str], str] = EMPTY_TEMPLATES
) -> ImportResult:
    """Import a v1beta1 Experiment, or a v1alpha3 one after `katib_gitops.commands.migrate` converted it."""
    data = document.data
    if not (isinstance(data, dict) and (data.get("apiVersion"), data.get("kind")) == V1ALPHA3):
        return import_experiment(document, trial_templates)
    migrated, notes = migrated_document(document)
    result = import_experiment(migrated, trial_templates)
    return dataclasses.replace(result, notes=(*notes, *result.notes), source=_label(document))


def migrated_document(document: Document) -> tuple[Document, list[str]]:
    """The v1beta1 Experiment `katib-gitops migrate` makes of a v1alpha3 one, and its notes; its errors refuse the import.

    Migration errors point into the source file; later refusals into the migrated
    text, as `katib-gitops migrate FILE` prints it.
    """
    from katib_gitops.migration.convert import migrate_text

    text = source_text(document)
    migration = migrate_text(text, document.file)
    order = [d.index for d in load_documents(text, document.file)]
    result = migration.results[order.index(document.index)]
    if result.errors:
        raise FindingsError(list(result.errors))
    notes = [f"migrated from v1alpha3: {d.message} [{d.rule_id}]" for d in result.diagnostics]
    notes += [f"migrated from v1alpha3: {n.message} [{n.rule_id}]" for n in result.notes]
    # Documents that failed to migrate are left out of the migrated text: count only
    # those kept before this one to find it there.
    kept = [i for i, r in zip(order, migration.results) if r.status == "unchanged" or r.node is not None]
    migrated = [d for d in load_documents(migration.text, f"{document.file} (migrated)")]
    return migrated[kept.index(document.index)], notes


def source_text(document: Document) -> str:
    """The text `document` was read from: its file, or (stdin, a rendered kustomization) its canonical dump."""
    path = Path(document.file)
    if path.is_file():
        from katib_gitops.yamlio import read_text

        text = read_text(path, document.file)
        if any(d.index == document.index and d.data == document.data for d in load_documents(text, document.file)):
            return text
    return dump_with_index(document)


def dump_with_index(document: Document) -> str:
    """A stream whose document `document.index` is `document` (earlier ones empty), so indices line up."""
    return "---\n" * document.index + dump(document.data)


def import_experiment(
    document: Document, trial_templates: Mapping[tuple[str, str, str], str] = EMPTY_TEMPLATES
) -> ImportResult:
    """One v1beta1 Experiment as a TuningSpec that provably generates it back; FindingsError if none does."""
    data = document.data
    if not isinstance(data, dict) or (data.get("apiVersion"), data.get("kind")) != EXPERIMENT:
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise FindingsError([document.diagnostic([], RULE_KIND, f"not a kubeflow.org/v1beta1 Experiment ({kind})")])
    warnings = validator_findings(
        document, trial_templates
    )  # first: a broken Experiment is refused with Katib's reason
    refuse_unsupported(document)
    notes: list[str] = [f"validator: {d.message} [{d.rule_id}]" for d in warnings]
    source, dropped = strip_server_fields(data)
    notes += dropped
    original = apply_katib_defaults(source)
    return _import(document, original, notes)


def validator_findings(
    document: Document, trial_templates: Mapping[tuple[str, str, str], str] = EMPTY_TEMPLATES
) -> list[Diagnostic]:
    """The validator's verdict on the source: its errors refuse the import, its warnings become notes."""
    from katib_gitops.rules import validator
    from katib_gitops.schema import manifests

    env = validator.Env(validator.Options(()), manifests.latest_kubernetes(), {}, trial_templates=trial_templates)
    found = validator.check_document(document, env)
    errors = [d for d in found if d.severity is Severity.ERROR and d.rule_id not in CLUSTER_RULES]
    if errors:
        raise FindingsError(errors)
    return found


def refuse_unsupported(document: Document) -> None:
    spec = document.data.get("spec") or {}
    template = spec.get("trialTemplate") or {}
    if "configMap" in template:
        raise FindingsError(
            [
                document.diagnostic(
                    ["spec", "trialTemplate", "configMap"],
                    RULE_UNSUPPORTED,
                    "a trial template from a ConfigMap cannot be written as a TuningSpec",
                    hint="inline the template as trialTemplate.trialSpec, then import again",
                    at_key=True,
                )
            ]
        )
    if "trialSpec" not in template:
        raise FindingsError(
            [
                document.diagnostic(
                    ["spec", "trialTemplate"], RULE_UNSUPPORTED, "the Experiment has no trialTemplate.trialSpec"
                )
            ]
        )


def strip_server_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The Experiment without status and server-set metadata (uid, resourceVersion, ...), and notes on what went."""
    out = copy.deepcopy(dict(data))
    notes = []
    if "status" in out:
        del out["status"]
        notes.append("status dropped")
    meta = out.get("metadata") or {}
    dropped = sorted(set(meta) - set(KEPT_METADATA))
    if dropped:
        notes.append(f"metadata dropped: {', '.join(dropped)}")
    out["metadata"] = {k: meta[k] for k in KEPT_METADATA if k in meta}
    return out, notes


def _import(document: Document, original: dict[str, Any], notes: list[str]) -> ImportResult:
    spec = original["spec"]
    meta = original["metadata"]
    template = spec["trialTemplate"]
    trial_spec = template["trialSpec"]
    kind = trial_kind_of(trial_spec)
    name, name_note = name_of(meta)
    namespace = meta.get("namespace") or DEFAULT_NAMESPACE
    notes += [
        n for n in (name_note, "" if meta.get("namespace") else f"no namespace: targets '{DEFAULT_NAMESPACE}'") if n
    ]
    head = spec_head(name, meta, notes)
    body = {"objective": objective_of(spec["objective"]), "algorithm": algorithm_of(spec["algorithm"])}
    if spec.get("earlyStopping"):
        body["earlyStopping"] = algorithm_of(spec["earlyStopping"])
    body["budget"] = budget_of(spec)
    parameters = parameters_of(document, spec)
    if "nasConfig" in spec:
        body["nas"] = nas_of(document, spec)
    fields = template_fields(template, kind, collector_of(spec.get("metricsCollectorSpec") or {}))
    if metadata := metadata_parameters_of(template):
        fields["metadataParameters"] = metadata
    expected = comparable(original)
    notes += _generator_fills(original, kind)
    tried: list[tuple[Candidate, list[Diagnostic], list[str]]] = []
    for candidate in candidates(trial_spec, kind, str(template.get("primaryContainerName")), parameters):
        if candidate.trial is None:
            tried.append((candidate, [], [candidate.reason]))
            continue
        full = assemble(head, body, parameters, fields, candidate, namespace)
        found, diff = verify(full, candidate, namespace, expected)
        if not found and not diff:
            notes += _form_notes(candidate, tried)
            return ImportResult(
                full,
                namespace,
                candidate.profile,
                candidate.profile_body,
                candidate.form,
                tuple(notes),
                _label(document),
                f"{namespace}/{meta.get('name', name)}",
            )
        tried.append((candidate, found, diff))
    raise FindingsError(_refusal(document, tried))


def name_of(meta: Mapping[str, Any]) -> tuple[str, str]:
    labels = meta.get("labels") or {}
    if labels.get(LABEL_SPEC):
        return spec_name(str(labels[LABEL_SPEC])), ""
    raw = str(meta.get("name") or str(meta.get("generateName") or "").rstrip("-") or "imported")
    name = spec_name(raw)
    return (
        name,
        ""
        if name == raw
        else f"spec name '{name}' (from Experiment name '{raw}': specs take at most {MAX_SPEC_NAME} characters, a-z, 0-9 and '-')",
    )


def spec_head(name: str, meta: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
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


def _generator_fills(original: Mapping[str, Any], kind: TrialKind | None) -> list[str]:
    template = original["spec"]["trialTemplate"]
    notes = []
    missing = [
        p
        for p in pod_templates(copy.deepcopy(template["trialSpec"]), kind)
        if ISTIO_KEY not in ((p.get("metadata") or {}).get("annotations") or {})
    ]
    if missing:
        notes.append(f'the generator adds {ISTIO_KEY}: "{ISTIO_VALUE}" to the trial\'s pod templates')
    if any(not e.get("description") for e in template.get("trialParameters") or []):
        notes.append("the generator writes a description for trialParameters that have none")
    return notes


def candidates(
    trial_spec: dict[str, Any], kind: TrialKind | None, container: str, parameters: Sequence[Mapping[str, Any]]
) -> Iterator[Candidate]:
    """Ways to write the trial, best first: short form (flags, then placeholders), raw trialSpec (with, then without the profile)."""
    placeholders = {p["name"]: "placeholder" for p in parameters}
    stripped, profile, body = extract_profile(trial_spec, kind, container)
    if kind is not None:
        for flags in (True, False):
            try:
                trial, passes = short_trial(stripped, kind, container, parameters, flags)
            except NoShortForm as exc:
                yield Candidate("short", None, {}, profile, body, reason=f"short form does not fit: {exc}")
                break
            yield Candidate("short", trial, passes, profile, body)
            if passes == placeholders:
                break
    yield Candidate("raw", {"trialSpec": raw_trial(stripped, kind)}, placeholders, profile, body)
    if stripped != trial_spec:
        yield Candidate(
            "raw", {"trialSpec": raw_trial(trial_spec, kind)}, placeholders, "imported", {"description": NOTHING}
        )


def assemble(
    head: dict[str, Any],
    body: dict[str, Any],
    parameters: list[dict[str, Any]],
    fields: dict[str, Any],
    candidate: Candidate,
    namespace: str,
) -> dict[str, Any]:
    assert candidate.trial is not None
    params = []
    for parameter in parameters:
        item = dict(parameter)
        value = candidate.passes.get(parameter["name"])
        if value is not None:
            item["pass"] = value
        params.append(item)
    trial = {**candidate.trial, **fields} if "trialSpec" not in candidate.trial else {**fields, **candidate.trial}
    spec = {
        **body,
        **({"parameters": params} if params else {}),
        "trial": trial,
        "targets": {"namespaces": [namespace], "profiles": [candidate.profile]},
    }
    return {"apiVersion": API_VERSION, "kind": SPEC_KIND, "metadata": copy.deepcopy(head), "spec": copy.deepcopy(spec)}


def verify(
    full: dict[str, Any], candidate: Candidate, namespace: str, expected: dict[str, Any]
) -> tuple[list[Diagnostic], list[str]]:
    """(spec problems, round-trip differences) of a candidate spec, read back from the text it would be written as."""
    documents = load_documents(dump(full), "<imported spec>")
    found = ours.check(documents[0], "tuningspec")
    if found:
        return found, []
    spec = parse_spec(documents[0])
    profile = Profile(candidate.profile, candidate.profile_body)
    targets_doc = Document("<imported targets>", 0, {}, {})
    targets = Targets(targets_doc, (namespace,), {candidate.profile: profile}, None)
    found = [d for d in spec_checks.run_checks(SpecSet(targets, (spec,))) if d.severity is Severity.ERROR]
    if found:
        return found, []
    built = apply_katib_defaults(build_experiment(spec, profile))
    return [], differences(expected, comparable(built))


def _form_notes(chosen: Candidate, tried: list[tuple[Candidate, list[Diagnostic], list[str]]]) -> list[str]:
    notes = [f"profile '{chosen.profile}': {chosen.profile_body.get('description', '').removeprefix('Imported: ')}"]
    if chosen.form == "raw":
        why = [c.reason or _why(found, diff) for c, found, diff in tried if c.form == "short"]
        notes.append("raw trialSpec" + (f" ({why[-1]})" if why else " (the trial kind has no short form)"))
    return notes


def _why(found: list[Diagnostic], diff: list[str]) -> str:
    if found:
        return f"the short form fails {found[0].rule_id}: {found[0].message}"
    return f"the short form does not reproduce {diff[0]}" if diff else ""


def _refusal(document: Document, tried: list[tuple[Candidate, list[Diagnostic], list[str]]]) -> list[Diagnostic]:
    """Why nothing round-trips: the spec checks of the last form tried, mapped onto the Experiment, or where it differs."""
    _, found, diff = tried[-1]
    if found:
        return [_on_source(document, d) for d in found]
    return [
        document.diagnostic(
            ["spec"],
            RULE_ROUND_TRIP,
            "no TuningSpec reproduces this Experiment: " + "; ".join(diff),
            hint="the import never writes a spec that changes the Experiment",
        )
    ]


SOURCE_PATHS = (
    ("spec.trial", ["spec", "trialTemplate"]),
    ("spec.parameters", ["spec", "parameters"]),
    ("spec.algorithm", ["spec", "algorithm"]),
    ("spec.earlyStopping", ["spec", "earlyStopping"]),
    ("spec.objective", ["spec", "objective"]),
    ("metadata", ["metadata"]),
)


def _on_source(document: Document, found: Diagnostic) -> Diagnostic:
    path = next((p for prefix, p in SOURCE_PATHS if found.path.startswith(prefix)), ["spec"])
    hint = f"in the imported spec at {found.path}" + (f"; {found.hint}" if found.hint else "")
    return document.diagnostic(
        path, found.rule_id, f"the imported spec would fail: {found.message}", hint=hint, at_key=True
    )


def _label(document: Document) -> str:
    return document.file if document.index == 0 else f"{document.file} (document {document.index + 1})"


# =================================================================== several Experiments, one Targets


def merge_imports(
    results: Sequence[ImportResult], targets: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[ImportResult]]:
    """(the Targets document with every namespace and profile the imports need, the imports with final profile and spec names).

    A profile equal to one already declared (description aside) is reused under
    its name; specs with the same name that differ only in namespaces are merged,
    others get a '-2', '-3', ... suffix.
    """
    document = copy.deepcopy(dict(targets)) if targets else new_targets()
    body = document["spec"]
    resolved = [_with_profile(result, _profile_for(result, body)) for result in results]
    for result in resolved:
        if result.namespace not in body["namespaces"]:
            body["namespaces"].append(result.namespace)
    return document, _dedupe(resolved)


def new_targets() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": TARGETS_KIND,
        "metadata": {"name": "imported"},
        "spec": {"namespaces": [], "profiles": {}},
    }


def _essence(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "description"}


def _profile_for(result: ImportResult, targets: dict[str, Any]) -> str:
    profiles = targets.setdefault("profiles", {})
    for name, body in profiles.items():
        if _essence(body) == _essence(result.profile_body):
            return str(name)
    name = _free_name(result.profile, profiles, MAX_PROFILE_NAME)
    profiles[name] = copy.deepcopy(result.profile_body)
    return name


def _free_name(base: str, taken: Any, limit: int) -> str:
    if base not in taken:
        return base
    counter = 2
    while True:
        suffix = f"-{counter}"
        name = base[: limit - len(suffix)].rstrip("-") + suffix
        if name not in taken:
            return name
        counter += 1


def _with_profile(result: ImportResult, profile: str) -> ImportResult:
    spec = copy.deepcopy(result.spec)
    spec["spec"]["targets"]["profiles"] = [profile]
    notes = result.notes if profile == result.profile else (*result.notes, f"uses the declared profile '{profile}'")
    return dataclasses.replace(result, spec=spec, profile=profile, notes=tuple(notes))


def _without_namespaces(spec: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(spec))
    out["spec"]["targets"]["namespaces"] = []
    return out


def _dedupe(results: list[ImportResult]) -> list[ImportResult]:
    kept: list[tuple[dict[str, Any], ImportResult]] = []  # (spec as imported, without namespaces; result as kept)
    for result in results:
        key = _without_namespaces(result.spec)
        same = next((k for k in kept if k[0] == key), None)
        if same is not None:
            namespaces = same[1].spec["spec"]["targets"]["namespaces"]
            if result.namespace not in namespaces:
                namespaces.append(result.namespace)
            continue
        taken = {k[1].name for k in kept} | {Path(TARGETS_FILE).stem}
        if result.name in taken:
            name = _free_name(result.name, taken, MAX_SPEC_NAME)
            spec = copy.deepcopy(result.spec)
            spec["metadata"]["name"] = name
            result = dataclasses.replace(
                result,
                spec=spec,
                notes=(*result.notes, f"renamed to '{name}': another import is called '{result.name}'"),
            )
        kept.append((key, result))
    return [k[1] for k in kept]


# =================================================================== I/O edge


@dataclasses.dataclass(frozen=True)
class PlannedFile:
    path: Path
    content: str
    status: str  # "new" | "replaced" | "updated" | "unchanged"


@dataclasses.dataclass(frozen=True)
class ImportPlan:
    files: tuple[PlannedFile, ...]
    results: tuple[ImportResult, ...]
    skipped: tuple[str, ...]  # documents that are not Experiments
    targets_path: Path


def read_experiments(paths: Sequence[str], stdin: TextIO) -> tuple[list[Document], list[str]]:
    """Experiments (v1beta1 and v1alpha3) in the named files and folders (kustomizations rendered), and what was skipped."""
    from katib_gitops.kustomize import inputs

    collected = inputs.collect(paths, render_kustomizations=True, stdin=stdin)
    if collected.problems:
        raise FindingsError(list(collected.problems))
    experiments: list[Document] = []
    skipped: dict[str, list[str]] = {}
    for source in collected.sources:
        for document in source.documents:
            data = document.data
            key = (data.get("apiVersion"), data.get("kind")) if isinstance(data, dict) else None
            if key in (EXPERIMENT, V1ALPHA3):
                experiments.append(document)
            else:
                skipped.setdefault(document.file, []).append(str(key[1]) if key else "not an object")
    if not experiments:
        raise UsageError(f"no Experiments found in {', '.join(paths)}")
    return experiments, [
        f"{file}: skipped {', '.join(sorted(set(kinds_)))} (not an Experiment)" for file, kinds_ in skipped.items()
    ]


def import_all(
    documents: Sequence[Document], trial_templates: Mapping[tuple[str, str, str], str] = EMPTY_TEMPLATES
) -> list[ImportResult]:
    """Import every document; FindingsError lists every refusal of every document."""
    results, problems = [], []
    for document in documents:
        try:
            results.append(import_document(document, trial_templates))
        except FindingsError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise FindingsError(problems)
    return results


def existing_documents(out_dir: Path) -> list[tuple[Path, Document]]:
    """Every YAML document already in the specs folder, with its file."""
    from katib_gitops.spec.model import find_spec_files
    from katib_gitops.yamlio import read_text

    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory")
    return [
        (path, doc)
        for path in find_spec_files(out_dir)
        for doc in load_documents(read_text(path, str(path)), str(path))
    ]


def plan_import(
    paths: Sequence[str], out_dir: Path, stdin: TextIO, force: bool = False, trial_templates: Sequence[str] = ()
) -> ImportPlan:
    from katib_gitops.rules.validator import load_trial_templates

    documents, skipped = read_experiments(paths, stdin)
    results = import_all(documents, load_trial_templates(trial_templates))
    existing = existing_documents(out_dir)
    targets = [(p, d) for p, d in existing if isinstance(d.data, dict) and d.data.get("kind") == TARGETS_KIND]
    if len(targets) > 1:
        raise UsageError(f"{out_dir}: more than one Targets document ({', '.join(str(p) for p, _ in targets)})")
    merged, final = merge_imports(results, targets[0][1].data if targets else None)
    files = [_spec_file(out_dir, result, existing, force) for result in final]
    files.append(_targets_file(out_dir, merged, targets[0] if targets else None))
    conflicts = [f.content for f in files if f.status == "conflict"]
    if conflicts:
        raise UsageError("\n".join(conflicts))
    return ImportPlan(tuple(files), tuple(final), tuple(skipped), files[-1].path)


def spec_text(result: ImportResult) -> str:
    header = [
        f"Imported by katib-gitops from {result.source} (Experiment {result.experiment}).",
        "Generating from this spec gives that Experiment back (see docs/migration.md).",
        "",
    ]
    return dump(result.spec, "\n".join(header + [f"note: {n}" for n in result.notes]).rstrip("\n"))


def _spec_file(out_dir: Path, result: ImportResult, existing: list[tuple[Path, Document]], force: bool) -> PlannedFile:
    path = out_dir / f"{result.name}.yaml"
    content = spec_text(result)
    same_name = [
        p
        for p, d in existing
        if isinstance(d.data, dict)
        and d.data.get("kind") == SPEC_KIND
        and (d.data.get("metadata") or {}).get("name") == result.name
    ]
    elsewhere = [p for p in same_name if p.resolve() != path.resolve()]
    if elsewhere:
        return PlannedFile(
            path,
            f"{elsewhere[0]}: already declares spec '{result.name}'; remove or rename it to import {result.experiment}",
            "conflict",
        )
    if not path.exists():
        return PlannedFile(path, content, "new")
    on_disk = [d.data for p, d in existing if p.resolve() == path.resolve()]
    if on_disk == [result.spec]:
        return PlannedFile(path, content, "unchanged")
    if not force:
        return PlannedFile(
            path,
            f"{path}: exists and differs from the import of {result.experiment}; pass --force to replace it",
            "conflict",
        )
    return PlannedFile(path, content, "replaced")


def _targets_file(out_dir: Path, merged: dict[str, Any], existing: tuple[Path, Document] | None) -> PlannedFile:
    if existing is None:
        header = "Where imported specs run: namespaces and profiles (katib-gitops import).\nAdd a `gitops:` section to get Argo CD and Flux objects."
        return PlannedFile(out_dir / TARGETS_FILE, dump(merged, header), "new")
    path, document = existing
    if merged == document.data:
        return PlannedFile(path, "", "unchanged")
    return PlannedFile(path, _update_targets_text(path, document.index, merged), "updated")


def _update_targets_text(path: Path, index: int, merged: dict[str, Any]) -> str:
    """The Targets file with the new namespaces and profiles added, comments and layout kept (ruamel round trip)."""
    import io

    from ruamel.yaml import YAML

    from katib_gitops.yamlio import read_text

    # Not yamlio.load_round_trip: it drops empty documents (`index` counts them) and quotes ('yes' must stay quoted).
    text = read_text(path, str(path)).replace("\r\n", "\n").replace("\r", "\n")  # written back with \n, comments too
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    nodes = list(yaml.load_all(text))
    body = nodes[index]["spec"]
    quoted = yaml.load(dump(merged["spec"]))  # new values quoted as our writer quotes them (e.g. 'yes', '010')
    for position, namespace in enumerate(merged["spec"]["namespaces"]):
        if namespace not in body["namespaces"]:
            body["namespaces"].append(quoted["namespaces"][position])
    for name in merged["spec"]["profiles"]:
        if name not in body["profiles"]:
            body["profiles"][name] = quoted["profiles"][name]
    out = io.StringIO()
    yaml.dump_all(nodes, out)
    return out.getvalue()


def write_plan(plan: ImportPlan) -> None:
    from katib_gitops.core.files import atomic_write

    try:
        for item in plan.files:
            if item.status != "unchanged":
                atomic_write(item.path, item.content)
    except OSError as exc:
        raise UsageError(f"cannot write {exc.filename}: {exc.strerror or exc}") from exc


def dry_run_text(plan: ImportPlan) -> str:
    parts = [f"# {item.path}\n{item.content}" for item in plan.files if item.status != "unchanged"]
    return "---\n".join(parts)


def summary(plan: ImportPlan) -> Iterator[str]:
    for line in plan.skipped:
        yield line
    by_name = {r.name: r for r in plan.results}
    for item in plan.files:
        result = by_name.get(item.path.stem) if item.path != plan.targets_path else None
        if result is None:
            yield f"{item.path}: {item.status}"
            continue
        namespaces = result.spec["spec"]["targets"]["namespaces"]
        where = f"namespace{'s' if len(namespaces) > 1 else ''} {', '.join(namespaces)}"
        yield f"{item.path}: {item.status} ({result.form} form, {where}, profile {result.profile}) from {result.experiment}"
        yield from (f"  note: {note}" for note in result.notes)
