"""The pods an Argo Workflow or a Tekton PipelineRun/TaskRun trial creates, and their containers (TT-R4).

These kinds keep no pod templates: their controllers build each pod from a template or a task,
and name its containers themselves.

* Argo Workflows (workflow/controller/workflowpod.go, createWorkflowPod): every pod of a container,
  script, resource or data template runs the user's code in a container named `main` (whatever
  the template calls it), beside Argo's `wait` and `init`; a containerSet template keeps its
  containers' names; http and plugin templates run in the agent pod, whose container is `main`
  too (agent.go). Template sidecars keep their names.
* Tekton Pipelines (pkg/pod: StepName): a TaskRun's pod has a container `step-<name>` per step
  (`step-unnamed-<index>` for a step without a name) and `sidecar-<name>` per sidecar. A
  PipelineRun runs one TaskRun, so one pod, per task and finally task; its pods carry the label
  tekton.dev/pipelineTask: <task name> and the PipelineRun's own labels.

Only what the trial object says is modelled: a template or task taken from elsewhere
(templateRef, taskRef, pipelineRef, workflowTemplateRef) is not known here and not judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

ARGO_MAIN = "main"
ARGO_POD_TEMPLATES = ("container", "script", "resource", "data", "http", "plugin")
TEKTON_KINDS = ("PipelineRun", "TaskRun")
TEKTON_API_VERSIONS = ("tekton.dev/v1", "tekton.dev/v1beta1")
TEKTON_TASK_LABEL = "tekton.dev/pipelineTask"
MAX_NAME = 63  # Tekton restricts a container name to a DNS label's length

Path = tuple[str | int, ...]


class WorkflowPod(NamedTuple):
    """A pod a workflow trial creates: what it is, where its containers are written, their names, its labels."""

    what: str  # "the pod of Argo template 'train'"
    path: Path  # into the trial object: where the pod's containers are written
    containers: tuple[str, ...]
    labels: Mapping[str, Any]  # the labels the trial object gives the pod (its controller adds more)
    engine: str  # "argo" or "tekton"


def is_workflow(api_version: str, kind: str) -> bool:
    """An Argo Workflow or a Tekton PipelineRun/TaskRun."""
    return (api_version, kind) == ("argoproj.io/v1alpha1", "Workflow") or (
        kind in TEKTON_KINDS and api_version in TEKTON_API_VERSIONS
    )


def workflow_pods(trial_spec: Mapping[str, Any]) -> Iterator[WorkflowPod]:
    """The pods `trial_spec` (an Argo Workflow or Tekton PipelineRun/TaskRun) creates, as far as it says."""
    kind = trial_spec.get("kind")
    spec = trial_spec.get("spec")
    if not isinstance(spec, Mapping):
        return
    if kind == "Workflow":
        yield from _argo_pods(spec)
        return
    labels = _labels(trial_spec)
    if kind == "TaskRun":
        task = spec.get("taskSpec")
        if isinstance(task, Mapping):
            yield from _tekton_pod(task, ("spec", "taskSpec"), labels, "the TaskRun's pod")
        return
    pipeline = spec.get("pipelineSpec")
    if not isinstance(pipeline, Mapping):
        return  # pipelineRef: the Pipeline is elsewhere
    for section in ("tasks", "finally"):
        tasks = pipeline.get(section)
        for index, task in enumerate(tasks if isinstance(tasks, list) else []):
            embedded = task.get("taskSpec") if isinstance(task, Mapping) else None
            if not isinstance(embedded, Mapping) or "apiVersion" in embedded or "kind" in embedded:
                continue  # taskRef, or a custom task (no pod)
            name = str(task.get("name", ""))
            pod_labels = {**labels, TEKTON_TASK_LABEL: name}
            where: Path = ("spec", "pipelineSpec", section, index, "taskSpec")
            yield from _tekton_pod(embedded, where, pod_labels, f"the pod of Tekton task {name!r}")


def _labels(node: Any) -> dict[str, Any]:
    metadata = node.get("metadata") if isinstance(node, Mapping) else None
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return dict(labels) if isinstance(labels, Mapping) else {}


def _names(items: Any) -> list[str]:
    return [str(c.get("name", "")) for c in (items if isinstance(items, list) else []) if isinstance(c, Mapping)]


def _tekton_pod(task: Mapping[str, Any], where: Path, labels: Mapping[str, Any], what: str) -> Iterator[WorkflowPod]:
    steps = task.get("steps")
    if not isinstance(steps, list):
        return
    names = [f"step-{n}" if n else f"step-unnamed-{i}" for i, n in enumerate(_names(steps))]
    names += [f"sidecar-{n}" for n in _names(task.get("sidecars"))]
    yield WorkflowPod(
        what, where + ("steps",), tuple(n[:MAX_NAME] for n in names), {**labels, **_labels(task)}, "tekton"
    )


def _referenced(node: Any, found: set[str]) -> None:
    """Every template name a steps/dag/hook/onExit part of `node` calls (templateRef calls another resource)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("template", "onExit", "entrypoint") and isinstance(value, str):
                found.add(value)
            elif key != "templateRef":
                _referenced(value, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, found)


def _argo_pods(spec: Mapping[str, Any]) -> Iterator[WorkflowPod]:
    templates = spec.get("templates")
    if not isinstance(templates, list):
        return
    called: set[str] = set()
    _referenced({k: v for k, v in spec.items() if k != "templates"}, called)
    for template in templates:
        if isinstance(template, Mapping):
            _referenced({k: v for k, v in template.items() if k in ("steps", "dag", "hooks")}, called)
    pod_labels = _labels({"metadata": spec.get("podMetadata")})
    for index, template in enumerate(templates):
        if not isinstance(template, Mapping):
            continue
        name = str(template.get("name", ""))
        if called and name not in called:
            continue  # defined but never run
        sidecars = tuple(_names(template.get("sidecars")))
        labels = {**pod_labels, **_labels(template)}
        what = f"the pod of Argo template {name!r}"
        container_set = template.get("containerSet")
        if isinstance(container_set, Mapping):
            names = tuple(n or ARGO_MAIN for n in _names(container_set.get("containers")))
            where: Path = ("spec", "templates", index, "containerSet", "containers")
            yield WorkflowPod(what, where, names + sidecars, labels, "argo")
            continue
        kind = next((k for k in ARGO_POD_TEMPLATES if isinstance(template.get(k), Mapping)), None)
        if kind is not None:
            yield WorkflowPod(what, ("spec", "templates", index, kind), (ARGO_MAIN, *sidecars), labels, "argo")
