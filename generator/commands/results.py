"""`katib-gitops results`: Experiments read back with their status, matched to the specs and targets that made them.

What is read follows Katib's API types (pkg/apis/controller/experiments/v1beta1/experiment_types.go,
common/v1beta1/common_types.go at v0.19; the CRD itself only says x-kubernetes-preserve-unknown-fields):

* `status.conditions[]`: `type` one of Created, Running, Restarting, Succeeded, Failed; `status`
  True, False or Unknown; `reason`, `message`. A condition holds when its status is True
  (util.go `hasCondition`); Katib sets Running False when it marks Succeeded or Failed.
* the counters `trials`, `trialsSucceeded`, `trialsFailed`, `trialsKilled`, `trialsPending`,
  `trialsRunning`, `trialsEarlyStopped`, `trialMetricsUnavailable` (int32, omitted when 0);
* `currentOptimalTrial`: `bestTrialName`, `parameterAssignments[]` (`name`, `value`, strings) and
  `observation.metrics[]` (`name`, `min`, `max`, `latest`, strings; "unavailable" when not reported);
* the objective value is the objective metric's value by its metric strategy, as the controller
  picks the best trial (status_util.go `getObjectiveMetricValue`: min or max, else latest).

Each Experiment is matched to its target through what the generator writes (expand/experiment.py): the
label `katib-gitops.dev/spec`, the annotation `katib-gitops.dev/profile` and `metadata.namespace`. One whose
name is not the one Git generates for its target now was left behind by a roll-out (`stale`); one whose spec
or target Git no longer has is `removed`; one without the label is `foreign`.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from katib_gitops.core.diagnostics import Diagnostic, Severity, UsageError
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.core.registry import declare
from katib_gitops.expand.experiment import ANNOTATION_PROFILE, EXPERIMENT_API, LABEL_SPEC, katib_string
from katib_gitops.expand.optimizationjob import API_VERSION as OPTIMIZATION_JOB_API
from katib_gitops.expand.optimizationjob import KIND as OPTIMIZATION_JOB
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_stream, read_text, walk

RESULTS_STATUS = declare(
    "results-status",
    "TOOL",
    "An Experiment's status is as Katib writes it: known condition types and statuses, integer trial counters, "
    "name/value strings in the best trial.",
)
RESULTS_OWNER = declare(
    "results-owner",
    "TOOL",
    "An Experiment read back is one the specs generate now: not foreign, not left by a roll-out, "
    "not of a removed spec.",
    severity=Severity.WARNING,
)

STDIN = "-"
CONDITIONS = ("Created", "Running", "Restarting", "Succeeded", "Failed")
# The state an Experiment is in: the first of these whose condition holds (Succeeded and Failed are final).
STATE_ORDER = ("Succeeded", "Failed", "Restarting", "Running", "Created")
CONDITION_STATUSES = ("True", "False", "Unknown")
COUNTERS = (
    "trials",
    "trialsSucceeded",
    "trialsFailed",
    "trialsKilled",
    "trialsPending",
    "trialsRunning",
    "trialsEarlyStopped",
    "trialMetricsUnavailable",
)
UNAVAILABLE = "unavailable"  # consts.UnavailableMetricValue
GOAL_REACHED_REASON = "ExperimentGoalReached"
FORMATS = ("text", "markdown", "json")
OWNERS = ("current", "stale", "removed", "foreign")


class Metric(NamedTuple):
    name: str
    latest: str
    min: str
    max: str


class Result(NamedTuple):
    """One Experiment read back: where it was read, whose it is, its state and its best trial."""

    file: str
    line: int
    column: int
    namespace: str
    name: str
    spec: str  # the label katib-gitops.dev/spec; "" for a foreign Experiment
    profile: str
    target: str  # spec/namespace/profile
    owner: str  # one of OWNERS
    state: str  # one of STATE_ORDER, or "Pending" before Katib set a condition
    reason: str
    counters: dict[str, int]
    max_trials: int | None
    objective: str  # the objective metric's name
    objective_type: str
    goal: float | None
    best_trial: str
    assignments: tuple[tuple[str, str], ...]
    metrics: tuple[Metric, ...]
    objective_value: str
    goal_reached: bool | None  # None: no goal, or no numeric objective value
    parameter_types: dict[str, str]  # the Experiment's own spec.parameters: name -> parameterType
    git_parameters: tuple[str, ...]  # the parameter names Git's spec has for the target now (empty: none)
    completion_time: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


class Read(NamedTuple):
    results: list[Result]
    problems: list[Diagnostic]  # errors: the Experiments they concern are not in `results`
    warnings: list[Diagnostic]


# ------------------------------------------------------------------ reading


def read_sources(sources: Sequence[str], stdin: TextIO) -> list[tuple[Document, tuple[str | int, ...]]]:
    """Every v1beta1 Experiment in `sources` (files, folders of .yaml/.yml, - for stdin; `kind: List` items too)."""
    found: list[tuple[Document, tuple[str | int, ...]]] = []
    for source in sources:
        for display, text in _texts(source, stdin):
            found.extend(experiments_in(load_documents(text, display)))
    return found


def _texts(source: str, stdin: TextIO) -> Iterator[tuple[str, str]]:
    if source == STDIN:
        yield "<stdin>", read_stream(stdin, "<stdin>")
        return
    path = Path(source)
    if path.is_dir():
        for folder, _dirs, files in walk(path, skip_hidden=True):
            for name in sorted(files):
                if name.endswith((".yaml", ".yml")):
                    yield str(folder / name), read_text(folder / name, str(folder / name))
        return
    yield source, read_text(path, source)


def experiments_in(documents: Iterable[Document]) -> Iterator[tuple[Document, tuple[str | int, ...]]]:
    """(document, path of the Experiment in it): the document itself, or each Experiment item of a `kind: List`."""
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            continue
        if data.get("kind") == "List" and isinstance(data.get("items"), list):
            for index, item in enumerate(data["items"]):
                if _is_experiment(item):
                    yield document, ("items", index)
        elif _is_experiment(data):
            yield document, ()


def _is_experiment(data: Any) -> bool:
    """A Katib Experiment, or a Kubeflow Trainer OptimizationJob (the second backend, read the same way)."""
    if not isinstance(data, dict):
        return False
    key = (data.get("apiVersion"), data.get("kind"))
    return key in ((EXPERIMENT_API, "Experiment"), (OPTIMIZATION_JOB_API, OPTIMIZATION_JOB))


def kubectl_command(context: str, namespace: str) -> list[str]:
    """`kubectl get experiments.kubeflow.org -o yaml`, read-only, for one namespace or all of them."""
    command = ["kubectl"]
    if context:
        command += ["--context", context]
    command += ["get", "experiments.kubeflow.org", "-o", "yaml"]
    command += ["--namespace", namespace] if namespace else ["--all-namespaces"]
    return command


def read_cluster(context: str, namespace: str) -> list[tuple[Document, tuple[str | int, ...]]]:
    """The Experiments `kubectl get` prints; kubectl missing or failing is a usage error (exit 2)."""
    executable = shutil.which("kubectl")
    if executable is None:
        raise UsageError("--cluster needs kubectl on PATH; without it, pass the output of `kubectl get` as a file or -")
    command = [executable, *kubectl_command(context, namespace)[1:]]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"kubectl get experiments: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"kubectl get experiments failed (exit {done.returncode}): {said[0] if said else 'no output'}")
    display = "kubectl get experiments"
    from katib_gitops.yamlio.reader import decode

    return list(experiments_in(load_documents(decode(done.stdout, display), display)))


# ------------------------------------------------------------------ what Git generates


class Planned(NamedTuple):
    name: str  # the Experiment name Git generates for the target now
    parameters: tuple[str, ...]


def planned_targets(specs_dir: Path, katib_version: tuple[int, int] = KATIB_VERSION) -> dict[str, Planned]:
    """spec/namespace/profile -> the Experiment Git generates for it, from the specs folder."""
    from katib_gitops.expand.overlays import expand
    from katib_gitops.spec.model import load_spec_set

    if not specs_dir.is_dir():
        raise UsageError(f"{specs_dir}: no such folder; results matches Experiments to the specs in it (--specs)")
    spec_set = dataclasses.replace(load_spec_set(specs_dir), katib_version=katib_version)
    planned = {}
    for expansion in expand(spec_set):
        for overlay in expansion.overlays:
            names = tuple(str(p.get("name")) for p in overlay.experiment["spec"].get("parameters") or [])
            planned[overlay.directory] = Planned(overlay.experiment["metadata"]["name"], names)
    return planned


# ------------------------------------------------------------------ status


class _Bad(Exception):
    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def read_results(found: Sequence[tuple[Document, tuple[str | int, ...]]], planned: dict[str, Planned]) -> Read:
    results, problems, warnings = [], [], []
    for document, at in found:
        try:
            result = _result(document, at, planned)
        except _Bad as bad:
            problems.append(
                document.diagnostic(
                    [*at, *bad.path], RESULTS_STATUS.id, str(bad), hint="the status Katib writes (experiment_types.go)"
                )
            )
            continue
        results.append(result)
        owner_warning = _owner_warning(document, at, result)
        if owner_warning:
            warnings.append(owner_warning)
    results.sort(key=lambda r: (r.target == "", r.target, r.namespace, r.name))
    return Read(results, problems, warnings)


def _owner_warning(document: Document, at: tuple[str | int, ...], result: Result) -> Diagnostic | None:
    messages = {
        "foreign": f"Experiment {result.key} was not generated by katib-gitops (no label {LABEL_SPEC})",
        "removed": f"Experiment {result.key}: Git no longer has its target {result.target}",
        "stale": f"Experiment {result.key} is left from an earlier roll-out of {result.target}",
    }
    if result.owner not in messages:
        return None
    hint = (
        "katib-gitops import turns it into a spec"
        if result.owner == "foreign"
        else "delete it once its results are kept: GitOps never prunes a generated Experiment"
    )
    return document.diagnostic([*at, "metadata", "name"], RESULTS_OWNER.id, messages[result.owner], hint=hint)._replace(
        severity=Severity.WARNING
    )


def _mapping(value: Any, path: tuple[str | int, ...], what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(path, f"{what} is not a mapping")
    return value


def _list(value: Any, path: tuple[str | int, ...], what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(path, f"{what} is not a list")
    return value


def _text(value: Any, path: tuple[str | int, ...], what: str) -> str:
    """A string field; a number or boolean (a hand-written status) is taken as the text Katib would store."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise _Bad(path, f"{what} is not a string")
    return value if isinstance(value, str) else katib_string(value)


