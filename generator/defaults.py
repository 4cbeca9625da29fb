"""What Katib's mutating webhook does to an Experiment (DEF-01..13, G-04), as a pure function.

Used to prove that our output is already canonical (defaulting it is a no-op), and
by validation, which must judge the object Katib's validator will see (G-09).
"""

from __future__ import annotations

import copy
from typing import Any

from generator import kinds
from generator.experiment import DEFAULT_COLLECTOR_PATHS, DEFAULT_PARALLEL

# Fields Katib drops when they hold their zero value (omitempty, G-04b).
_OMIT_EMPTY = {
    ("spec", "trialTemplate"): ("retain", "trialParameters", "primaryPodLabels"),
    ("spec",): ("parameters",),
    ("spec", "algorithm"): ("algorithmSettings",),
    ("spec", "objective"): ("additionalMetricNames",),
}


def apply_katib_defaults(experiment: dict[str, Any]) -> dict[str, Any]:
    """A defaulted copy of `experiment`, as the webhook would return it."""
    out = copy.deepcopy(experiment)
    spec = out.setdefault("spec", {})
    spec.setdefault("parallelTrialCount", DEFAULT_PARALLEL)  # DEF-01
    if not spec.get("resumePolicy"):
        spec["resumePolicy"] = "Never"  # DEF-02
    if isinstance(spec.get("objective"), dict):
        _default_metric_strategies(spec["objective"])  # DEF-03
    _default_trial_template(spec.get("trialTemplate"))  # DEF-04..08
    _default_collector(spec)  # DEF-09..12
    for parameter in spec.get("parameters") or []:
        space = parameter.setdefault("feasibleSpace", {})
        if not space.get("distribution"):
            space["distribution"] = "uniform"  # DEF-13
    _drop_zero_values(out)
    return out


def _default_metric_strategies(objective: dict[str, Any]) -> None:
    kind = objective.get("type")
    value = {"minimize": "min", "maximize": "max"}.get(kind, "latest")
    strategies = objective.setdefault("metricStrategies", [])
    present = {s.get("name") for s in strategies}
    for name in [objective.get("objectiveMetricName"), *objective.get("additionalMetricNames", [])]:
        if name not in present:
            strategies.append({"name": name, "value": value})
            present.add(name)


def _default_trial_template(template: Any) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("trialSpec"), dict):
        return
    kind = kinds.KINDS.get(template["trialSpec"].get("kind", ""))
    if kind is None or not kind.katib_defaults:
        return
    if not template.get("successCondition"):
        template["successCondition"] = kind.success
    if not template.get("failureCondition"):
        template["failureCondition"] = kind.failure
    if not template.get("primaryPodLabels") and kind.pod_labels:
        template["primaryPodLabels"] = dict(kind.pod_labels)


def _default_collector(spec: dict[str, Any]) -> None:
    collector_spec = spec.setdefault("metricsCollectorSpec", {})
    collector = collector_spec.setdefault("collector", {"kind": "StdOut"})
    kind = collector.get("kind")
    if kind in ("File", "TensorFlowEvent"):
        path = collector_spec.setdefault("source", {}).setdefault("fileSystemPath", {})
        path.setdefault("kind", "File" if kind == "File" else "Directory")
        path["path"] = path.get("path") or DEFAULT_COLLECTOR_PATHS[kind]
        if kind == "File" and not path.get("format"):
            path["format"] = "TEXT"
    elif kind == "PrometheusMetric":
        http = collector_spec.setdefault("source", {}).setdefault("httpGet", {})
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
