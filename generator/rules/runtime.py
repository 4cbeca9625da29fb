"""RUNTIME rules: what Katib admits but cannot run (katib-rules.md TT-R1..TT-R5).

Katib's webhook accepts these Experiments; the failure comes later, when the
controller creates a trial, when the trial's job reaches its CRD schema, when the
pod webhook mutates trial pods, or never visibly (a trial kind the controller does
not watch). Each rule names that consequence. Rules that depend on the suggestion
service (HO-09, OP-06, GO-04, SK-09, HB-07, PBT-06, ENAS-08, DARTS-04, RT-01..RT-05) live with
the algorithm rules.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from katib_gitops.core import kinds
from katib_gitops.core.registry import Finding, rule
from katib_gitops.rules.admission import (
    META_REFERENCE,
    PLACEHOLDER,
    TEMPLATE,
    _template,
    _trial_parameters,
    is_meta_reference,
)
from katib_gitops.rules.framework import Context, Path, get, is_blank

SPEC: Path = ("spec",)
TRIAL_SPEC: Path = TEMPLATE + ("trialSpec",)
PLAIN_META_KEYS = ("Name", "Namespace", "Kind", "APIVersion")
# Compiled at first use: only a ${trialSpec.Labels[...]} or ${trialSpec.Annotations[...]} reference needs it.
INDEXED_META_KEY = functools.cache(lambda: re.compile(r"(Annotations|Labels)\[(.*)\]\Z", re.DOTALL))
# Fields of the known trial kinds (and of the pods they embed) that are typed integer or boolean.
INTEGER_FIELDS = frozenset(
    {
        "replicas",
        "numNodes",
        "backoffLimit",
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "slotsPerWorker",
        "containerPort",
        "ttlSecondsAfterFinished",
        "terminationGracePeriodSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
    }
)
BOOLEAN_FIELDS = frozenset(
    {"suspend", "hostNetwork", "privileged", "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation"}
)


def _trial_spec(ctx: Context) -> Mapping[str, Any] | None:
    template = _template(ctx)
    trial_spec = template.get("trialSpec") if template is not None else None
    return trial_spec if isinstance(trial_spec, dict) else None


def _trial_kind(ctx: Context) -> kinds.TrialKind | None:
    trial_spec = _trial_spec(ctx)
    if trial_spec is None:
        return None
    return kinds.lookup(str(trial_spec.get("kind", "")), str(trial_spec.get("apiVersion", "")))


# --------------------------------------------------------------- TT-R1


def _non_meta_references(ctx: Context) -> set[str]:
    """References of the trialParameters Katib accepts that are parameter assignments, not metadata."""
    return {
        str(entry["reference"])
        for _, entry, problem in _trial_parameters(ctx)
        if problem is None and not is_meta_reference(str(entry["reference"]))
    }


@rule(
    "TT-R1",
    "RUNTIME",
    "Every spec.parameters name is referenced by a non-meta trialParameter, so assignments and trialParameters pair "
    "up one to one "
    "(else no trial can be created). TT-R1 owns an unreferenced parameter; PARAM-20 only warns about parameters "
    "referenced "
    "more than once. NAS experiments are left to ENAS-08/DARTS-04.",
)
def parameters_bijection(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    parameters = ctx.spec.get("parameters")
    if (
        ctx.spec.get("nasConfig") is not None
        or template is None
        or is_blank(template.get("trialParameters"))
        or not isinstance(parameters, list)
    ):
        return
    references = _non_meta_references(ctx)
    names = [p.get("name") if isinstance(p, dict) else None for p in parameters]
    distinct = {n for n in names if isinstance(n, str) and n}
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name or name in seen:
            continue  # blank and duplicate names: PARAM-11
        seen.add(name)
        if name not in references:
            yield Finding(
                SPEC + ("parameters", index, "name"),
                f"parameter {name!r} is not referenced by any trialParameter: Katib cannot create trials "
                f"({len(distinct)} parameter assignments, {len(references)} non-meta trialParameters)",
                f"add a trialParameter with 'reference: {name}' and use its ${{trialParameters.<name>}} placeholder "
                "in the trialSpec",
            )


# --------------------------------------------------------------- TT-R2


def _meta_problem(key: str, trial_spec: Mapping[str, Any] | None, has_parameters: bool) -> str | None:
    if key in PLAIN_META_KEYS:
        return None
    if key in ("Annotations", "Labels"):
        return f"${{trialSpec.{key}}} needs a key, as in ${{trialSpec.{key}[my-key]}}"
    indexed = INDEXED_META_KEY().match(key)
    if indexed is None:
        # With spec.parameters, TT-13 already rejects such a reference at admission.
        return None if has_parameters else f"${{trialSpec.{key}}} is not trial metadata Katib can substitute"
    field = indexed.group(1).lower()
    present = get(trial_spec, "metadata", field) if trial_spec is not None else None
    if trial_spec is None or (isinstance(present, dict) and indexed.group(2) in present):
        return None
    return f"trialSpec.metadata.{field} has no key {indexed.group(2)!r}"


@rule(
    "TT-R2",
    "RUNTIME",
    "${trialSpec.Annotations[k]} and ${trialSpec.Labels[k]} name keys of trialSpec.metadata; bare Annotations/Labels "
    "and unknown metadata keys fail trial creation.",
)
def metadata_references(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is None:
        return
    trial_spec = _trial_spec(ctx)  # None for configMap sources: their metadata is not known here
    for index, entry, problem in _trial_parameters(ctx):
        match = META_REFERENCE.search(str(entry.get("reference"))) if problem is None else None
        message = _meta_problem(match.group(1), trial_spec, bool(ctx.parameters)) if match else None
        if message is not None:
            yield Finding(
                TEMPLATE + ("trialParameters", index, "reference"),
                f"{message}: trial creation fails",
                "metadata references are ${trialSpec.<Name|Namespace|Kind|APIVersion>} or "
                "${trialSpec.<Labels|Annotations>[key]}",
            )


# --------------------------------------------------------------- TT-R3


TYPED_FIELDS = INTEGER_FIELDS | BOOLEAN_FIELDS


def _placeholders_in_typed_fields(node: Any, path: Path, found: list[tuple[Path, str, str]]) -> None:
    """Add to `found` (path, key, value) of every entry under `node`, in document order, whose key is an integer
    or boolean field and whose value is a string with a placeholder."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if key in TYPED_FIELDS and PLACEHOLDER.search(value):  # (no key but a string is one of them)
                    found.append((path + (str(key),), str(key), value))
            elif isinstance(value, (dict, list)):
                _placeholders_in_typed_fields(value, path + (str(key),), found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (dict, list)):
                _placeholders_in_typed_fields(value, path + (index,), found)