def _result(document: Document, at: tuple[str | int, ...], planned: dict[str, Planned]) -> Result:
    data = document.data
    for part in at:
        data = data[part]
    metadata = _mapping(data.get("metadata"), ("metadata",), "metadata")
    name = _text(metadata.get("name"), ("metadata", "name"), "metadata.name")
    if not name:
        raise _Bad(("metadata",), "the Experiment has no metadata.name")
    namespace = _text(metadata.get("namespace"), ("metadata", "namespace"), "metadata.namespace")
    labels = _mapping(metadata.get("labels"), ("metadata", "labels"), "metadata.labels")
    annotations = _mapping(metadata.get("annotations"), ("metadata", "annotations"), "metadata.annotations")
    spec_name = str(labels.get(LABEL_SPEC) or "")
    profile = str(annotations.get(ANNOTATION_PROFILE) or "")
    target = f"{spec_name}/{namespace or '?'}/{profile or '?'}" if spec_name else ""
    git = planned.get(target)
    if not spec_name:
        owner = "foreign"
    elif git is None:
        owner = "removed"
    else:
        owner = "current" if git.name == name else "stale"
    body = _mapping(data.get("spec"), ("spec",), "spec")
    if data.get("kind") == OPTIMIZATION_JOB:
        head = _Head(document, at, namespace, name, spec_name, profile, target, owner, git)
        return _job_result(head, body, _mapping(data.get("status"), ("status",), "status"))
    objective = _mapping(body.get("objective"), ("spec", "objective"), "spec.objective")
    status = _mapping(data.get("status"), ("status",), "status")
    state, reason = _state(status)
    best = _mapping(status.get("currentOptimalTrial"), ("status", "currentOptimalTrial"), "currentOptimalTrial")
    metrics = _metrics(best)
    metric_name = str(objective.get("objectiveMetricName") or "")
    value = _objective_value(objective, metric_name, metrics)
    goal = objective.get("goal")
    goal = float(goal) if isinstance(goal, int | float) and not isinstance(goal, bool) else None
    max_trials = body.get("maxTrialCount")
    return Result(
        file=document.file,
        line=document.position(at)[0],
        column=document.position(at)[1],
        namespace=namespace,
        name=name,
        spec=spec_name,
        profile=profile,
        target=target,
        owner=owner,
        state=state,
        reason=reason,
        counters=_counters(status),
        max_trials=max_trials if isinstance(max_trials, int) and not isinstance(max_trials, bool) else None,
        objective=metric_name,
        objective_type=str(objective.get("type") or ""),
        goal=goal,
        best_trial=_text(
            best.get("bestTrialName"), ("status", "currentOptimalTrial", "bestTrialName"), "bestTrialName"
        ),
        assignments=_assignments(best),
        metrics=metrics,
        objective_value=value,
        goal_reached=_goal_reached(reason, state, str(objective.get("type") or ""), goal, value),
        parameter_types=_parameter_types(body),
        git_parameters=git.parameters if git else (),
        completion_time=_text(status.get("completionTime"), ("status", "completionTime"), "completionTime"),
    )


