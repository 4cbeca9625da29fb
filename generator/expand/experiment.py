"""Build stage: a TuningSpec (and optionally a Profile) becomes one complete Katib Experiment.

Pure functions over plain data. The output is canonical: every default Katib's
mutating webhook would add is written out (DEF-01..13), no zero-valued optional
field is written (G-04), so defaulting the result changes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.kinds import COUNT_FIELDS, DEFAULT_COLLECTOR_PATHS, DEFAULT_PARALLEL, Layout, TrialKind
from katib_gitops.spec.model import Parameter, Profile, TuningSpec

EXPERIMENT_API = "kubeflow.org/v1beta1"
HASH_LENGTH = 8
MAX_NAME = 40
LABEL_SPEC = "katib-gitops.dev/spec"
ANNOTATION_PROFILE = "katib-gitops.dev/profile"
MANAGED_BY = {"app.kubernetes.io/managed-by": "katib-gitops"}
# Keep results safe (gitops-notes b6, b8): never prune or delete an Experiment
# from GitOps, don't flag a retired one as OutOfSync, and keep Flux's envsubst
# away from Katib's ${trialParameters.x} placeholders.
SAFETY_ANNOTATIONS = {
    "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
    "argocd.argoproj.io/compare-options": "IgnoreExtraneous",
    "kustomize.toolkit.fluxcd.io/prune": "disabled",
    "kustomize.toolkit.fluxcd.io/substitute": "disabled",
}


# ------------------------------------------------------------- values


def katib_string(value: Any) -> str:
    """Katib stores numbers and settings as strings (G-03)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def quantities(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Requests and limits with fractional amounts as strings (cpu: 0.5 -> "0.5").

    CRDs type a quantity as int-or-string, so the API server refuses 0.5 in a
    TFJob, PyTorchJob, ... or TrainJob; "0.5" is the same quantity.
    """
    out = copy.deepcopy(dict(resources))
    for amounts in out.values():
        if isinstance(amounts, dict):
            amounts.update({k: katib_string(v) for k, v in amounts.items() if isinstance(v, float)})
    return out


def placeholder(parameter: Parameter) -> str:
    return f"${{trialParameters.{parameter.trial_parameter}}}"


# ------------------------------------------------------------- trial kind


def trial_kind(spec: TuningSpec) -> TrialKind | None:
    """The known kind of the trial, or None for a raw trialSpec of another kind."""
    trial = spec.trial
    if "trialSpec" in trial:
        raw = trial["trialSpec"]
        return kinds.lookup(raw.get("kind", ""), raw.get("apiVersion"))
    return kinds.KINDS[trial["kind"]]


def primary_container(spec: TuningSpec) -> str:
    kind = trial_kind(spec)
    default = kind.container if kind else "main"
    return str(spec.trial.get("primaryContainer", default))


# ------------------------------------------------------------- short form


def env_list(env: Any) -> list[Any]:
    if isinstance(env, Mapping):
        return [{"name": k, "value": katib_string(v)} for k, v in env.items()]
    return copy.deepcopy(list(env or []))


def _container(trial: Mapping[str, Any], role: Mapping[str, Any], name: str) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": role.get("image", trial["image"])}
    if "imagePullPolicy" in trial:
        container["imagePullPolicy"] = trial["imagePullPolicy"]
    for key in ("command", "args"):
        value = role.get(key, trial.get(key))
        if value:
            container[key] = list(value)
    env = env_list(trial.get("env")) + env_list(role.get("env"))
    if env:
        container["env"] = env
    resources = quantities(merge(trial.get("resources", {}), role.get("resources", {})))
    if resources:
        container["resources"] = resources
    if trial.get("volumeMounts"):
        container["volumeMounts"] = copy.deepcopy(trial["volumeMounts"])
    return merge(container, trial.get("container", {}))


def _pod_template(trial: Mapping[str, Any], role: Mapping[str, Any], kind: TrialKind, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = {}
    if kind.layout is Layout.TEMPLATE:
        pod["restartPolicy"] = kind.restart_policy
    pod["containers"] = [_container(trial, role, name)]
    if trial.get("volumes"):
        pod["volumes"] = copy.deepcopy(trial["volumes"])
    pod = merge(pod, trial.get("pod", {}))
    return {"metadata": {}, "spec": pod}  # the Istio opt-out: build_trial_spec


def _roles(trial: Mapping[str, Any], kind: TrialKind) -> Iterator[tuple[str, dict[str, Any]]]:
    for role, value in (trial.get("replicas") or kind.default_replicas).items():
        yield role, ({"replicas": value} if isinstance(value, int) else dict(value))


def short_form(trial: Mapping[str, Any], kind: TrialKind, container: str) -> dict[str, Any]:
    head = {"apiVersion": kind.api_version, "kind": kind.kind}
    if kind.layout is Layout.RUNTIME:
        return {**head, "spec": _train_job(trial, kind)}
    if kind.layout is Layout.TEMPLATE:
        return {**head, "spec": {"template": _pod_template(trial, {}, kind, container)}}
    replicas = {}
    for role, settings in _roles(trial, kind):
        replicas[role] = {
            "replicas": settings.get("replicas", 1),
            "restartPolicy": settings.get("restartPolicy", kind.restart_policy),
            "template": _pod_template(trial, settings, kind, container),
        }
    return {**head, "spec": {kind.replica_field: replicas}}


def _train_job(trial: Mapping[str, Any], kind: TrialKind) -> dict[str, Any]:
    node = dict(next(_roles(trial, kind), (kind.primary_role, {}))[1]) if trial.get("replicas") else {}
    trainer: dict[str, Any] = {"image": trial["image"]}
    for key in ("command", "args"):
        if trial.get(key):
            trainer[key] = list(trial[key])
    if trial.get("env"):
        trainer["env"] = env_list(trial["env"])
    trainer["numNodes"] = node.get("replicas", 1)
    if trial.get("resources"):
        trainer["resourcesPerNode"] = quantities(trial["resources"])
    return {"runtimeRef": {"name": trial["runtime"]}, "trainer": trainer}


# ------------------------------------------------------------- containers


def pod_specs(trial_spec: dict[str, Any], kind: TrialKind | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(role, pod spec) of every pod of the trial, the pod spec made where it is missing."""
    for role, path in kinds.pod_template_places(trial_spec, kind):
        node: Any = trial_spec
        for part in (*path, "spec"):
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        if isinstance(node, dict):  # wrong types are the schema's to report
            yield role, node


def primary_containers(trial_spec: dict[str, Any], kind: TrialKind | None, name: str) -> Iterator[dict[str, Any]]:
    """The primary container of every pod, or TrainJob's trainer, which becomes it."""
    if kind is not None and kind.layout is Layout.RUNTIME:
        yield trial_spec.setdefault("spec", {}).setdefault("trainer", {})
        return
    for _, pod in pod_specs(trial_spec, kind):
        for container in pod.get("containers", []):
            if container.get("name") == name:
                yield container


def inject_parameters(
    trial_spec: dict[str, Any], kind: TrialKind | None, container_name: str, parameters: tuple[Parameter, ...]
) -> None:
    args: list[str] = []
    env: list[dict[str, str]] = []
    for parameter in parameters:
        delivery = parameter.delivery
        if delivery.mode == "flag" and delivery.style == "equals":
            args.append(f"{delivery.flag}={placeholder(parameter)}")
        elif delivery.mode == "flag":
            args.extend([delivery.flag, placeholder(parameter)])
        elif delivery.mode == "env":
            env.append({"name": delivery.env, "value": placeholder(parameter)})
    if not args and not env:
        return
    for container in primary_containers(trial_spec, kind, container_name):
        if args:
            container["args"] = list(container.get("args", [])) + args
        if env:
            container["env"] = list(container.get("env", [])) + copy.deepcopy(env)


# ------------------------------------------------------------- profiles


def split_image(reference: str) -> tuple[str, str, str]:
    """`repo/name:tag@digest` -> (repo/name, tag, digest)."""
    name, _, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def retag(reference: str, rules: list[Mapping[str, str]]) -> str:
    """Kustomize-style image override: match on the name, replace name and/or tag."""
    name, tag, digest = split_image(reference)
    for rule in rules:
        if rule["name"] != name:
            continue
        new_name = rule.get("newName", name)
        if "newTag" in rule:
            return f"{new_name}:{rule['newTag']}"
        return new_name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return reference


def profile_fields(trial: Mapping[str, Any], kind: TrialKind, role: str, profile: Mapping[str, Any]) -> frozenset[str]:
    """Which of a profile's pod fields (PROFILE_POD_FIELDS) `role` receives.

    The spec's `trial.profileRoles` decides for a role it names. Otherwise the kind's roles that
    compute get all four; a profile with `roles` gives its resources to those roles instead, and its
    nodeSelector, tolerations and runtimeClassName to them as well as to the roles that compute.
    """
    chosen = (trial.get("profileRoles") or {}).get(role)
    if chosen is not None:
        return frozenset(kinds.PROFILE_POD_FIELDS) if chosen is True else frozenset(chosen or ())
    computes = kind.computes(role)
    named = kind.layout is Layout.REPLICAS and bool(profile.get("roles"))
    in_roles = named and role in profile["roles"]
    fields = {"resources"} if (in_roles if named else computes) else set()
    if computes or in_roles:
        fields.update(kinds.PROFILE_POD_FIELDS[1:])
    return frozenset(fields)


def apply_profile(
    trial_spec: dict[str, Any], kind: TrialKind | None, container_name: str, profile: Profile, trial: Mapping[str, Any]
) -> None:
    """Apply `profile` to `trial_spec`; `trial` is the spec's trial (its profileRoles)."""
    body = profile.body
    for field, label in kinds.KUEUE_LABELS.items():
        if body.get(field):
            _set_job_label(trial_spec, label, body[field])
    if kind is not None and kind.layout is Layout.RUNTIME:
        _apply_to_trainer(trial_spec, kind, body, profile_fields(trial, kind, kind.primary_role, body))
    elif kind is not None:
        for role, pod in pod_specs(trial_spec, kind):
            _apply_to_pod(pod, container_name, body, profile_fields(trial, kind, role, body))
    if body.get("images"):
        for container in _all_containers(trial_spec, kind):
            container["image"] = retag(container["image"], body["images"])


def _set_job_label(trial_spec: dict[str, Any], label: str, value: str) -> None:
    """A Kueue label on the trial job itself, for any kind; the profile wins over the trialSpec's own."""
    metadata = trial_spec.setdefault("metadata", {})
    if isinstance(metadata, dict) and isinstance(metadata.setdefault("labels", {}), dict):  # else: the schema's
        metadata["labels"][label] = value


def _apply_to_pod(pod: dict[str, Any], container_name: str, body: Mapping[str, Any], fields: frozenset[str]) -> None:
    if "resources" in fields and body.get("resources"):
        for container in pod.get("containers", []):
            if isinstance(container, dict) and container.get("name") == container_name:
                container["resources"] = merge(container.get("resources", {}), quantities(body["resources"]))
    if "nodeSelector" in fields and body.get("nodeSelector"):
        pod["nodeSelector"] = {**pod.get("nodeSelector", {}), **body["nodeSelector"]}
    if "tolerations" in fields and body.get("tolerations"):
        pod["tolerations"] = list(pod.get("tolerations", [])) + copy.deepcopy(body["tolerations"])
    if "runtimeClassName" in fields and body.get("runtimeClassName"):
        pod["runtimeClassName"] = body["runtimeClassName"]


def _apply_to_trainer(
    trial_spec: dict[str, Any], kind: TrialKind, body: Mapping[str, Any], fields: frozenset[str]
) -> None:
    """A TrainJob: resources to trainer.resourcesPerNode, pod fields through our runtime patch (Trainer v2.2+).

    runtimeClassName has no place in a runtime patch: TS-TARGETS refuses a profile that sets it.
    """
    if "resources" in fields and body.get("resources"):
        trainer = trial_spec.setdefault("spec", {}).setdefault("trainer", {})
        trainer["resourcesPerNode"] = merge(trainer.get("resourcesPerNode", {}), quantities(body["resources"]))
    pod_fields = {k: body[k] for k in ("nodeSelector", "tolerations") if k in fields and body.get(k)}
    if not pod_fields:
        return
    pod = trainer_pod_patch(trial_spec, kind).setdefault("spec", {})
    if "nodeSelector" in pod_fields:
        pod["nodeSelector"] = {**pod.get("nodeSelector", {}), **pod_fields["nodeSelector"]}
    if "tolerations" in pod_fields:
        pod["tolerations"] = list(pod.get("tolerations", [])) + copy.deepcopy(pod_fields["tolerations"])


def trainer_pod_patch(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, Any]:
    """The pod template of the trainer's replicated job in katib-gitops' runtime patch, made where missing.

    spec.runtimePatches[manager=katib-gitops.dev/manager].trainingRuntimeSpec.template.spec
    .replicatedJobs[name=node].template.spec.template: {metadata, spec} (the Trainer v2.3.0 CRD allows
    labels and annotations in its metadata and a subset of a PodSpec in its spec).
    """
    patches = trial_spec.setdefault("spec", {}).setdefault("runtimePatches", [])
    ours = next((p for p in patches if isinstance(p, dict) and p.get("manager") == kinds.RUNTIME_PATCH_MANAGER), None)
    if ours is None:
        ours = {"manager": kinds.RUNTIME_PATCH_MANAGER}
        patches.append(ours)
    jobset = ours.setdefault("trainingRuntimeSpec", {}).setdefault("template", {}).setdefault("spec", {})
    jobs = jobset.setdefault("replicatedJobs", [])
    job = next((j for j in jobs if isinstance(j, dict) and j.get("name") == kind.primary_role), None)
    if job is None:
        job = {"name": kind.primary_role}
        jobs.append(job)
    template: dict[str, Any] = job.setdefault("template", {}).setdefault("spec", {}).setdefault("template", {})
    return template


def _all_containers(trial_spec: dict[str, Any], kind: TrialKind | None) -> Iterator[dict[str, Any]]:
    if kind is not None and kind.layout is Layout.RUNTIME:
        yield trial_spec["spec"]["trainer"]
        return
    for _, pod in pod_specs(trial_spec, kind):
        for key in ("initContainers", "containers"):
            yield from (c for c in pod.get(key, []) if "image" in c)


def add_istio_opt_out(trial_spec: dict[str, Any], kind: TrialKind | None, katib_version: tuple[int, int]) -> None:
    """`sidecar.istio.io/inject: "false"` on every pod template, as the label (Katib >= 0.19) and, for an
    older Katib, as the annotation too; a value the spec sets itself is kept.

    A TrainJob has no pod template of its own: its trainer node's pods get it through our runtime patch.
    """
    for pod_template in _istio_pod_templates(trial_spec, kind):
        metadata = pod_template.setdefault("metadata", {})
        for field, values in kinds.istio_off_metadata(katib_version).items():
            if isinstance(metadata.setdefault(field, {}), dict):
                for key, value in values.items():
                    metadata[field].setdefault(key, value)


def _istio_pod_templates(trial_spec: dict[str, Any], kind: TrialKind | None) -> Iterator[dict[str, Any]]:
    if kind is not None and kind.layout is Layout.RUNTIME:
        spec = trial_spec.get("spec", {})
        if isinstance(spec, dict) and isinstance(spec.get("runtimePatches", []), list):  # else: the schema's
            yield trainer_pod_patch(trial_spec, kind)
        return
    for _, _, pod_template in kinds.pod_templates(trial_spec, kind):
        if isinstance(pod_template, dict):
            yield pod_template


def build_trial_spec(
    spec: TuningSpec,
    profile: Profile | None,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    *,
    placeholders: bool = True,
) -> dict[str, Any]:
    """The trial's job with the profile applied; `placeholders`: with Katib's parameter placeholders (an
    OptimizationJob's controller passes the values itself, as environment variables)."""
    kind = trial_kind(spec)
    container = primary_container(spec)
    trial = spec.trial
    if "trialSpec" in trial:
        trial_spec = copy.deepcopy(dict(trial["trialSpec"]))
    else:
        assert kind is not None
        trial_spec = short_form(trial, kind, container)
    add_istio_opt_out(trial_spec, kind, katib_version)
    if placeholders:
        inject_parameters(trial_spec, kind, container, spec.parameters)
    if profile is not None:
        apply_profile(trial_spec, kind, container, profile, trial)
    return trial_spec


# ------------------------------------------------------------- experiment spec


def merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of mappings; `extra` wins, lists are replaced."""
    out = copy.deepcopy(dict(base))
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def budget(spec: TuningSpec, profile: Profile | None) -> dict[str, Any]:
    """The spec's budget, then the profile's, then the spec's own for that profile (targets.budget)."""
    if profile is None:
        return dict(spec.body.get("budget", {}))
    return {**spec.body.get("budget", {}), **profile.budget, **spec_profile_budget(spec, profile.name)}


def spec_profile_budget(spec: TuningSpec, profile: str) -> Mapping[str, Any]:
    """spec.targets.budget.<profile>: what the spec sets for one profile, over the profile's budget."""
    found: Mapping[str, Any] = (spec.body["targets"].get("budget") or {}).get(profile, {})
    return found


def counts(plan: Mapping[str, Any]) -> dict[str, int]:
    out = {"parallelTrialCount": plan.get("parallelTrials", DEFAULT_PARALLEL)}
    if "maxTrials" in plan:
        out["maxTrialCount"] = plan["maxTrials"]
    if "maxFailedTrials" in plan:
        out["maxFailedTrialCount"] = plan["maxFailedTrials"]
    return out


def objective(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": raw["type"]}
    if "goal" in raw:
        out["goal"] = raw["goal"]
    out["objectiveMetricName"] = raw["metric"]
    extra = list(raw.get("additionalMetrics", []))
    if extra:
        out["additionalMetricNames"] = extra
    default = "min" if raw["type"] == "minimize" else "max"
    chosen = raw.get("strategies", {})
    out["metricStrategies"] = [{"name": m, "value": chosen.get(m, default)} for m in [raw["metric"], *extra]]
    return out


def algorithm(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"algorithmName": raw["name"]}
    settings = raw.get("settings", {})
    if settings:
        out["algorithmSettings"] = [{"name": k, "value": katib_string(v)} for k, v in settings.items()]
    return out


def feasible_space(parameter: Parameter) -> dict[str, Any]:
    if parameter.type in ("categorical", "discrete"):
        return {"list": [katib_string(v) for v in parameter.values], "distribution": parameter.distribution}
    space = {"min": katib_string(parameter.min), "max": katib_string(parameter.max)}
    if parameter.step is not None:
        space["step"] = katib_string(parameter.step)
    return {**space, "distribution": parameter.distribution}


def parameters(spec: TuningSpec) -> list[dict[str, Any]]:
    return [{"name": p.name, "parameterType": p.type, "feasibleSpace": feasible_space(p)} for p in spec.parameters]


def nas_config(nas: Mapping[str, Any]) -> dict[str, Any]:
    """spec.nasConfig: the graph as given, each operation's parameters in Katib's form.

    No distribution: DEF-13 is for spec.parameters only.
    """
    operations = []
    for operation in nas["operations"]:
        item: dict[str, Any] = {"operationType": operation["type"]}
        if "parameters" in operation:
            item["parameters"] = [
                {"name": p["name"], "parameterType": p["type"], "feasibleSpace": _operation_space(p)}
                for p in operation["parameters"]
            ]
        operations.append(item)
    return {"graphConfig": copy.deepcopy(dict(nas.get("graph", {}))), "operations": operations}


def _operation_space(raw: Mapping[str, Any]) -> dict[str, Any]:
    if raw["type"] in ("categorical", "discrete"):
        return {"list": [katib_string(v) for v in raw.get("values", [])]}
    return {key: katib_string(raw[key]) for key in ("min", "max", "step") if key in raw}


def metrics_collector(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    raw = raw or {"kind": "StdOut"}
    kind = raw["kind"]
    collector: dict[str, Any] = {"kind": kind}
    if kind == "Custom":
        collector["customCollector"] = copy.deepcopy(raw.get("container", {}))
    source: dict[str, Any] = {}
    if kind == "File":
        source["fileSystemPath"] = {
            "path": raw.get("path", DEFAULT_COLLECTOR_PATHS["File"]),
            "kind": "File",
            "format": raw.get("format", "TEXT"),
        }
    elif kind == "TensorFlowEvent":
        source["fileSystemPath"] = {
            "path": raw.get("path", DEFAULT_COLLECTOR_PATHS["TensorFlowEvent"]),
            "kind": "Directory",
        }
    elif kind == "PrometheusMetric":
        source["httpGet"] = {"path": raw.get("path", "/metrics"), "port": raw.get("port", 8080)}
    elif kind == "Custom" and "path" in raw:
        source["fileSystemPath"] = {"path": raw["path"], "kind": "File"}
    if raw.get("filter"):
        source["filter"] = {"metricsFormat": list(raw["filter"])}
    return {"collector": collector, **({"source": source} if source else {})}


METADATA_REFERENCE = "${trialSpec."


def default_description(reference: str, *, nas: bool = False) -> str:
    """What the generator writes for a trialParameter without a description (the importer reads it back)."""
    if reference.startswith(METADATA_REFERENCE):
        return f"the trial's {reference[len(METADATA_REFERENCE) : -1]}"
    return f"the {reference} the algorithm assigns" if nas else f"value of parameter {reference}"


def trial_parameters(spec: TuningSpec) -> list[dict[str, str]]:
    """One per parameter in order (or per NAS assignment), then those of the trial's own metadata (TT-14)."""
    entries = [(p.trial_parameter, p.name, p.description) for p in spec.parameters]
    entries += [
        (a["name"], a["reference"], a.get("description")) for a in spec.body.get("nas", {}).get("assignments", [])
    ]
    entries += [(m["name"], m["reference"], m.get("description")) for m in spec.trial.get("metadataParameters", [])]
    nas = "nas" in spec.body
    return [
        {"name": name, "description": description or default_description(reference, nas=nas), "reference": reference}
        for name, reference, description in entries
    ]


def trial_template(spec: TuningSpec, trial_spec: dict[str, Any]) -> dict[str, Any]:
    trial = spec.trial
    kind = trial_kind(spec)
    out: dict[str, Any] = {}
    if trial.get("retain"):
        out["retain"] = True
    out["primaryContainerName"] = primary_container(spec)
    out["successCondition"] = trial.get("successCondition", kind.success if kind else "")
    out["failureCondition"] = trial.get("failureCondition", kind.failure if kind else "")
    labels = dict(trial.get("primaryPodLabels", default_pod_labels(kind, trial_spec)))
    if labels:
        out["primaryPodLabels"] = labels
    out["trialParameters"] = trial_parameters(spec)
    out["trialSpec"] = trial_spec
    return out


def default_pod_labels(kind: TrialKind | None, trial_spec: Mapping[str, Any]) -> Mapping[str, str]:
    return kind.default_pod_labels(trial_spec) if kind is not None else {}


def experiment_spec(
    spec: TuningSpec,
    profile: Profile | None,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    budget_from: Profile | None = None,
) -> dict[str, Any]:
    body = spec.body
    plan = budget(spec, profile or budget_from)
    out: dict[str, Any] = counts(plan)
    out["resumePolicy"] = plan.get("resumePolicy", "Never")
    out["objective"] = objective(body["objective"])
    out["algorithm"] = algorithm(body["algorithm"])
    if "earlyStopping" in body:
        out["earlyStopping"] = algorithm(body["earlyStopping"])
    if "nas" in body:
        out["nasConfig"] = nas_config(body["nas"])
    else:
        out["parameters"] = parameters(spec)
    out["metricsCollectorSpec"] = metrics_collector(spec.trial.get("metricsCollector"))
    out["trialTemplate"] = trial_template(spec, build_trial_spec(spec, profile, katib_version))
    return out


# ------------------------------------------------------------- naming


def immutable_hash(spec_body: Mapping[str, Any], profile: str = "") -> str:
    """Short hash of every field Katib forbids changing after creation (UPD-01).

    The profile name is hashed too, so two profiles of one spec never share an
    Experiment name in a namespace, even when they differ only in counts.
    """
    frozen = {k: v for k, v in spec_body.items() if k not in COUNT_FIELDS}
    text = json.dumps([profile, frozen], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def experiment_name(spec_name: str, spec_body: Mapping[str, Any], profile: str = "") -> str:
    return f"{spec_name}-{immutable_hash(spec_body, profile)}"


def build_experiment(
    spec: TuningSpec,
    profile: Profile | None = None,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    *,
    budget_from: Profile | None = None,
) -> dict[str, Any]:
    """The complete Experiment for `spec`, for one profile or profile-neutral (the base), for `katib_version`.

    The base takes its counts from `budget_from` (its first profile, expand/overlays.py), so that it is an
    Experiment Katib accepts whenever that profile's is: a spec may leave counts to its profiles.
    """
    body = experiment_spec(spec, profile, katib_version, budget_from)
    annotations = {**spec.annotations, **SAFETY_ANNOTATIONS, LABEL_SPEC: spec.name}
    if profile is not None:
        annotations[ANNOTATION_PROFILE] = profile.name
    labels = {**spec.labels, **MANAGED_BY, LABEL_SPEC: spec.name}
    name = experiment_name(spec.name, body, profile.name if profile else "")
    metadata = {"name": name, "labels": labels, "annotations": annotations}
    return {"apiVersion": EXPERIMENT_API, "kind": "Experiment", "metadata": metadata, "spec": body}