@rule(
    "TT-R3",
    "RUNTIME",
    "No ${trialParameters.x} placeholder in an integer or boolean field of a known trial kind: placeholders always "
    "substitute as strings. "
    "A batch/v1 Job is left to TT-20, which Katib's webhook applies at admission.",
)
def typed_placeholders(ctx: Context) -> Iterator[Finding]:
    trial_spec = _trial_spec(ctx)
    kind = _trial_kind(ctx)
    if trial_spec is None or kind is None or kind.checked_at_admission:
        return
    found: list[tuple[Path, str, str]] = []
    _placeholders_in_typed_fields(trial_spec, (), found)
    for path, key, value in found:
        wanted = "an integer" if key in INTEGER_FIELDS else "a boolean"
        yield Finding(
            TRIAL_SPEC + path,
            f"{key} takes {wanted}, but {value!r} substitutes to a string: the {kind.kind} is refused when the "
            "trial is created",
            "write a literal value here, or tune it through the training code's arguments",
        )


# --------------------------------------------------------------- TT-R4

ENV_INJECTION_SINCE = (0, 18)  # mutatePodEnv: KATIB_TRIAL_NAME into the primary container of every trial pod
# The collectors whose injection wraps the primary container's command (pod/const.go,
# NeedWrapWorkerMetricsCollectorList): wrapWorkerContainer refuses a primary pod without it.
WRAPPED_COLLECTORS = frozenset({"StdOut", "File", "TensorFlowEvent"})


class _Pod(NamedTuple):
    what: str
    path: Path  # into the trialSpec: where its containers are written
    containers: list[Any]
    primary: bool | None  # matches primaryPodLabels; None: not known from the trial object
    hint: str


def _primary_roles(kind: kinds.TrialKind, templates: list[kinds.PodTemplate], labels: Mapping[str, Any]) -> set[str]:
    """The roles whose pods get the metrics collector: all without primaryPodLabels, else the matching role."""
    roles = [role for role, _, _ in templates]
    if not labels or roles == [""]:
        return set(roles)
    matched = {role for role, _, t in templates if all(get(t, "metadata", "labels", k) == v for k, v in labels.items())}
    if matched:
        return matched
    chosen = next((r for r in kind.primary_roles if r in roles), None)  # the role the default labels select
    return {chosen} if chosen else set(roles)