class _Head(NamedTuple):
    """What an Experiment and an OptimizationJob read back share: where, whose, and Git's plan for its target."""

    document: Document
    at: tuple[str | int, ...]
    namespace: str
    name: str
    spec: str
    profile: str
    target: str
    owner: str
    git: Planned | None


# An OptimizationJob's status (OptimizationJobStatus, optimizationjob_types.go on Trainer's master): metav1
# conditions (any CamelCase type; KEP-2605 names Created, Complete and Failed) and `result`, the best
# TrainJob's name and parameter assignments. It holds no metric values and no trial counters.
JOB_STATE_ORDER = ("Complete", "Failed", "Created")


def _job_result(head: _Head, body: dict[str, Any], status: dict[str, Any]) -> Result:
    objectives = _list(body.get("objectives"), ("spec", "objectives"), "spec.objectives")
    objective = _mapping(objectives[0] if objectives else None, ("spec", "objectives", 0), "spec.objectives[0]")
    direction = str(objective.get("direction") or "Minimize")  # the CRD's default
    state, reason = _job_state(status)
    result = _mapping(status.get("result"), ("status", "result"), "status.result")
    base: tuple[str | int, ...] = ("status", "result", "parameters")
    assignments = []
    for index, raw in enumerate(_list(result.get("parameters"), base, "status.result.parameters")):
        item = _mapping(raw, (*base, index), f"status.result.parameters[{index}]")
        name = _text(item.get("name"), (*base, index, "name"), "a parameter's name")
        if not name:
            raise _Bad((*base, index), f"status.result.parameters[{index}] has no name")
        assignments.append((name, _text(item.get("value"), (*base, index, "value"), "a parameter's value")))
    num_trials = body.get("numTrials", 1)  # the CRD's default
    types = {}
    for raw in _list(body.get("parameters"), ("spec", "parameters"), "spec.parameters"):
        if isinstance(raw, dict) and isinstance(raw.get("searchSpace"), dict):
            types[str(raw.get("name"))] = _space_type(raw["searchSpace"])
    position = head.document.position(head.at)
    return Result(
        file=head.document.file,
        line=position[0],
        column=position[1],
        namespace=head.namespace,
        name=head.name,
        spec=head.spec,
        profile=head.profile,
        target=head.target,
        owner=head.owner,
        state=state,
        reason=reason,
        counters=dict.fromkeys(COUNTERS, 0),
        max_trials=num_trials if isinstance(num_trials, int) and not isinstance(num_trials, bool) else None,
        objective=str(objective.get("metric") or ""),
        objective_type=direction.lower(),
        goal=None,
        best_trial=_text(result.get("trainJobName"), ("status", "result", "trainJobName"), "trainJobName"),
        assignments=tuple(assignments),
        metrics=(),
        objective_value="",
        goal_reached=None,
        parameter_types=types,
        git_parameters=head.git.parameters if head.git else (),
        completion_time="",
    )


