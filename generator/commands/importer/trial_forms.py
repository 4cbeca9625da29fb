"""The trial forms of the import: the short form (with the parameters' deliveries) and the raw trialSpec."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from katib_gitops.commands.importer.pods import prune, strip_istio_opt_out, strip_runtime_patch_istio
from katib_gitops.core.kinds import Layout, TrialKind, pod_templates
from katib_gitops.spec.model import camel_case, default_flag

# Container fields the short form writes itself; any other goes to `container`.
_SHORT_CONTAINER_FIELDS = ("name", "image", "imagePullPolicy", "command", "args", "env", "resources", "volumeMounts")
_TRAINER_FIELDS = ("image", "command", "args", "env", "numNodes", "resourcesPerNode")
_PLACEHOLDER = "${trialParameters.%s}"
_TRIAL_ORDER = (
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


class NoShortForm(Exception):
    """The trialSpec has something the short form cannot write; the message says what."""


# =================================================================== the raw form


def raw_trial(trial_spec: dict[str, Any], kind: TrialKind | None) -> dict[str, Any]:
    """The trialSpec for the escape hatch: as it is, minus the Istio opt-out the generator adds back."""
    out = copy.deepcopy(trial_spec)
    strip_runtime_patch_istio(out, kind)
    for _, _, pod in pod_templates(out, kind):
        if isinstance(pod, dict) and isinstance(pod.get("metadata"), dict):
            strip_istio_opt_out(pod["metadata"])
            prune(pod, "metadata")
    return out


# =================================================================== the short form


def short_trial(
    trial_spec: dict[str, Any], kind: TrialKind, container: str, parameters: Sequence[Mapping[str, Any]], flags: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(short-form trial, parameter passes) for `trial_spec`; NoShortForm when it does not fit."""
    extra = sorted(set(trial_spec) - {"apiVersion", "kind", "spec"})
    if extra:
        raise NoShortForm(f"the trialSpec sets {', '.join(extra)}")
    if kind.layout is Layout.RUNTIME:
        return _short_train_job(trial_spec, kind, parameters, flags)
    roles = _roles(trial_spec, kind)
    pods = {role: _pod(template, role, kind, container) for role, (_, template) in roles.items()}
    containers = {role: pod.pop("containers")[0] for role, pod in pods.items()}
    passes = (
        _infer_deliveries(list(containers.values()), parameters)
        if flags
        else {p["name"]: "placeholder" for p in parameters}
    )
    trial: dict[str, Any] = {"kind": kind.kind}
    overrides: dict[str, dict[str, Any]] = {role: {} for role in roles}
    trial.update(_shared_container(containers, overrides))
    trial.update(_pod_extras(pods))
    if kind.layout is Layout.REPLICAS:
        trial["replicas"] = {
            role: _role_entry(settings, overrides[role], kind) for role, (settings, _) in roles.items()
        }
    return _ordered(trial), passes


def _roles(trial_spec: dict[str, Any], kind: TrialKind) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    spec = trial_spec.get("spec") or {}
    if kind.layout is Layout.TEMPLATE:
        if set(spec) != {"template"}:
            raise NoShortForm(f"the {kind.kind} sets {', '.join(sorted(set(spec) - {'template'}))}")
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
    strip_istio_opt_out(meta)
    if meta or set(template) - {"metadata", "spec"}:
        raise NoShortForm(f"{where} sets pod template metadata ({', '.join(sorted(meta)) or 'other fields'})")
    pod = copy.deepcopy(template.get("spec") or {})
    names = [c.get("name") for c in pod.get("containers") or []]
    if names != [container]:
        raise NoShortForm(f"{where} has containers {names}, the short form writes one named '{container}'")
    if kind.layout is Layout.TEMPLATE:
        if pod.get("restartPolicy") is None:
            raise NoShortForm(
                f"the {kind.kind}'s pod sets no restartPolicy (the generator writes {kind.restart_policy})"
            )
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
    extras = [{k: v for k, v in containers[r].items() if k not in _SHORT_CONTAINER_FIELDS} for r in roles]
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
        for role, value in zip(roles, resources, strict=True):
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
    for role, value in zip(roles, values, strict=True):
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
        trial["env"] = _env_value(values[0][:common])
    for role, value in zip(roles, values, strict=True):
        if value[common:]:
            overrides[role]["env"] = _env_value(value[common:])


def _env_value(items: list[Any]) -> Any:
    """A map `{NAME: value}` when every entry is a plain string value, else the list itself."""
    plain = all(isinstance(e, dict) and set(e) == {"name", "value"} and isinstance(e["value"], str) for e in items)
    names = [e.get("name") for e in items if isinstance(e, dict)]
    return {e["name"]: e["value"] for e in items} if plain and len(set(names)) == len(items) else copy.deepcopy(items)


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
    trial_spec: dict[str, Any], kind: TrialKind, parameters: Sequence[Mapping[str, Any]], flags: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    trial_spec = copy.deepcopy(trial_spec)
    strip_runtime_patch_istio(trial_spec, kind)  # what is left of our runtime patch needs the raw trialSpec
    spec = trial_spec.get("spec") or {}
    trainer = copy.deepcopy(spec.get("trainer") or {})
    runtime = spec.get("runtimeRef") or {}
    if (
        set(spec) != {"runtimeRef", "trainer"}
        or list(runtime) != ["name"]
        or set(trainer) - set(_TRAINER_FIELDS)
        or "image" not in trainer
        or "numNodes" not in trainer
    ):
        raise NoShortForm(
            f"the {kind.kind} sets more than runtimeRef.name and the trainer's "
            "image, command, args, env, numNodes and resourcesPerNode"
        )
    passes = _infer_deliveries([trainer], parameters) if flags else {p["name"]: "placeholder" for p in parameters}
    trial: dict[str, Any] = {"kind": kind.kind, "runtime": runtime["name"], "image": trainer["image"]}
    for key in ("command", "args"):
        _set(trial, key, trainer.get(key))
    if trainer.get("env"):
        trial["env"] = _env_value(trainer["env"])
    _set(trial, "resources", trainer.get("resourcesPerNode"))
    if trainer["numNodes"] != 1:
        trial["replicas"] = {kind.primary_role: trainer["numNodes"]}
    return trial, passes


def _ordered(trial: dict[str, Any]) -> dict[str, Any]:
    return {k: trial[k] for k in _TRIAL_ORDER if k in trial}


# =================================================================== parameter deliveries


def _infer_deliveries(containers: list[dict[str, Any]], parameters: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """How each parameter reaches `containers`, popping the flags and env vars the generator appends.

    The generator appends `--flag value` / `--flag=value` to args and `{name,
    value}` to env, in parameter order, to every primary container; anything
    else is a placeholder left where it is.
    """
    passes: dict[str, Any] = {}
    touched: set[int] = set()
    for parameter in reversed(parameters):
        token = _PLACEHOLDER % parameter.get("trialParameter", camel_case(parameter["name"]))
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


def _lists(containers: list[dict[str, Any]], key: str) -> list[list[Any]]:
    """Each container's `key` list, itself (popping from it edits the container); an empty one where it is none."""
    return [value if isinstance(value, list) else [] for value in (c.get(key) for c in containers)]


def _pop_flag(containers: list[dict[str, Any]], token: str) -> dict[str, str] | None:
    tails = _lists(containers, "args")
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
    tails = _lists(containers, "env")
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
