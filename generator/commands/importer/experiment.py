"""The core of the import: one Experiment document becomes a TuningSpec that provably generates it back."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from katib_gitops.commands.importer.compare import comparable, differences, opt_out_places
from katib_gitops.commands.importer.pods import ISTIO_KEY, ISTIO_VALUE, trial_kind_of
from katib_gitops.commands.importer.profiles import NOTHING, extract_profile
from katib_gitops.commands.importer.reverse import (
    RULE_UNSUPPORTED,
    algorithm_of,
    budget_of,
    collector_of,
    metadata_parameters_of,
    name_of,
    nas_of,
    objective_of,
    parameters_of,
    spec_head,
    template_fields,
)
from katib_gitops.commands.importer.trial_forms import NoShortForm, raw_trial, short_trial
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity
from katib_gitops.core.kinds import API_VERSION, SPEC_KIND, TrialKind
from katib_gitops.core.registry import declare
from katib_gitops.expand.experiment import build_experiment
from katib_gitops.rules import spec_checks
from katib_gitops.schema import ours
from katib_gitops.spec.model import Profile, SpecSet, Targets, TuningSpec, parse_spec
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text
from katib_gitops.yamlio.writer import dump

EXPERIMENT = ("kubeflow.org/v1beta1", "Experiment")
V1ALPHA3 = ("kubeflow.org/v1alpha3", "Experiment")
_NO_TRIAL_TEMPLATES: Mapping[tuple[str, str, str], str] = {}  # no ConfigMap trial templates known (--trial-templates)
_DEFAULT_NAMESPACE = "default"
_KEPT_METADATA = ("name", "generateName", "namespace", "labels", "annotations")
# Validator rules whose verdict depends on the cluster's katib-config, which an
# import cannot know: reported as notes, not refusals.
_CLUSTER_RULES = frozenset({"TT-R5"})
# Rule IDs of import refusals (documented in docs/migration.md); the others are in reverse.py.
_RULE_ROUND_TRIP = declare(  # no spec form reproduces the Experiment
    "import-round-trip",
    "IMPORT",
    "The spec generates the original Experiment back (after Katib's defaulting), or nothing is written.",
).id
_RULE_KIND = declare(  # not a kubeflow.org/v1beta1 Experiment
    "import-kind",
    "IMPORT",
    "Only Katib v1beta1 Experiments (and v1alpha3 ones, migrated first) and Kubeflow Trainer OptimizationJobs "
    "are imported.",
).id
# Where on the Experiment a spec check of the imported spec points, by the spec path it found.
_SOURCE_PATHS = (
    ("spec.trial", ["spec", "trialTemplate"]),
    ("spec.parameters", ["spec", "parameters"]),
    ("spec.algorithm", ["spec", "algorithm"]),
    ("spec.earlyStopping", ["spec", "earlyStopping"]),
    ("spec.objective", ["spec", "objective"]),
    ("metadata", ["metadata"]),
)


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """One imported Experiment: its spec, where it ran, and what the reader should know."""

    spec: dict[str, Any]  # the TuningSpec document, plain data
    namespace: str
    profile: str  # proposed profile name; `merge_imports` may reuse or rename it
    profile_body: dict[str, Any]
    form: str  # "short" | "raw"
    notes: tuple[str, ...]
    source: str  # file (and document index) it came from
    experiment: str  # namespace/name of the source Experiment

    @property
    def name(self) -> str:
        return str(self.spec["metadata"]["name"])


@dataclasses.dataclass(frozen=True)
class _Draft:
    """The spec apart from its trial form: what every candidate shares."""

    head: dict[str, Any]  # metadata
    body: dict[str, Any]  # objective, algorithm, earlyStopping, budget, nas
    parameters: list[dict[str, Any]]  # without `pass`
    fields: dict[str, Any]  # trial fields outside the trial form
    namespace: str


@dataclasses.dataclass(frozen=True)
class _Candidate:
    """One way of writing the trial, with the profile it is built with."""

    form: str
    trial: dict[str, Any] | None  # None: this form does not fit (see `reason`)
    passes: Mapping[str, Any]  # parameter name -> its `pass` (absent: the default flag)
    profile: str
    profile_body: dict[str, Any]
    reason: str = ""


_Tried = list[tuple[_Candidate, list[Diagnostic], list[str]]]  # each candidate, its spec problems and differences


# =================================================================== the document


def import_document(
    document: Document, trial_templates: Mapping[tuple[str, str, str], str] = _NO_TRIAL_TEMPLATES
) -> ImportResult:
    """Import a v1beta1 Experiment, or a v1alpha3 one after `katib_gitops.migration.convert` converted it."""
    data = document.data
    if not (isinstance(data, dict) and (data.get("apiVersion"), data.get("kind")) == V1ALPHA3):
        return import_experiment(document, trial_templates)
    migrated, notes = migrated_document(document)
    result = import_experiment(migrated, trial_templates)
    return dataclasses.replace(result, notes=(*notes, *result.notes), source=_label(document))


def migrated_document(document: Document) -> tuple[Document, list[str]]:
    """The v1beta1 Experiment `katib-gitops migrate` makes of a v1alpha3 one, and its notes; errors refuse the import.

    Migration errors point into the source file; later refusals into the migrated
    text, as `katib-gitops migrate FILE` prints it.
    """
    from katib_gitops.migration.convert import migrate_text

    text = _source_text(document)
    migration = migrate_text(text, document.file)
    order = [d.index for d in load_documents(text, document.file)]
    result = migration.results[order.index(document.index)]
    if result.errors:
        raise FindingsError(list(result.errors))
    notes = [f"migrated from v1alpha3: {d.message} [{d.rule_id}]" for d in result.diagnostics]
    notes += [f"migrated from v1alpha3: {n.message} [{n.rule_id}]" for n in result.notes]
    # Documents that failed to migrate are left out of the migrated text: count only
    # those kept before this one to find it there.
    kept = [i for i, r in zip(order, migration.results, strict=True) if r.status == "unchanged" or r.node is not None]
    migrated = load_documents(migration.text, f"{document.file} (migrated)")
    return migrated[kept.index(document.index)], notes


def _source_text(document: Document) -> str:
    """The text `document` was read from: its file, or (stdin, a rendered kustomization) its canonical dump."""
    path = Path(document.file)
    if path.is_file():
        text = read_text(path, document.file)
        if any(d.index == document.index and d.data == document.data for d in load_documents(text, document.file)):
            return text
    return _dump_with_index(document)


def _dump_with_index(document: Document) -> str:
    """A stream whose document `document.index` is `document` (earlier ones empty), so indices line up."""
    return "---\n" * document.index + dump(document.data)


def _label(document: Document) -> str:
    return document.file if document.index == 0 else f"{document.file} (document {document.index + 1})"


# =================================================================== the Experiment


def import_experiment(
    document: Document, trial_templates: Mapping[tuple[str, str, str], str] = _NO_TRIAL_TEMPLATES
) -> ImportResult:
    """One v1beta1 Experiment as a TuningSpec that provably generates it back; FindingsError if none does.

    The proof: the spec is written out, read back, built through the generator
    with its profile, and must equal the source Experiment after Katib's
    defaulting, apart from the documented differences (`comparable`): the name,
    the namespace, the generator's labels and annotations, the Istio opt-out on
    pod templates of known kinds, default trialParameter descriptions and the
    order of metricStrategies. The short form is tried first, the raw trialSpec
    escape hatch next; an Experiment neither reproduces is refused, never changed.
    """
    data = document.data
    if not isinstance(data, dict) or (data.get("apiVersion"), data.get("kind")) != EXPERIMENT:
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise FindingsError([document.diagnostic([], _RULE_KIND, f"not a kubeflow.org/v1beta1 Experiment ({kind})")])
    # First: a broken Experiment is refused with Katib's reason.
    warnings = _validator_findings(document, trial_templates)
    _refuse_unsupported(document)
    notes: list[str] = [f"validator: {d.message} [{d.rule_id}]" for d in warnings]
    source, dropped = _strip_server_fields(data)
    notes += dropped
    original = apply_katib_defaults(source)
    return _import(document, original, notes)


def _validator_findings(document: Document, trial_templates: Mapping[tuple[str, str, str], str]) -> list[Diagnostic]:
    """The validator's verdict on the source: its errors refuse the import, its warnings become notes."""
    from katib_gitops.rules import validator
    from katib_gitops.schema import manifests

    env = validator.Env(validator.Options(()), manifests.latest_kubernetes(), {}, trial_templates=trial_templates)
    found = validator.check_document(document, env)
    errors = [d for d in found if d.severity is Severity.ERROR and d.rule_id not in _CLUSTER_RULES]
    if errors:
        raise FindingsError(errors)
    return found


