"""The import of a Kubeflow Trainer OptimizationJob: a TuningSpec with `backend: optimizationjob` that provably
generates it back (as an Experiment's import, generator/commands/importer/experiment.py).

The OptimizationJob is validated first (rules/optimizationjob_checks.py: its errors refuse the import), then
admitted as the API server stores it (the CRD's defaults filled in), read back field by field, and the
spec is built through the generator (expand/optimizationjob.py) and compared with it, apart from the same
documented differences as an Experiment's: the name, the namespace, the generator's labels and annotations,
the Istio opt-out on the trainer's pods. The short form of the trial is tried first, then the raw TrainJob.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from katib_gitops.commands.importer.compare import comparable, differences, opt_out_places
from katib_gitops.commands.importer.experiment import (
    _RULE_ROUND_TRIP,
    ImportResult,
    _label,
    _strip_server_fields,
    read_back,
)
from katib_gitops.commands.importer.pods import ISTIO_KEY, ISTIO_VALUE, strip_istio_opt_out
from katib_gitops.commands.importer.profiles import NOTHING, extract_profile
from katib_gitops.commands.importer.reverse import RULE_UNSUPPORTED, name_of, number, spec_head
from katib_gitops.commands.importer.trial_forms import NoShortForm, raw_trial, short_trial
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity
from katib_gitops.core.kinds import API_VERSION, KINDS, SPEC_KIND
from katib_gitops.expand import optimizationjob as oj
from katib_gitops.rules import optimizationjob_checks, portability
from katib_gitops.schema import crd
from katib_gitops.spec.model import OPTIMIZATION_JOB_BACKEND, Profile
from katib_gitops.yamlio.documents import Document

KEY = (oj.API_VERSION, oj.KIND)
_DEFAULT_NAMESPACE = "default"
_TYPES = {"Float": "double", "Int": "int"}
_PORTABILITY = portability  # the TS-OPT-* rules judge the imported spec with the others


def import_optimization_job(document: Document) -> ImportResult:
    """One OptimizationJob as a TuningSpec that generates it back; FindingsError (with the reasons) if none does."""
    _refuse_invalid(document)
    source, notes = _strip_server_fields(document.data)
    original = crd.with_defaults(source, optimizationjob_checks.raw_schema())
    spec = original["spec"]
    meta = original["metadata"]
    name, name_note = name_of(meta)
    namespace = meta.get("namespace") or _DEFAULT_NAMESPACE
    notes += [n for n in (name_note, "" if meta.get("namespace") else f"no namespace: targets '{namespace}'") if n]
    head = spec_head(name, meta, notes)
    body: dict[str, Any] = {
        "backend": OPTIMIZATION_JOB_BACKEND,
        "objective": _objective(spec["objectives"][0]),
        "algorithm": _algorithm(spec["searchAlgorithm"]),
        "budget": {"maxTrials": spec["numTrials"], "parallelTrials": spec["parallelTrials"]},
        "parameters": [_parameter(document, index, p) for index, p in enumerate(spec["parameters"])],
    }
    expected = _comparable(original)
    tried: list[tuple[str, list[Diagnostic], list[str]]] = []
    for form, trial, profile, profile_body in _candidates(spec["trainJobTemplate"]):
        if trial is None:
            tried.append((form, [], [profile_body["reason"]]))
            continue
        full = {
            "apiVersion": API_VERSION,
            "kind": SPEC_KIND,
            "metadata": copy.deepcopy(head),
            "spec": {
                **copy.deepcopy(body),
                "trial": trial,
                "targets": {"namespaces": [namespace], "profiles": [profile]},
            },
        }
        found, diff = _verify(full, Profile(profile, profile_body), namespace, expected)
        if not found and not diff:
            notes.append(f"profile '{profile}': {profile_body.get('description', '').removeprefix('Imported: ')}")
            if form == "raw":
                notes.append("raw TrainJob trialSpec (the short form does not reproduce it)")
            where = f"{namespace}/{meta.get('name', name)}"
            return ImportResult(full, namespace, profile, profile_body, form, tuple(notes), _label(document), where)
        tried.append((form, found, diff))
    _, found, diff = tried[-1]
    if found:
        raise FindingsError([_on_source(document, d) for d in found])
    raise FindingsError(
        [
            document.diagnostic(
                ["spec"], _RULE_ROUND_TRIP, "no TuningSpec reproduces this OptimizationJob: " + "; ".join(diff)
            )
        ]
    )


def _refuse_invalid(document: Document) -> None:
    from katib_gitops.schema import manifests

    errors = [
        d for d in optimizationjob_checks.check(document, manifests.latest_kubernetes()) if d.severity is Severity.ERROR
    ]
    if errors:
        raise FindingsError(errors)


def _objective(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": str(raw["direction"]).lower(), "metric": raw["metric"]}


def _algorithm(raw: Mapping[str, Any]) -> dict[str, Any]:
    if "grid" in raw:
        return {"name": "grid"}
    seed = (raw.get("random") or {}).get("seed")
    return {"name": "random", **({"settings": {oj.SEED_SETTING: seed}} if seed is not None else {})}


def _parameter(document: Document, index: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    name = raw["name"]
    out: dict[str, Any] = {"name": name}
    space = raw["searchSpace"]
    env = oj.env_name(name)
    if "categorical" in space:
        out.update(type="categorical", values=list(space["categorical"]["choices"]))
    else:
        distribution = "uniform" if "uniform" in space else "logUniform"
        bounds = space[distribution]
        integer = bounds.get("type", "Float") == "Int"
        out["type"] = "int" if integer else "double"
        for key in ("min", "max"):
            value = number(bounds[key], integer)
            if value is None:
                path: list[str | int] = ["spec", "parameters", index, "searchSpace", distribution, key]
                raise FindingsError(
                    [
                        document.diagnostic(
                            path,
                            RULE_UNSUPPORTED,
                            f"{bounds[key]!r}: no spec number is written back as this text",
                            hint="write it as the generator does (0.01, 1e-05, 10)",
                        )
                    ]
                )
            out[key] = value
        if distribution != "uniform":
            out["distribution"] = distribution
    if env is not None:
        out["pass"] = {"env": env}
    return out


def _candidates(template: Mapping[str, Any]) -> Iterator[tuple[str, Any, str, dict[str, Any]]]:
    """(form, trial, profile, profile body): the short form, then the raw TrainJob (with, then without the profile)."""
    kind = KINDS["TrainJob"]
    trial_spec = {"apiVersion": kind.api_version, "kind": kind.kind, **copy.deepcopy(dict(template))}
    stripped, profile, body = extract_profile(trial_spec, kind, kind.container)
    short = copy.deepcopy(stripped)
    if not short.get("metadata"):
        short.pop("metadata", None)
    try:
        trial, _ = short_trial(short, kind, kind.container, [], flags=False)
        yield "short", trial, profile, body
    except NoShortForm as exc:
        yield "short", None, profile, {"reason": f"short form does not fit: {exc}"}
    yield "raw", {"trialSpec": raw_trial(stripped, kind)}, profile, body
    if stripped != trial_spec:
        yield "raw", {"trialSpec": raw_trial(trial_spec, kind)}, "imported", {"description": NOTHING}


def _verify(
    full: dict[str, Any], profile: Profile, namespace: str, expected: dict[str, Any]
) -> tuple[list[Diagnostic], list[str]]:
    found, spec = read_back(full, profile, namespace)
    if spec is None:
        return found, []
    return [], differences(expected, _comparable(oj.build_optimization_job(spec, profile)))


def _comparable(job: Mapping[str, Any]) -> dict[str, Any]:
    """The OptimizationJob as the round trip compares it: `comparable`'s metadata, the Istio opt-out filled in."""
    out = comparable(job)
    template = out["spec"].get("trainJobTemplate") or {}
    trial = {"apiVersion": oj.API_VERSION, "kind": "TrainJob", **template}
    for pod in opt_out_places(trial):
        metadata = pod.setdefault("metadata", {})
        strip_istio_opt_out(metadata)
        metadata.setdefault("labels", {})[ISTIO_KEY] = ISTIO_VALUE
    out["spec"]["trainJobTemplate"] = {k: trial[k] for k in ("metadata", "spec") if k in trial}
    return out


def _on_source(document: Document, found: Diagnostic) -> Diagnostic:
    hint = f"in the imported spec at {found.path}" + (f"; {found.hint}" if found.hint else "")
    return document.diagnostic(["spec"], found.rule_id, f"the imported spec would fail: {found.message}", hint=hint)
