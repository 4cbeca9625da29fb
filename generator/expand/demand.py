"""What an Experiment asks of the cluster at full parallelism: parallelTrialCount x its trial's pods.

A trial's pods are those of its job (core.kinds describes where each kind keeps them): every role's
pod template times its `replicas` (default 1), a batch Job's template times `parallelism`
(default 1), a TrainJob's trainer node (`resourcesPerNode`) times `numNodes`. A pod asks for what
the scheduler counts (k8s.io/kubernetes pkg/api/v1/resource `PodRequests`): the sum of its
containers and restartable init containers (sidecars), or its largest other init container if
that is more. A container's requests default to its limits (the API server's defaulting), and
an extended resource (`nvidia.com/gpu`) is always requested as much as it is limited.

Left out, as the plan says: Katib's metrics-collector sidecar and the suggestion pod (CPU and
memory only, set in the katib-config), and the pods of a TrainJob runtime other than its trainer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction
from typing import Any, NamedTuple

from katib_gitops.core import kinds, quantity

Amounts = dict[str, Fraction]


class Demand(NamedTuple):
    """Requests and limits per resource name, summed."""

    requests: Amounts
    limits: Amounts

    def scaled(self, factor: int) -> Demand:
        return Demand(
            {k: v * factor for k, v in self.requests.items()}, {k: v * factor for k, v in self.limits.items()}
        )


def total(demands: Iterable[Demand]) -> Demand:
    requests: Amounts = {}
    limits: Amounts = {}
    for demand in demands:
        for name, amount in demand.requests.items():
            requests[name] = requests.get(name, Fraction(0)) + amount
        for name, amount in demand.limits.items():
            limits[name] = limits.get(name, Fraction(0)) + amount
    return Demand(requests, limits)


def _amounts(resources: Any, field: str) -> Amounts:
    values = resources.get(field) if isinstance(resources, Mapping) else None
    if not isinstance(values, Mapping):
        return {}
    out: Amounts = {}
    for name, value in values.items():
        amount = quantity.parse(value)
        if amount is not None:
            out[str(name)] = amount
    return out


def container(resources: Any) -> Demand:
    """One container's `resources`: requests defaulted from limits; extended resources requested as limited."""
    limits = _amounts(resources, "limits")
    requests = {**limits, **_amounts(resources, "requests")}
    for name in limits:
        if quantity.is_extended(name):
            requests[name] = limits[name]
    return Demand(requests, limits)


def _containers(pod_spec: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    value = pod_spec.get(field)
    return [c for c in value if isinstance(c, Mapping)] if isinstance(value, list) else []


def pod(template: Mapping[str, Any]) -> Demand:
    """A pod template's demand as the scheduler counts it."""
    pod_spec = template.get("spec")
    if not isinstance(pod_spec, Mapping):
        return Demand({}, {})
    inits = _containers(pod_spec, "initContainers")
    sidecars = [c for c in inits if c.get("restartPolicy") == "Always"]
    running = total(container(c.get("resources")) for c in [*_containers(pod_spec, "containers"), *sidecars])
    for init in inits:
        if init.get("restartPolicy") != "Always":
            alone = container(init.get("resources"))
            running = Demand(_larger(running.requests, alone.requests), _larger(running.limits, alone.limits))
    return running


def _larger(a: Amounts, b: Amounts) -> Amounts:
    return {name: max(a.get(name, Fraction(0)), b.get(name, Fraction(0))) for name in {*a, *b}}


def _count(value: Any, default: int = 1) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def trial_pods(trial_spec: Mapping[str, Any]) -> Iterator[tuple[str, int, Demand]]:
    """(role, pods, one pod's demand) of each role of a trial object ('' for a single template)."""
    kind = kinds.lookup(str(trial_spec.get("kind", "")), str(trial_spec.get("apiVersion", "")))
    spec = trial_spec.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if kind is not None and kind.layout is kinds.Layout.RUNTIME:
        trainer = spec.get("trainer")
        trainer = trainer if isinstance(trainer, Mapping) else {}
        yield kind.primary_role, _count(trainer.get("numNodes")), container(trainer.get("resourcesPerNode"))
        return
    for template in kinds.pod_templates(trial_spec, kind):
        if kind is not None and kind.layout is kinds.Layout.REPLICAS:
            role = spec.get(str(kind.replica_field), {}).get(template.role, {})
            pods = _count(role.get("replicas") if isinstance(role, Mapping) else None)
        else:
            pods = _count(spec.get("parallelism"))
        yield template.role, pods, pod(template.template)


def trial(trial_spec: Mapping[str, Any]) -> Demand:
    """One trial's demand: every pod of its job."""
    return total(demand.scaled(pods) for _, pods, demand in trial_pods(trial_spec))


def experiment(experiment: Mapping[str, Any]) -> Demand:
    """An Experiment's demand at full parallelism: parallelTrialCount (default 3, DEF-01) trials at once."""
    spec = experiment.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if experiment.get("kind") == "OptimizationJob":  # its trials are TrainJobs; parallelTrials defaults to 1
        job = spec.get("trainJobTemplate")
        if not isinstance(job, Mapping):
            return Demand({}, {})
        trial_job = {"apiVersion": experiment.get("apiVersion"), "kind": "TrainJob", **job}
        return trial(trial_job).scaled(_count(spec.get("parallelTrials"), 1))
    template = spec.get("trialTemplate")
    trial_spec = template.get("trialSpec") if isinstance(template, Mapping) else None
    if not isinstance(trial_spec, Mapping):
        return Demand({}, {})
    return trial(trial_spec).scaled(_count(spec.get("parallelTrialCount"), 3))
