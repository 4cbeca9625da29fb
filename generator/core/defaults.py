"""What Katib's mutating webhook does to an Experiment (DEF-01..13, G-04), as a pure function.

Used to prove that our output is already canonical (defaulting it is a no-op), and
by validation, which must judge the object Katib's validator will see (G-09).
"""

from __future__ import annotations

from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import DEFAULT_COLLECTOR_PATHS, DEFAULT_PARALLEL
from katib_gitops.core.plain import clone

# Fields Katib drops when they hold their zero value (omitempty, G-04b).
_OMIT_EMPTY = {
    ("spec", "trialTemplate"): ("retain", "trialParameters", "primaryPodLabels"),
    ("spec",): ("parameters",),
    ("spec", "algorithm"): ("algorithmSettings",),
    ("spec", "objective"): ("additionalMetricNames",),
}


def apply_katib_defaults(experiment: dict[str, Any], version: tuple[int, int] = kinds.KATIB_VERSION) -> dict[str, Any]:
    """A defaulted copy of `experiment`, as the webhook of Katib `version` would return it.

    Parts of the wrong type are left alone: the validator reports them (G-03).
    """
    out: dict[str, Any] = clone(experiment)
    spec = out.setdefault("spec", {}) if isinstance(out, dict) else None
    if not isinstance(spec, dict):
        return out
    spec.setdefault("parallelTrialCount", DEFAULT_PARALLEL)  # DEF-01
    if not spec.get("resumePolicy"):
        spec["resumePolicy"] = "Never" if version >= (0, 15) else "LongRunning"  # DEF-02, VER-03
    if isinstance(spec.get("objective"), dict):
        _default_metric_strategies(spec["objective"])  # DEF-03
    _default_trial_template(spec.get("trialTemplate"), version)  # DEF-04..08
    _default_collector(spec)  # DEF-09..12
    parameters = spec.get("parameters")
    for parameter in parameters if isinstance(parameters, list) and version >= (0, 18) else []:
        space = parameter.setdefault("feasibleSpace", {}) if isinstance(parameter, dict) else None
        if isinstance(space, dict) and not space.get("distribution"):
            space["distribution"] = "uniform"  # DEF-13, since 0.18 (VER-05)
    _drop_zero_values(out)
    return out


def _default_metric_strategies(objective: dict[str, Any]) -> None:
    kind = objective.get("type")
    value = {"minimize": "min", "maximize": "max"}.get(kind, "latest") if isinstance(kind, str) else "latest"
    strategies = objective.setdefault("metricStrategies", [])
    extra = objective.get("additionalMetricNames")
    if not isinstance(strategies, list) or not isinstance(extra, (list, type(None))):
        return
    present = {
        s.get("name") for s in strategies if isinstance(s, dict) and isinstance(s.get("name"), (str, type(None)))
    }
    for name in [objective.get("objectiveMetricName"), *(extra or [])]:
        if isinstance(name, (str, type(None))) and name not in present:  # wrong types are the schema's to report
            strategies.append({"name": name, "value": value})
            present.add(name)


def _default_trial_template(template: Any, version: tuple[int, int]) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("trialSpec"), dict):
        return
    kind = kinds.defaulted_kind(str(template["trialSpec"].get("kind", "")), version)
    if kind is None:
        return
    if not template.get("successCondition"):
        template["successCondition"] = kind.success
    if not template.get("failureCondition"):
        template["failureCondition"] = kind.failure
    if not template.get("primaryPodLabels") and kind.pod_labels:
        template["primaryPodLabels"] = dict(kind.pod_labels)


def _default_collector(spec: dict[str, Any]) -> None:
    collector_spec = spec.setdefault("metricsCollectorSpec", {})
    if not isinstance(collector_spec, dict):
        return
    collector = collector_spec.setdefault("collector", {"kind": "StdOut"})
    kind = collector.get("kind") if isinstance(collector, dict) else None
    source = (
        collector_spec.setdefault("source", {}) if kind in ("File", "TensorFlowEvent", "PrometheusMetric") else None
    )
    if not isinstance(source, dict):  # another collector kind, or a source of the wrong type
        return
    if kind in ("File", "TensorFlowEvent"):
        path = source.setdefault("fileSystemPath", {})
        if not isinstance(path, dict):
            return
        if not path.get("kind"):
            path["kind"] = "File" if kind == "File" else "Directory"
        path["path"] = path.get("path") or DEFAULT_COLLECTOR_PATHS[kind]
        if kind == "File" and not path.get("format"):
            path["format"] = "TEXT"
    elif kind == "PrometheusMetric":
        http = source.setdefault("httpGet", {})
        if not isinstance(http, dict):
            return
        http["path"] = http.get("path") or "/metrics"
        if str(http.get("port", 0)) == "0":
            http["port"] = 8080


def _drop_zero_values(experiment: dict[str, Any]) -> None:
    for path, fields in _OMIT_EMPTY.items():
        node: Any = experiment
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            for field in fields:
                if field in node and node[field] in (False, [], {}, None, ""):
                    del node[field]