def _refuse_unsupported(document: Document) -> None:
    spec = document.data.get("spec") or {}
    template = spec.get("trialTemplate") or {}
    if "configMap" in template:
        raise FindingsError(
            [
                document.diagnostic(
                    ["spec", "trialTemplate", "configMap"],
                    RULE_UNSUPPORTED,
                    "a trial template from a ConfigMap cannot be written as a TuningSpec",
                    hint="inline the template as trialTemplate.trialSpec, then import again",
                    at_key=True,
                )
            ]
        )
    if "trialSpec" not in template:
        raise FindingsError(
            [
                document.diagnostic(
                    ["spec", "trialTemplate"], RULE_UNSUPPORTED, "the Experiment has no trialTemplate.trialSpec"
                )
            ]
        )


def _strip_server_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The Experiment without status and server-set metadata (uid, resourceVersion, ...), and notes on what went."""
    out = copy.deepcopy(dict(data))
    notes = []
    if "status" in out:
        del out["status"]
        notes.append("status dropped")
    meta = out.get("metadata") or {}
    dropped = sorted(set(meta) - set(_KEPT_METADATA))
    if dropped:
        notes.append(f"metadata dropped: {', '.join(dropped)}")
    out["metadata"] = {k: meta[k] for k in _KEPT_METADATA if k in meta}
    return out, notes


def _import(document: Document, original: dict[str, Any], notes: list[str]) -> ImportResult:
    """The first candidate whose spec round-trips to `original` (defaulted, server fields gone), else a refusal."""
    template = original["spec"]["trialTemplate"]
    trial_spec = template["trialSpec"]
    kind = trial_kind_of(trial_spec)
    draft = _draft(document, original, kind, notes)
    expected = comparable(original)
    notes += _generator_fills(original)
    tried: _Tried = []
    for candidate in _candidates(trial_spec, kind, str(template.get("primaryContainerName")), draft.parameters):
        if candidate.trial is None:
            tried.append((candidate, [], [candidate.reason]))
            continue
        full = _assemble(draft, candidate)
        found, diff = _verify(full, candidate, draft.namespace, expected)
        if not found and not diff:
            notes += _form_notes(candidate, tried)
            return ImportResult(
                full,
                draft.namespace,
                candidate.profile,
                candidate.profile_body,
                candidate.form,
                tuple(notes),
                _label(document),
                f"{draft.namespace}/{original['metadata'].get('name', draft.head['name'])}",
            )
        tried.append((candidate, found, diff))
    raise FindingsError(_refusal(document, tried))


def _draft(document: Document, original: dict[str, Any], kind: TrialKind | None, notes: list[str]) -> _Draft:
    """Everything of the spec but the trial form; notes on the name, namespace and metadata go to `notes`."""
    spec = original["spec"]
    meta = original["metadata"]
    template = spec["trialTemplate"]
    name, name_note = name_of(meta)
    namespace = meta.get("namespace") or _DEFAULT_NAMESPACE
    notes += [
        n for n in (name_note, "" if meta.get("namespace") else f"no namespace: targets '{_DEFAULT_NAMESPACE}'") if n
    ]
    head = spec_head(name, meta, notes)
    body = {"objective": objective_of(spec["objective"]), "algorithm": algorithm_of(spec["algorithm"])}
    if spec.get("earlyStopping"):
        body["earlyStopping"] = algorithm_of(spec["earlyStopping"])
    body["budget"] = budget_of(spec)
    parameters = parameters_of(document, spec)
    if "nasConfig" in spec:
        body["nas"] = nas_of(document, spec)
    fields = template_fields(template, kind, collector_of(spec.get("metricsCollectorSpec") or {}))
    if metadata := metadata_parameters_of(template):
        fields["metadataParameters"] = metadata
    return _Draft(head, body, parameters, fields, namespace)


def _generator_fills(original: Mapping[str, Any]) -> list[str]:
    template = original["spec"]["trialTemplate"]
    notes = []
    missing = [
        p
        for p in opt_out_places(copy.deepcopy(template["trialSpec"]))
        if ISTIO_KEY not in ((p.get("metadata") or {}).get("labels") or {})
    ]
    if missing:
        notes.append(f'the generator adds the label {ISTIO_KEY}: "{ISTIO_VALUE}" to the trial\'s pod templates')
    if any(not e.get("description") for e in template.get("trialParameters") or []):
        notes.append("the generator writes a description for trialParameters that have none")
    return notes


# =================================================================== candidates and their proof


def _candidates(
    trial_spec: dict[str, Any], kind: TrialKind | None, container: str, parameters: Sequence[Mapping[str, Any]]
) -> Iterator[_Candidate]:
    """Ways to write the trial, best first.

    The short form (flags, then placeholders), then the raw trialSpec (with, then without the profile).
    """
    placeholders = {p["name"]: "placeholder" for p in parameters}
    stripped, profile, body = extract_profile(trial_spec, kind, container)
    if kind is not None:
        for flags in (True, False):
            try:
                trial, passes = short_trial(stripped, kind, container, parameters, flags)
            except NoShortForm as exc:
                yield _Candidate("short", None, {}, profile, body, reason=f"short form does not fit: {exc}")
                break
            yield _Candidate("short", trial, passes, profile, body)
            if passes == placeholders:
                break
    yield _Candidate("raw", {"trialSpec": raw_trial(stripped, kind)}, placeholders, profile, body)
    if stripped != trial_spec:
        yield _Candidate(
            "raw", {"trialSpec": raw_trial(trial_spec, kind)}, placeholders, "imported", {"description": NOTHING}
        )


def _assemble(draft: _Draft, candidate: _Candidate) -> dict[str, Any]:
    """The TuningSpec document of `draft` written with `candidate`."""
    assert candidate.trial is not None
    params = []
    for parameter in draft.parameters:
        item = dict(parameter)
        value = candidate.passes.get(parameter["name"])
        if value is not None:
            item["pass"] = value
        params.append(item)
    fields = draft.fields
    trial = {**candidate.trial, **fields} if "trialSpec" not in candidate.trial else {**fields, **candidate.trial}
    spec = {
        **draft.body,
        **({"parameters": params} if params else {}),
        "trial": trial,
        "targets": {"namespaces": [draft.namespace], "profiles": [candidate.profile]},
    }
    return {
        "apiVersion": API_VERSION,
        "kind": SPEC_KIND,
        "metadata": copy.deepcopy(draft.head),
        "spec": copy.deepcopy(spec),
    }


def _verify(
    full: dict[str, Any], candidate: _Candidate, namespace: str, expected: dict[str, Any]
) -> tuple[list[Diagnostic], list[str]]:
    """(spec problems, round-trip differences) of a candidate spec, read back from the text it would be written as."""
    profile = Profile(candidate.profile, candidate.profile_body)
    found, spec = read_back(full, profile, namespace)
    if spec is None:
        return found, []
    built = apply_katib_defaults(build_experiment(spec, profile))
    return [], differences(expected, comparable(built))


def read_back(full: dict[str, Any], profile: Profile, namespace: str) -> tuple[list[Diagnostic], TuningSpec | None]:
    """A candidate spec read back from the text it would be written as, and checked alone with its one profile
    in its one namespace: (its errors, None), or ([], the spec)."""
    documents = load_documents(dump(full), "<imported spec>")
    found = ours.check(documents[0], "tuningspec")
    if found:
        return found, None
    spec = parse_spec(documents[0])
    targets = Targets(Document("<imported targets>", 0, {}, {}), (namespace,), {profile.name: profile}, None)
    found = [d for d in spec_checks.run_checks(SpecSet(targets, (spec,))) if d.severity is Severity.ERROR]
    return (found, None) if found else ([], spec)


def _form_notes(chosen: _Candidate, tried: _Tried) -> list[str]:
    notes = [f"profile '{chosen.profile}': {chosen.profile_body.get('description', '').removeprefix('Imported: ')}"]
    if chosen.form == "raw":
        why = [c.reason or _why(found, diff) for c, found, diff in tried if c.form == "short"]
        notes.append("raw trialSpec" + (f" ({why[-1]})" if why else " (the trial kind has no short form)"))
    return notes


def _why(found: list[Diagnostic], diff: list[str]) -> str:
    if found:
        return f"the short form fails {found[0].rule_id}: {found[0].message}"
    return f"the short form does not reproduce {diff[0]}" if diff else ""


# =================================================================== refusals


def _refusal(document: Document, tried: _Tried) -> list[Diagnostic]:
    """Why nothing round-trips: the last form's spec check failures, mapped onto the Experiment, or where it differs."""
    _, found, diff = tried[-1]
    if found:
        return [_on_source(document, d) for d in found]
    return [
        document.diagnostic(
            ["spec"],
            _RULE_ROUND_TRIP,
            "no TuningSpec reproduces this Experiment: " + "; ".join(diff),
            hint="the import never writes a spec that changes the Experiment",
        )
    ]


def _on_source(document: Document, found: Diagnostic) -> Diagnostic:
    path = next((p for prefix, p in _SOURCE_PATHS if found.path.startswith(prefix)), ["spec"])
    hint = f"in the imported spec at {found.path}" + (f"; {found.hint}" if found.hint else "")
    return document.diagnostic(
        path, found.rule_id, f"the imported spec would fail: {found.message}", hint=hint, at_key=True
    )