def _trial_pods(trial_spec: Mapping[str, Any], name: str, labels: Mapping[str, Any]) -> Iterator[_Pod]:
    """Every pod the trial creates whose containers the trial object names (none for an unknown kind)."""
    api_version, kind_name = str(trial_spec.get("apiVersion", "")), str(trial_spec.get("kind", ""))
    kind = kinds.lookup(kind_name, api_version)
    if kind is not None:
        templates = list(kinds.pod_templates(trial_spec, kind))
        primary = _primary_roles(kind, templates, labels)
        for role, path, pod in templates:
            containers = get(pod, "spec", "containers")
            yield _Pod(
                f"the {role} pod template" if role else "the pod template",
                path + ("spec", "containers"),
                containers if isinstance(containers, list) else [],
                role in primary,
                f"name a container {name!r} in every pod template, or set primaryContainerName to a name they all have",
            )
        return
    from katib_gitops.core import workflows  # only for a kind without pod templates: not on the common path

    if workflows.is_workflow(api_version, kind_name):
        for made in workflows.workflow_pods(trial_spec):
            matches = all(made.labels.get(k) == v for k, v in labels.items())
            yield _Pod(
                made.what,
                made.path,
                [{"name": c} for c in made.containers],
                matches or None,  # the controller adds labels the trial object does not show
                "Argo runs a template's code in container 'main': set primaryContainerName: main"
                if made.engine == "argo"
                else "Tekton names a step's container step-<step name>: give every task a step whose container "
                f"is {name!r}",
            )


@rule(
    "TT-R4",
    "RUNTIME",
    "primaryContainerName names a container of every pod the trial creates: since Katib 0.18 the pod webhook puts "
    "KATIB_TRIAL_NAME into that container of every trial pod and refuses a pod without it (VER-05, UP-08); before, "
    "only the primary pods needed it, for the StdOut, File and TensorFlowEvent collectors. Argo Workflow pods run "
    "the user's code in container `main`, Tekton steps in `step-<name>`.",
    remediation="The webhook sees every pod of a trial (the Experiment's namespace carries the label "
    "katib.kubeflow.org/metrics-collector-injection: enabled, G-06, which the webhook selects on) as far as Katib's "
    "RBAC lets it follow the pod's owners to the Trial (for Tekton, get on taskruns, as Katib's Tekton example "
    "asks). Name the primary container the same in every role, task and template.",
)
def primary_container_everywhere(ctx: Context) -> Iterator[Finding]:
    template, trial_spec = _template(ctx), _trial_spec(ctx)
    name = template.get("primaryContainerName") if template is not None else None
    if trial_spec is None or template is None or is_blank(name):
        return
    labels = template.get("primaryPodLabels")
    collector = str(get(ctx.spec, "metricsCollectorSpec", "collector", "kind") or "")
    for pod in _trial_pods(trial_spec, str(name), labels if isinstance(labels, dict) else {}):
        if name in [c.get("name") for c in pod.containers if isinstance(c, dict)]:
            continue
        if ctx.version >= ENV_INJECTION_SINCE:
            yield Finding(
                TRIAL_SPEC + pod.path,
                f"{pod.what} has no container named {name!r}: Katib's pod webhook puts KATIB_TRIAL_NAME into "
                "that container of every trial pod and refuses the pod without it (pod/utils.go:mutatePodEnv), "
                "so no trial runs",
                pod.hint,
            )
        elif pod.primary and collector in WRAPPED_COLLECTORS:
            yield Finding(
                TRIAL_SPEC + pod.path,
                f"{pod.what} has no container named {name!r}: Katib's pod webhook wraps that container's command "
                f"for the {collector} collector and refuses the pod without it (pod/utils.go:wrapWorkerContainer), "
                "so no trial runs",
                pod.hint,
            )


# --------------------------------------------------------------- TT-R5


def resource_name(api_version: str, kind: str) -> str:
    """`kubeflow.org/v1`, `TFJob` -> `TFJob.v1.kubeflow.org` (the katib-config trialResources format)."""
    group, _, version = api_version.rpartition("/")
    return f"{kind}.{version}.{group}".rstrip(".")


@rule(
    "TT-R5",
    "RUNTIME",
    "The trialSpec kind is listed in the katib-config's trialResources; otherwise the controller never sees trial "
    "jobs finish.",
)
def trial_resource_watched(ctx: Context) -> Iterator[Finding]:
    trial_spec = _trial_spec(ctx)
    if trial_spec is None or is_blank(trial_spec.get("kind")) or is_blank(trial_spec.get("apiVersion")):
        return  # configMap sources are unknown here; a missing apiVersion/kind is TT-19
    api_version, kind = str(trial_spec["apiVersion"]), str(trial_spec["kind"])
    if not ctx.config.trial_resource_known(api_version, kind):
        name = resource_name(api_version, kind)
        yield Finding(
            TRIAL_SPEC + ("kind",),
            f"{name} is not among the trialResources of {ctx.config.source}: trials will look stuck",
            f"add '{name}' to init.controller.trialResources of the katib-config (its CRD installed and Katib's RBAC "
            "allowing it), "
            "restart katib-controller, and pass that katib-config to the validator",
        )