def _space_type(space: dict[str, Any]) -> str:
    if "categorical" in space:
        return "categorical"
    bounds: dict[str, Any] = next((space[k] for k in ("uniform", "logUniform") if isinstance(space.get(k), dict)), {})
    return "int" if bounds.get("type") == "Int" else "double"


def _job_state(status: dict[str, Any]) -> tuple[str, str]:
    """The first of Complete, Failed, Created whose condition holds, else any that holds; Pending before one."""
    conditions = _list(status.get("conditions"), ("status", "conditions"), "status.conditions")
    holding: dict[str, str] = {}
    for index, raw in enumerate(conditions):
        path: tuple[str | int, ...] = ("status", "conditions", index)
        condition = _mapping(raw, path, f"status.conditions[{index}]")
        if condition.get("status") not in CONDITION_STATUSES:
            raise _Bad(
                (*path, "status"), f"condition has status {condition.get('status')!r}, not True, False or Unknown"
            )
        if condition["status"] == "True":
            holding[str(condition.get("type"))] = _text(condition.get("reason"), (*path, "reason"), "reason")
    for kind in (*JOB_STATE_ORDER, *holding):
        if kind in holding:
            return kind, holding[kind]
    return "Pending", "no condition yet" if not conditions else "no condition holds"


def _state(status: dict[str, Any]) -> tuple[str, str]:
    conditions = _list(status.get("conditions"), ("status", "conditions"), "status.conditions")
    holding: dict[str, str] = {}
    for index, raw in enumerate(conditions):
        path: tuple[str | int, ...] = ("status", "conditions", index)
        condition = _mapping(raw, path, f"status.conditions[{index}]")
        kind = condition.get("type")
        if kind not in CONDITIONS:
            raise _Bad(
                (*path, "type"),
                f"condition type {kind!r} is not one of Katib's ({', '.join(CONDITIONS)})",
            )
        if condition.get("status") not in CONDITION_STATUSES:
            raise _Bad(
                (*path, "status"),
                f"condition {kind} has status {condition.get('status')!r}, not True, False or Unknown",
            )
        if condition["status"] == "True":
            holding[kind] = _text(condition.get("reason"), (*path, "reason"), "reason")
    for kind in STATE_ORDER:
        if kind in holding:
            return kind, holding[kind]
    return "Pending", "no condition yet" if not conditions else "no condition holds"


