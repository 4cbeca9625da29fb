"""Health of Katib's kinds for Argo CD (Lua) and Flux (CEL), built from one table of Katib's condition types.

Katib has no `status.phase` (kubeflow/katib#1863), only typed conditions, one per type. Each is appended
again when it changes (`setCondition` in pkg/apis/controller/{experiments,trials}/v1beta1/util.go), so the
last one of a list is the latest. What each type means, and which ones end an object's life, is read from
Katib's source (v0.19 / master @ 33c8ff4e), cited per row below; docs/gitops.md, "Health", explains the
mapping and its caveats.

Neither tool ships a check for `kubeflow.org` kinds: Argo CD reads a Lua script from argocd-cm under
`resource.customizations.health.<group>_<kind>` (docs/operator-manual/health.md), Flux evaluates
`spec.healthCheckExprs` of a Kustomization (kustomize-controller v1.5 / Flux 2.5 and later) when `wait`
is on (fluxcd/pkg runtime/cel/status_evaluator.go).
"""

from __future__ import annotations

import dataclasses
from typing import Any

GROUP = "kubeflow.org"
API_VERSION = "kubeflow.org/v1beta1"
ARGOCD_CM = "argocd-cm"
ARGOCD_HEALTH_KEY = "resource.customizations.health.{group}_{kind}"  # argo-cd docs/operator-manual/health.md

# Argo CD's health statuses (gitops-engine pkg/health) and Flux's kstatus results the conditions map to.
DEGRADED, HEALTHY, PROGRESSING = "Degraded", "Healthy", "Progressing"
FAILED, CURRENT, IN_PROGRESS = "failed", "current", "inProgress"


@dataclasses.dataclass(frozen=True)
class Condition:
    """One of Katib's condition types, when its status is "True": what Argo CD and Flux should report."""

    type: str
    argocd: str  # Degraded | Healthy | Progressing
    flux: str  # failed | current | inProgress
    meaning: str  # what Katib means by it, and where it is set


@dataclasses.dataclass(frozen=True)
class KindHealth:
    """A Katib kind's conditions, Argo CD's order of precedence: first the Degraded ones, then the Healthy ones,
    each in the order given; else the latest True Progressing one; else `waiting`."""

    kind: str
    conditions: tuple[Condition, ...]
    waiting: str  # the message while Katib has reported no condition of the table as True
    flux: bool  # whether Flux applies this kind (and so health-checks it) or Katib creates it

    def of(self, argocd: str) -> tuple[str, ...]:
        return tuple(c.type for c in self.conditions if c.argocd == argocd)

    def flux_types(self, flux: str) -> tuple[str, ...]:
        return tuple(c.type for c in self.conditions if c.flux == flux)


EXPERIMENT = KindHealth(
    "Experiment",
    (
        Condition(
            "Failed",
            DEGRADED,
            FAILED,
            "maxFailedTrialCount reached (experiment/util/status_util.go UpdateExperimentStatusCondition), or its "
            "Suggestion failed (experiment_controller.go ReconcileTrials); final until a restart",
        ),
        Condition(
            "Succeeded",
            HEALTHY,
            CURRENT,
            "objective goal reached, maxTrialCount reached, or the search space exhausted "
            "(UpdateExperimentStatusCondition); Running is flipped to False (MarkExperimentStatusSucceeded)",
        ),
        Condition(
            "Restarting",
            PROGRESSING,
            CURRENT,
            "a finished Experiment resumed by a higher maxTrialCount (experiment_controller.go Reconcile, "
            "MarkExperimentStatusRestarting removes Succeeded and Failed); it is never removed afterwards",
        ),
        Condition(
            "Running",
            PROGRESSING,
            CURRENT,
            "Katib created trials and searches (UpdateExperimentStatusCondition), whether or not their pods run yet",
        ),
        Condition(
            "Created",
            PROGRESSING,
            IN_PROGRESS,
            "the controller accepted it (experiment_controller.go Reconcile); no trial yet: the Suggestion is starting",
        ),
    ),
    "Waiting for Katib to report the Experiment's conditions",
    flux=True,
)

TRIAL = KindHealth(
    "Trial",
    (
        Condition(
            "Failed",
            DEGRADED,
            FAILED,
            "its job failed (trial/trial_controller_util.go UpdateTrialStatusCondition); counts towards "
            "maxFailedTrialCount",
        ),
        Condition(
            "MetricsUnavailable",
            DEGRADED,
            FAILED,
            "its job succeeded without reporting the objective metric (UpdateTrialStatusCondition); counts "
            "towards maxFailedTrialCount like Failed (status_util.go UpdateExperimentStatusCondition)",
        ),
        Condition(
            "Succeeded",
            HEALTHY,
            CURRENT,
            "its job succeeded with the objective metric (UpdateTrialStatusCondition)",
        ),
        Condition(
            "EarlyStopped",
            HEALTHY,
            CURRENT,
            "stopped by the early-stopping algorithm (earlystopping/v1beta1/medianstop/service.py), which leaves "
            "Running True: completed, not failed",
        ),
        Condition(
            "Killed",
            HEALTHY,
            CURRENT,
            "counted as completed, not failed (status_util.go); no Katib controller sets it "
            "(MarkTrialStatusKilled has no caller): trials above parallelTrialCount are deleted instead",
        ),
        Condition(
            "Running",
            PROGRESSING,
            IN_PROGRESS,
            "its job runs (UpdateTrialStatusCondition)",
        ),
        Condition(
            "Created",
            PROGRESSING,
            IN_PROGRESS,
            "its job was created (trial_controller.go Reconcile)",
        ),
    ),
    "Waiting for Katib to report the Trial's conditions",
    flux=False,
)