def _counters(status: dict[str, Any]) -> dict[str, int]:
    counters = {}
    for field in COUNTERS:
        value = status.get(field, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _Bad(("status", field), f"status.{field} is {value!r}, not a count (an integer, at least 0)")
        counters[field] = value
    return counters


def _assignments(best: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    base: tuple[str | int, ...] = ("status", "currentOptimalTrial", "parameterAssignments")
    out = []
    for index, raw in enumerate(_list(best.get("parameterAssignments"), base, "parameterAssignments")):
        item = _mapping(raw, (*base, index), f"parameterAssignments[{index}]")
        name = _text(item.get("name"), (*base, index, "name"), "a parameter assignment's name")
        if not name:
            raise _Bad((*base, index), f"parameterAssignments[{index}] has no name")
        out.append((name, _text(item.get("value"), (*base, index, "value"), "a parameter assignment's value")))
    return tuple(out)


def _metrics(best: dict[str, Any]) -> tuple[Metric, ...]:
    observation = _mapping(
        best.get("observation"), ("status", "currentOptimalTrial", "observation"), "currentOptimalTrial.observation"
    )
    base: tuple[str | int, ...] = ("status", "currentOptimalTrial", "observation", "metrics")
    out = []
    for index, raw in enumerate(_list(observation.get("metrics"), base, "observation.metrics")):
        item = _mapping(raw, (*base, index), f"observation.metrics[{index}]")
        fields = [_text(item.get(f), (*base, index, f), f"a metric's {f}") for f in ("name", "latest", "min", "max")]
        if not fields[0]:
            raise _Bad((*base, index), f"observation.metrics[{index}] has no name")
        out.append(Metric(*fields))
    return tuple(out)


def _objective_value(objective: dict[str, Any], metric_name: str, metrics: tuple[Metric, ...]) -> str:
    """The objective metric's value by its strategy, as the controller ranks trials; "" when not observed."""
    strategy = {"minimize": "min", "maximize": "max"}.get(str(objective.get("type")), "latest")
    for item in objective.get("metricStrategies") or []:
        if isinstance(item, dict) and item.get("name") == metric_name:
            strategy = str(item.get("value"))
    for metric in metrics:
        if metric.name == metric_name:
            chosen = {"min": metric.min, "max": metric.max}.get(strategy, metric.latest)
            return metric.latest if chosen == UNAVAILABLE else chosen
    return ""


def _goal_reached(reason: str, state: str, kind: str, goal: float | None, value: str) -> bool | None:
    if state == "Succeeded" and reason == GOAL_REACHED_REASON:
        return True
    if goal is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number >= goal if kind == "maximize" else number <= goal


def _parameter_types(body: dict[str, Any]) -> dict[str, str]:
    out = {}
    for raw in body.get("parameters") or []:
        if isinstance(raw, dict) and raw.get("name"):
            out[str(raw["name"])] = str(raw.get("parameterType") or "")
    return out


# ------------------------------------------------------------------ output


def trials_cell(result: Result) -> str:
    """succeeded/failed/running/early-stopped of the budget, e.g. 5/1/2/0 of 12."""
    c = result.counters
    text = f"{c['trialsSucceeded']}/{c['trialsFailed']}/{c['trialsRunning']}/{c['trialsEarlyStopped']}"
    return f"{text} of {result.max_trials if result.max_trials is not None else '-'}"


def objective_cell(result: Result) -> str:
    if not result.best_trial:
        return "-"
    return f"{result.objective}={result.objective_value or UNAVAILABLE}"


def goal_cell(result: Result) -> str:
    if result.goal is None:
        return "no goal"
    goal = katib_string(result.goal)
    return {True: f"reached ({goal})", False: f"not reached ({goal})", None: f"unknown ({goal})"}[result.goal_reached]


def target_cell(result: Result) -> str:
    if result.owner == "foreign":
        return "(foreign)"
    return result.target if result.owner == "current" else f"{result.target} ({result.owner})"


def parameters_cell(result: Result) -> str:
    return " ".join(f"{name}={value}" for name, value in result.assignments) or "-"


def state_cell(result: Result) -> str:
    return f"{result.state} ({result.reason})" if result.reason else result.state


HEADERS = ("NAMESPACE", "EXPERIMENT", "TARGET", "STATE", "TRIALS S/F/R/E", "BEST TRIAL", "OBJECTIVE", "GOAL")


def _row(result: Result) -> tuple[str, ...]:
    return (
        result.namespace or "-",
        result.name,
        target_cell(result),
        state_cell(result),
        trials_cell(result),
        result.best_trial or "-",
        objective_cell(result),
        goal_cell(result),
    )


def text(results: Sequence[Result]) -> str:
    """A table, then each best trial's parameters and metrics (latest, min, max)."""
    rows = [HEADERS, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    for result in results:
        if result.best_trial:
            lines += ["", f"{result.key}: best trial {result.best_trial}", f"  parameters: {parameters_cell(result)}"]
            lines += [f"  {m.name}: latest {m.latest}, min {m.min}, max {m.max}" for m in result.metrics]
    return "\n".join(lines) + "\n"


def markdown(results: Sequence[Result]) -> str:
    headers: tuple[str, ...] = ("namespace", "Experiment", "target", "state", "trials S/F/R/E", "best trial")
    headers += ("objective", "goal", "parameters")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for result in results:
        cells = (*_row(result), parameters_cell(result))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def as_json(results: Sequence[Result]) -> str:
    items = [
        {
            "namespace": r.namespace,
            "name": r.name,
            "spec": r.spec,
            "profile": r.profile,
            "target": r.target,
            "owner": r.owner,
            "state": r.state,
            "reason": r.reason,
            "trials": {
                "total": r.counters["trials"],
                "succeeded": r.counters["trialsSucceeded"],
                "failed": r.counters["trialsFailed"],
                "running": r.counters["trialsRunning"],
                "pending": r.counters["trialsPending"],
                "earlyStopped": r.counters["trialsEarlyStopped"],
                "killed": r.counters["trialsKilled"],
                "metricsUnavailable": r.counters["trialMetricsUnavailable"],
                "max": r.max_trials,
            },
            "objective": {"metric": r.objective, "type": r.objective_type, "goal": r.goal, "value": r.objective_value},
            "goalReached": r.goal_reached,
            "bestTrial": {
                "name": r.best_trial,
                "parameterAssignments": [{"name": n, "value": v} for n, v in r.assignments],
                "metrics": [m._asdict() for m in r.metrics],
            }
            if r.best_trial
            else None,
            "source": f"{r.file}:{r.line}:{r.column}",
        }
        for r in results
    ]
    return json.dumps({"version": 1, "experiments": items}, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": text, "markdown": markdown, "json": as_json}


# ------------------------------------------------------------------ the command


def collect(
    sources: Sequence[str],
    stdin: TextIO,
    *,
    specs_dir: Path,
    cluster: bool = False,
    context: str = "",
    namespace: str = "",
    katib_version: tuple[int, int] = KATIB_VERSION,
) -> Read:
    """Read Experiments (files, -, or `kubectl get` with `cluster`) and match them to what `specs_dir` generates."""
    if cluster and sources:
        raise UsageError("--cluster reads from kubectl: give no files with it")
    if not cluster and not sources:
        raise UsageError("give files or - (the output of `kubectl get experiments -A -o yaml`), or --cluster")
    if (context or namespace) and not cluster:
        raise UsageError("--context and --namespace are for --cluster")
    planned = planned_targets(specs_dir, katib_version)
    found = read_cluster(context, namespace) if cluster else read_sources(sources, stdin)
    if not found and not cluster:
        raise UsageError(f"no kubeflow.org/v1beta1 Experiments found in {', '.join(sources)}")
    return read_results(found, planned)