KINDS = (EXPERIMENT, TRIAL)


# ------------------------------------------------------------------ Argo CD: Lua


def _lua_list(names: tuple[str, ...]) -> str:
    return "{" + ", ".join(f'"{n}"' for n in names) + "}"


def lua_script(health: KindHealth) -> str:
    """The Argo CD health check of `health.kind`: Lua 5.1 with only the base library (Argo CD opens no
    other by default: util/lua/lua.go runLuaWithResourceActionParameters), returning {status, message}."""
    progressing = " or ".join(f'condition.type == "{t}"' for t in health.of(PROGRESSING))
    return f"""\
-- Health of a Katib {health.kind} ({GROUP}), written by katib-gitops (docs/gitops.md, "Health").
-- Katib has no status.phase, only conditions, one per type, appended again when they change
-- (pkg/apis/controller/{health.kind.lower()}s/v1beta1/util.go setCondition): the last True one is the latest.
local function say(condition)
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return condition.type
end
local found = {{}}
local latest = nil
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.status == "True" and condition.type ~= nil then
      found[condition.type] = condition
      if {progressing} then
        latest = condition
      end
    end
  end
end
for _, name in ipairs({_lua_list(health.of(DEGRADED))}) do
  if found[name] ~= nil then
    return {{status = "{DEGRADED}", message = say(found[name])}}
  end
end
for _, name in ipairs({_lua_list(health.of(HEALTHY))}) do
  if found[name] ~= nil then
    return {{status = "{HEALTHY}", message = say(found[name])}}
  end
end
if latest ~= nil then
  return {{status = "{PROGRESSING}", message = say(latest)}}
end
return {{status = "{PROGRESSING}", message = "{health.waiting}"}}
"""


def argocd_key(kind: str) -> str:
    return ARGOCD_HEALTH_KEY.format(group=GROUP, kind=kind)


def argocd_cm_patch(argocd_namespace: str) -> dict[str, Any]:
    """argocd-cm as a strategic-merge patch: only the health keys, which merge into the ConfigMap's data."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ARGOCD_CM,
            "namespace": argocd_namespace,
            "labels": {"app.kubernetes.io/name": ARGOCD_CM, "app.kubernetes.io/part-of": "argocd"},
        },
        "data": {argocd_key(h.kind): lua_script(h) for h in KINDS},
    }


ARGOCD_CM_HOWTO = """\
Argo CD health checks for Katib Experiments and Trials (docs/gitops.md, "Health").
A patch for the ConfigMap argocd-cm, to merge into it; not an object to apply on its own
(`kubectl apply` of it would remove the keys an earlier `kubectl apply` of argocd-cm set). Merge it with
  kubectl patch configmap argocd-cm -n {namespace} --type strategic --patch-file {file}
or, to keep it across Argo CD upgrades, list it under `patches:` of the kustomization that installs Argo CD."""


# ------------------------------------------------------------------ Flux: CEL

# A generated Kustomization's `timeout` with health checks (Flux's default is its interval, which may be hours):
# how long one reconcile, health check included, holds a kustomize-controller worker (`--concurrent`, 4 by
# default) when Katib does not start an Experiment. Starting takes as long as the Suggestion needs to come up.
FLUX_TIMEOUT = "5m"


def _cel_exists(types: tuple[str, ...]) -> str:
    """True when a condition of one of `types` is True. `exists`, never `filter(...).all(...)`, which is true of
    an empty list; `has()` for a status Katib has not filled in yet."""
    listed = f"c.type == '{types[0]}'" if len(types) == 1 else "c.type in [" + ", ".join(f"'{t}'" for t in types) + "]"
    return f"has(status.conditions) && status.conditions.exists(c, {listed} && c.status == 'True')"


def flux_health_check(health: KindHealth) -> dict[str, Any]:
    """One entry of a Kustomization's `healthCheckExprs`.

    No `inProgress`: Flux reports InProgress when neither `failed` nor `current` is true (status_evaluator.go
    Evaluate), which is what a Created Experiment, or one without conditions, is. Before Katib writes any
    status no expression can be evaluated (Flux passes the object's top-level fields as variables, and
    `has()` needs a field selection): Flux then reports Unknown and polls on, as for InProgress.
    """
    return {
        "apiVersion": API_VERSION,
        "kind": health.kind,
        "failed": _cel_exists(health.flux_types(FAILED)),
        "current": _cel_exists(health.flux_types(CURRENT)),
    }


def flux_health_checks() -> list[dict[str, Any]]:
    """The `healthCheckExprs` of a generated Kustomization: the kinds Flux applies (Trials are Katib's)."""
    return [flux_health_check(h) for h in KINDS if h.flux]
