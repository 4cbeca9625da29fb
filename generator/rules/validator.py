"""`katib-gitops validate`: dispatch each document by kind to the checks that know it.

Order per document: document shape -> schema (a `--crd`, ours, or Kubernetes
core via kubernetes-validate) -> for Experiments, Katib's rules on the
defaulted object and the embedded trialSpec against its kind's schema.
Specs (TuningSpec, Targets) get their schema and the generator's spec checks.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, TextIO

from katib_gitops.core import registry
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, Severity, UsageError
from katib_gitops.core.kinds import KATIB_VERSION, SPEC_KIND, TARGETS_KIND, lookup
from katib_gitops.core.registry import declare
from katib_gitops.kustomize import inputs
from katib_gitops.kustomize import scope as input_scope
from katib_gitops.kustomize.scope import Scope
from katib_gitops.rules import framework, metadata, operators, runner, trial_job
from katib_gitops.schema import fast, manifests
from katib_gitops.schema import ours as spec_schema
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text

SKIP_ANNOTATION = "katib-gitops.dev/skip"
LENIENT_RULES = frozenset({"yaml-ambiguous", "yaml-value"})  # the file reads, only not the same way everywhere
PASSED_OVER = "passed over: not a Kubernetes manifest (no apiVersion, kind or metadata)"
EXPERIMENT = ("kubeflow.org/v1beta1", "Experiment")
# rules/optimizationjob_checks.py's kind (a test holds the two to the same), spelled here so that the module
# is imported for an OptimizationJob only: like workers (many files) and schema.removed (a kind no schema
# knows), it is not on the path of the common run, one Experiment (docs/performance.md, "Start-up").
OPTIMIZATION_JOB = ("trainer.kubeflow.org/v1alpha1", "OptimizationJob")
PLACEHOLDER = re.compile(r"\$\{trialParameters\.[^}]*\}")
# What a placeholder becomes for schema checks: a string that is also a valid
# quantity, name and number text, so a tuned cpu or memory value is no false error.
SUBSTITUTE = "1"

# IDs the validator's dispatch emits itself (`katib-gitops rules` lists them with every other).
DOCUMENT = declare("document", "TOOL", "Every document is a mapping with apiVersion and kind.")
UNKNOWN_KIND = declare(
    "unknown-kind",
    "TOOL",
    "Every kind has a schema (built in, from --crd, or Kubernetes core), unless --ignore-missing-schemas.",
)
REMOVED_API = declare(
    "removed-api",
    "TOOL",
    "No apiVersion that its project no longer serves (Kubernetes, Flux, the Training Operator), even with "
    "--ignore-missing-schemas: the API server refuses such a document.",
)
DEPRECATED_API = declare(
    "deprecated-api",
    "TOOL",
    "The version of a --crd kind is not marked deprecated: the API server warns on every request, and a later "
    "release removes it (as Flux 2.8 did v1beta2).",
    severity=Severity.WARNING,
)
V1ALPHA3 = declare(
    "v1alpha3",
    "TOOL",
    "kubeflow.org/v1alpha3 Experiments are gone since Katib 0.11; convert them with `katib-gitops migrate`.",
)
EXPERIMENT_VERSION = declare(
    "experiment-version",
    "TOOL",
    "Katib serves Experiments only as kubeflow.org/v1beta1 (its experiments.kubeflow.org CRD has no other version).",
    remediation="Not skipped by --ignore-missing-schemas: the kind is known, only the version is wrong. "
    "Katib's manifests/v1beta1/components/crd/experiment.yaml serves v1beta1 alone.",
)
G03 = declare(
    "G-03",
    "TOOL",
    "Katib decodes every Experiment field into a typed field: numbers as strings where Katib wants strings, and so on.",
)
G04 = declare("G-04", "TOOL", "No unknown or misspelled field anywhere in an Experiment: Katib drops them silently.")
TT20 = declare(
    "TT-20",
    "TOOL",
    "A batch/v1 Job trialSpec is a valid Job once placeholders are substituted, and converts to a Go batch/v1 Job "
    "and back unchanged: no unknown field, no empty list or map that Go's omitempty drops (validator.go:"
    "validateTrialJob, validatePatchJob).",
)
TRIAL_SCHEMA = declare(
    "trial-schema",
    "TOOL",
    "The trialSpec is a valid object of its kind once placeholders are substituted (else trial creation fails).",
)
SKIP_ANNOTATION_RULE = declare(
    "skip-annotation",
    "TOOL",
    "The katib-gitops.dev/skip annotation names rules validate reports: an unknown or misspelled ID skips nothing.",
    severity=Severity.WARNING,
)
SPEC_TARGETS = declare(
    "spec-targets",
    "TOOL",
    "TuningSpecs are validated with exactly one Targets file (named, or next to them), so the spec checks can run.",
)


class Options(NamedTuple):
    paths: tuple[str, ...]
    render: bool = True
    crds: tuple[Path, ...] = ()
    katib_config: KatibConfig = STANDALONE
    katib_version: tuple[int, int] = KATIB_VERSION
    kubernetes_version: str = ""
    ignore_missing_schemas: bool = False
    skip: frozenset[str] = frozenset()
    jobs: int = 1
    previous: tuple[str, ...] = ()  # manifests as deployed now, for UPD-05
    trial_templates: tuple[str, ...] = ()  # ConfigMaps holding configMap trial templates (TT-08, TT-15, TT-16, TT-17)
    scope: Scope | None = None  # the configuration file's paths and ignores (None: every input checked strictly)
    kustomize_command: str = ""  # builds kustomizations katib-gitops did not write (kustomize.external.command)


class Outcome(NamedTuple):
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    documents: int
    notes: tuple[str, ...] = ()  # inputs ignored or passed over (the configuration file's scope)


class Env(NamedTuple):
    """What every document check needs, resolved once per run."""

    options: Options
    kubernetes: str
    crds: Mapping[tuple[str, str], Any]
    previous: Mapping[tuple[str, str], framework.Previous] = MappingProxyType({})  # by (namespace, name)
    trial_templates: Mapping[tuple[str, str, str], str] = MappingProxyType({})  # (namespace, ConfigMap, key): text


def validate(options: Options, stdin: TextIO) -> Outcome:
    env = Env(
        options,
        options.kubernetes_version or manifests.latest_kubernetes(),
        _load_crds(options.crds),
        _load_previous(options),
        load_trial_templates(options.trial_templates, options.render),
    )
    units = inputs.plan(
        options.paths, render_kustomizations=options.render, stdin=stdin, kustomize_command=options.kustomize_command
    )
    notes: list[str] = []
    if options.scope is not None and options.scope.ignore:
        kept = [u for u in units if not options.scope.ignored(u.display)]
        notes.extend(f"{u.display}: ignored (configuration file)" for u in units if u.named and u not in kept)
        if len(kept) < len(units) and not notes:
            notes.append(f"{len(units) - len(kept)} file(s) ignored (configuration file)")
        units = kept
    results = _in_parallel(units, env) if _parallel(units, options.jobs) else [check_unit(u, env) for u in units]
    notes.extend(r.note for r in results if r.note)
    results = [r for r in results if not r.note]
    found = [d for r in results for d in r.diagnostics]
    # --skip silences findings on documents (check_unit) and of the spec checks, never the problems
    # that kept a file from being read: those stay, or the file's documents would pass unchecked.
    found.extend(
        d
        for d in _spec_checks([d for r in results for d in r.spec_documents], options)
        if d.rule_id not in options.skip
    )
    documents = sum(r.documents for r in results)
    if not documents and not found and not notes:
        first = results[0].display if results else options.paths[0]
        found.append(
            Diagnostic(
                first,
                1,
                1,
                inputs.EMPTY_INPUT.id,
                "no YAML documents found",
                hint="an empty input is an error: name the files to check",
            )
        )
    files = tuple(dict.fromkeys(r.display for r in results))
    return Outcome(tuple(sorted(set(found))), files, documents, tuple(notes))


class UnitResult(NamedTuple):
    display: str
    diagnostics: tuple[Diagnostic, ...]
    documents: int
    spec_documents: tuple[Document, ...]  # TuningSpecs and Targets, checked together afterwards
    note: str = ""  # set when the input was passed over: clearly not a Kubernetes manifest, outside the scope


def check_unit(unit: inputs.Unit, env: Env) -> UnitResult:
    source, found = unit.load()
    if _passed_over(source, found, env.options.scope):
        return UnitResult(source.display, (), 0, (), f"{source.display}: {PASSED_OVER}")
    for document in source.documents:
        found.extend(source.relocate(_without_skipped(document, check_document(document, env), env.options.skip)))
    specs = tuple(d for d in source.documents if _kind_of(d) in (SPEC_KIND, TARGETS_KIND))
    return UnitResult(source.display, tuple(found), len(source.documents), specs)


def _passed_over(source: inputs.Source, found: list[Diagnostic], scope: Scope | None) -> bool:
    """Outside the configured paths, a file that is clearly no Kubernetes manifest is passed over (a note).

    One that only a reader-dependent scalar kept from loading (`on:` in a workflow, `yes` in
    mkdocs.yml) is judged by what Kubernetes would read of it.
    """
    if scope is None or not scope.pass_over or scope.configured(source.display):
        return False
    if not found:
        return input_scope.not_a_manifest(source.display, [d.data for d in source.documents], source.rendered)
    if source.rendered or source.display == "<stdin>" or any(d.rule_id not in LENIENT_RULES for d in found):
        return False
    import yaml  # every scalar a string (BaseLoader): only the keys' names matter here

    try:
        text = read_text(Path(source.display), source.display)
        documents = [d for d in yaml.load_all(text, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader)) if d]
    except (FindingsError, UsageError, yaml.YAMLError):
        return False
    return input_scope.not_a_manifest(source.display, documents, False)


# Enough files to be worth a second process: below this, start-up costs more than it saves.
PARALLEL_THRESHOLD = 200


def _parallel(units: Sequence[inputs.Unit], jobs: int) -> bool:
    if len(units) < PARALLEL_THRESHOLD or any(u.display == "<stdin>" for u in units):
        return False
    from katib_gitops.core import workers

    return workers.can_fork(jobs)


def _in_parallel(units: list[inputs.Unit], env: Env) -> list[UnitResult]:
    """Forked workers share the plan and the loaded schemas; results come back in input order."""
    from katib_gitops.core import workers

    return workers.forked_map(lambda index: check_unit(units[index], env), len(units), env.options.jobs, 32)


def _option_documents(option: str, paths: Sequence[str], render: bool) -> Iterator[Document]:
    """The documents of an option's files and folders, kustomizations rendered like the inputs.

    An unreadable one is a usage error.
    """
    import io

    if not paths:  # the option was not given
        return
    if "-" in paths:
        raise UsageError(f"{option} reads files and folders, not standard input")
    try:
        units = inputs.plan(paths, render_kustomizations=render, stdin=io.StringIO())
    except UsageError as exc:
        raise UsageError(f"{option}: {exc}") from exc
    for unit in units:
        source, problems = unit.load()
        if problems:
            first = problems[0]
            raise UsageError(f"{option}: {first.file}:{first.line}:{first.column}: {first.message}")
        yield from source.documents


def _load_previous(options: Options) -> dict[tuple[str, str], framework.Previous]:
    """The v1beta1 Experiments of --previous, defaulted as Katib stored them."""
    from katib_gitops.core.defaults import apply_katib_defaults

    found: dict[tuple[str, str], framework.Previous] = {}
    for document in _option_documents("--previous", options.previous, options.render):
        if (
            isinstance(document.data, dict)
            and (document.data.get("apiVersion"), document.data.get("kind")) == EXPERIMENT
        ):
            line, _ = document.position([])
            found[_identity(document.data)] = framework.Previous(
                apply_katib_defaults(document.data, options.katib_version), f"{document.file}:{line}"
            )
    return found


def load_trial_templates(paths: Sequence[str], render: bool = True) -> dict[tuple[str, str, str], str]:
    """Every string entry of the ConfigMaps in `paths`, by (namespace, name, key).

    The namespace is '' for a ConfigMap without one.
    """
    found: dict[tuple[str, str, str], str] = {}
    for document in _option_documents("--trial-templates", paths, render):
        data = document.data
        if not isinstance(data, dict) or (data.get("apiVersion"), data.get("kind")) != ("v1", "ConfigMap"):
            continue
        namespace, name = _identity(data)
        entries = data.get("data") or {}
        if not isinstance(entries, Mapping):
            line, column = document.position(["data"])
            raise UsageError(
                f"--trial-templates: {document.file}:{line}:{column}: a ConfigMap's data must map keys to strings"
            )
        for key, text in entries.items():
            if isinstance(text, str):
                found[(namespace, name, str(key))] = text
    return found


def _identity(data: Mapping[str, Any]) -> tuple[str, str]:
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _load_crds(paths: Sequence[Path]) -> dict[tuple[str, str], Any]:
    if not paths:
        return {}
    from katib_gitops.schema import crd as crds

    loaded: dict[tuple[str, str], Any] = {}
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory (--crd)")
        try:
            loaded.update(crds.load_crds(path))
        except (crds.CrdError, ValueError, OSError) as exc:
            raise UsageError(f"{path}: cannot load CRDs: {exc}") from exc
    return loaded


def _without_skipped(document: Document, found: Iterable[Diagnostic], skip: frozenset[str]) -> list[Diagnostic]:
    skipped = _skipped(document, skip)
    return [d for d in found if d.rule_id not in skipped]


def _skipped(document: Document, skip: frozenset[str]) -> frozenset[str]:
    """The rules skipped for a document: --skip, and its katib-gitops.dev/skip annotation."""
    annotations = _annotations(document.data)
    return skip | {s.strip() for s in str(annotations.get(SKIP_ANNOTATION, "")).split(",") if s.strip()}


def _unknown_skips(document: Document) -> list[Diagnostic]:
    """A rule the skip annotation names that validate does not report: the typo silences nothing."""
    from katib_gitops.rules import catalog  # noqa: F401  (registers every rule validate reports)

    value = _annotations(document.data)[SKIP_ANNOTATION]
    unknown = [s.strip() for s in str(value).split(",") if s.strip() and registry.lookup(s.strip()) is None]
    if not unknown:
        return []
    import difflib

    known = list(registry.RULES)
    near = {rule: difflib.get_close_matches(rule, known, n=1, cutoff=0.6) for rule in unknown}
    said = ", ".join(f"{rule} (did you mean {near[rule][0]}?)" if near[rule] else rule for rule in unknown)
    return [
        document.diagnostic(
            ["metadata", "annotations", SKIP_ANNOTATION],
            SKIP_ANNOTATION_RULE.id,
            f"{SKIP_ANNOTATION} names rules validate does not report, so it skips nothing there: {said}",
            hint="`katib-gitops rules` lists every ID",
        )._replace(severity=SKIP_ANNOTATION_RULE.severity)
    ]


def _annotations(data: Any) -> Mapping[str, Any]:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _label(data: Mapping[str, Any]) -> str:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return f"{data.get('kind')}/{name}" if name else str(data.get("kind", ""))


# ------------------------------------------------------------------ one document


def check_document(document: Document, env: Env) -> list[Diagnostic]:
    data = document.data
    if not isinstance(data, dict):
        return [
            *document.findings,
            document.diagnostic(
                [], DOCUMENT.id, f"a document must be a mapping (a Kubernetes object), not {type(data).__name__}"
            ),
        ]
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        missing = [k for k in ("apiVersion", "kind") if not isinstance(data.get(k), str) or not data.get(k)]
        if len(missing) == 2 and input_scope.is_kustomization_file(document.file):
            return [*document.findings]  # kustomize reads a kustomization file without apiVersion and kind as one
        return [
            *document.findings,
            document.diagnostic([], DOCUMENT.id, f"{' and '.join(missing)} missing: cannot tell what this is"),
        ]
    found, known = _check_by_kind(document, env, api_version, kind)
    if known is not None:  # an object an API server serves, or may: its metadata as the server checks it
        found.extend(_metadata(document, env, api_version, kind, known, found))
    # What is skipped never stands in for another finding: drop it before one problem keeps one finding.
    skipped = _skipped(document, env.options.skip)
    found = _deduplicated([d for d in found if d.rule_id not in skipped])
    if document.findings or document.unless_accepted:
        found = _with_loader_findings(document, found)
    if SKIP_ANNOTATION in _annotations(data):
        found.extend(_unknown_skips(document))
    label = _label(data)
    return [d._replace(document=document.index, object=label) for d in found]


def _with_loader_findings(document: Document, found: list[Diagnostic]) -> list[Diagnostic]:
    """The loader's findings on the document's values, and each number spelling the field refused.

    Every Kubernetes reader reads `0.80`, `0755` or `1_000` as the same number, so such a
    spelling matters only where a string field refuses the number (the schema's type error at
    the same node), and then it says why the field got a number.
    """
    refused = {
        (d.line, d.column)
        for d in found
        if d.severity is Severity.ERROR and d.file == document.file and "of type 'string'" in d.message
    }
    explained = [d for d in document.unless_accepted if (d.line, d.column) in refused]
    return [*document.findings, *explained, *found]


def check_generated(document: Document, env: Env) -> list[Diagnostic]:
    """What `validate` reports for an object generate built (rules its skip annotation names left out)."""
    return _without_skipped(document, check_document(document, env), env.options.skip)


def _deduplicated(found: list[Diagnostic]) -> list[Diagnostic]:
    """One problem, one finding: a warning is dropped where an error names the same node,
    the generic trial-schema error where TT-R3 explains the same field, TT-R4 where the
    operator already refuses the trial's job for want of the same container (to-container),
    and an Experiment's to-name where Katib itself refuses the name (NAME-01, NAME-02)."""
    errors = {d.path for d in found if d.severity is Severity.ERROR}
    specific = {d.path for d in found if d.rule_id == "TT-R3"}
    others = {d.path for d in found if d.severity is Severity.ERROR and d.rule_id != operators.NAME.id}
    containers = {
        (d.path, d.message.partition(": ")[0].rpartition(" ")[2]) for d in found if d.rule_id == operators.CONTAINER.id
    }
    return [
        d
        for d in found
        if not (d.severity is Severity.WARNING and d.path in errors)
        and not (d.rule_id == TRIAL_SCHEMA.id and d.path in specific)
        and not (d.rule_id == "TT-R4" and any(p == d.path and n in d.message for p, n in containers))
        and not (d.rule_id == operators.NAME.id and d.path == "metadata.name" and d.path in others)
    ]


def _check_by_kind(document: Document, env: Env, api_version: str, kind: str) -> tuple[list[Diagnostic], bool | None]:
    """The document's findings, and whether a schema knows its kind (None: no object any API server serves)."""
    if (api_version, kind) == ("kubeflow.org/v1alpha3", "Experiment"):
        return [
            document.diagnostic(
                ["apiVersion"],
                V1ALPHA3.id,
                "kubeflow.org/v1alpha3 Experiments are no longer served (removed in Katib 0.11)",
                hint="convert it: katib-gitops migrate FILE",
            )
        ], None
    if (api_version, kind) == EXPERIMENT:
        return _experiment(document, env), True
    if kind == "Experiment" and api_version.startswith("kubeflow.org/"):
        return [
            document.diagnostic(
                ["apiVersion"],
                EXPERIMENT_VERSION.id,
                f"Katib serves Experiments as kubeflow.org/v1beta1 only, not as {api_version}",
                hint="write apiVersion: kubeflow.org/v1beta1 (the experiments.kubeflow.org CRD has no other version)",
            )
        ], None
    if (api_version, kind) == OPTIMIZATION_JOB and (api_version.rpartition("/")[0], kind) not in env.crds:
        from katib_gitops.rules import optimizationjob_checks

        return optimizationjob_checks.check(document, env.kubernetes), True
    if api_version.startswith("kustomize.config.k8s.io/"):
        return [], None
    operator = operators.lookup(api_version, kind)
    rule_for = operators.schema_rule(operator, spec_schema.SCHEMA.id) if operator is not None else None
    found = _schema_check(document, env, api_version, kind, document.data, [], rule_for)
    if found is None:
        from katib_gitops.schema import removed

        gone = removed.removal(api_version, kind, env.kubernetes)
        if gone is not None:  # a version no release serves any more: no object to judge the metadata of
            return [
                document.diagnostic(
                    ["apiVersion"], REMOVED_API.id, gone.message(api_version, kind), hint=removed.hint(gone)
                )
            ], None
        return ([] if env.options.ignore_missing_schemas else [_unknown_kind(document, api_version, kind)]), False
    if operator is not None:
        found.extend(_operator_rules(document, env, operator, document.data, [], found))
    return found, True


def _metadata(
    document: Document, env: Env, api_version: str, kind: str, known: bool, found: list[Diagnostic]
) -> list[Diagnostic]:
    """meta-* findings (rules/metadata.py), each the one finding of its node.

    The API server checks metadata before any webhook, so where a meta-* error and another error
    (Katib's NAME-01, a schema's name pattern for the Training Operator's webhook) name the same
    node, the meta-* one stays and says what the other adds in its hint; unless meta-* is skipped.
    """
    crd = env.crds.get((api_version.rpartition("/")[0], kind))
    scope = (crd.get("spec") or {}).get("scope") if isinstance(crd, Mapping) else None
    meta = metadata.check(
        document, api_version, kind, known=known, cluster_scoped=None if scope is None else scope == "Cluster"
    )
    if not meta:
        return []
    if any(d.rule_id == spec_schema.SCHEMA.id and not d.path and "'metadata'" in d.message for d in found):
        meta = [d for d in meta if d.path]  # the schema already says metadata is missing
    errors = {d.path for d in found if d.severity is Severity.ERROR}
    if not any(m.path in errors for m in meta if m.severity is Severity.ERROR):
        return meta
    skipped = _skipped(document, env.options.skip)
    kept: list[Diagnostic] = []
    for finding in meta:
        if finding.severity is Severity.ERROR and finding.path in errors and finding.rule_id not in skipped:
            same = [d for d in found if d.severity is Severity.ERROR and d.path == finding.path]
            found[:] = [d for d in found if d not in same]
            also = "".join(
                f"; also refused by {d.rule_id}: {d.message}" + (f" ({d.hint})" if d.hint else "") for d in same
            )
            finding = finding._replace(hint=finding.hint + also)
        kept.append(finding)
    return kept


def _operator_rules(
    document: Document,
    env: Env,
    operator: operators.Operator,
    job: Any,
    base: list[str | int],
    found: list[Diagnostic],
) -> list[Diagnostic]:
    """The Training Operator's findings on `job` (at `base` in `document`) at nodes no schema error names."""
    pruned = manifests.without_nulls(job)  # as the webhook sees it: the API server pruned the nulls
    taken = {d.path for d in found if d.severity is Severity.ERROR}
    ours = ("kubeflow.org", operator.kind.kind) not in env.crds  # else a --crd stood in for our schema
    return [
        d
        for rule, finding in operators.check(pruned, operator, schema=ours)
        if (d := runner.diagnostic(document, rule, finding._replace(path=[*base, *finding.path]))).path not in taken
    ]


def _schema_check(
    document: Document,
    env: Env,
    api_version: str,
    kind: str,
    instance: Any,
    base: list[str | int],
    rule_for: spec_schema.RuleFor | None = None,
) -> list[Diagnostic] | None:
    """Schema findings of `instance` (at `base` in `document`): a --crd first, then ours, then Kubernetes core.

    None when no schema knows the kind. A document the fast engine accepts is done;
    only a failing one goes through the Python engine, which explains each error.
    """
    group = api_version.rpartition("/")[0]
    if (group, kind) in env.crds:
        return _crd_diagnostics(document, env.crds[(group, kind)], instance, base)
    if (api_version, kind) in manifests.CATALOG:
        name = manifests.CATALOG[(api_version, kind)]
        # As the API server: a null field is pruned before validation, but an unknown one is still unknown.
        pruned = manifests.without_nulls(instance) if manifests.prunes_nulls(api_version) else instance
        if fast.is_valid(("ours", name), env.kubernetes, pruned) and (
            pruned is instance or fast.is_valid(("ours", name), env.kubernetes, instance)
        ):
            return []
        checker = manifests.validator(name, env.kubernetes)
        found = spec_schema.diagnostics(document, checker, pruned, base, rule_for)
        if pruned is not instance:
            unknown = spec_schema.diagnostics(document, checker, instance, base, rule_for)
            found = sorted({*found, *(d for d in unknown if d.message.startswith("unknown field"))})
        return found
    if not manifests.has_core_schema(api_version, kind, env.kubernetes):
        return None
    if fast.is_valid(("core", api_version, kind), env.kubernetes, instance):
        return []
    return spec_schema.diagnostics(
        document, manifests.core_validator(api_version, kind, env.kubernetes), instance, base, rule_for
    )


def _experiment(document: Document, env: Env) -> list[Diagnostic]:
    from katib_gitops.core.defaults import apply_katib_defaults

    options = env.options
    # Katib judges the object its defaulting webhook returns (G-09): so do the schema
    # (a Prometheus port left out is filled, DEF-12) and the rules.
    admitted = apply_katib_defaults(document.data, options.katib_version)
    found = _schema_check(document, env, *EXPERIMENT, admitted, [], _experiment_rule) or []
    context = framework.Context(
        document.data,
        admitted,
        options.katib_config,
        options.katib_version,
        env.previous.get(_identity(document.data)),
        env.trial_templates,
    )
    found.extend(_katib_rules(document, context, _skipped(document, options.skip)))
    found.extend(_trial_spec(document, env))
    return found


def _unknown_kind(document: Document, api_version: str, kind: str) -> Diagnostic:
    return document.diagnostic(
        ["kind"],
        UNKNOWN_KIND.id,
        f"no schema for {kind} ({api_version})",
        hint="pass its CustomResourceDefinition with --crd, or --ignore-missing-schemas",
    )


def _experiment_rule(error: Any) -> str:
    return {"additionalProperties": G04.id, "type": G03.id}.get(error.validator, spec_schema.SCHEMA.id)


def _crd_diagnostics(document: Document, crd: Any, instance: Any, base: list[str | int]) -> list[Diagnostic]:
    from katib_gitops.schema import crd as crds

    version = crds.version_of(instance, crd)
    try:
        checker = crds.validator(crds.schema_for(crd, version))
    except crds.CrdError as exc:
        return [document.diagnostic(base + ["apiVersion"], spec_schema.SCHEMA.id, str(exc))]
    # As the API server: non-nullable nulls pruned and defaults applied, then the schema, then CEL rules.
    admitted = crds.admitted(instance, crd, version)
    found = spec_schema.diagnostics(document, checker, admitted, base)
    for result in crds.cel_results(admitted, crd, version):
        rule_id = spec_schema.SCHEMA.id if result.evaluated else spec_schema.CEL_UNCHECKED.id
        finding = document.diagnostic(base + result.path, rule_id, result.message)
        found.append(finding if result.evaluated else finding._replace(severity=Severity.WARNING))
    warning = crds.deprecation(crd, version)
    if warning is not None:
        found.append(
            document.diagnostic(
                base + ["apiVersion"],
                DEPRECATED_API.id,
                warning,
                hint="the CRD marks this version deprecated: a later release may stop serving it",
            )._replace(severity=Severity.WARNING)
        )
    return found


# ------------------------------------------------------------------ Experiments


def _katib_rules(document: Document, context: framework.Context, skip: frozenset[str]) -> list[Diagnostic]:
    return runner.diagnostics(document, framework.run(context, skip))


def substitute(value: Any) -> Any:
    """The trialSpec as Katib creates it for a trial: placeholders become plain strings."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(SUBSTITUTE, value) if "${" in value else value
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    return value


def _pruned_null(finding: Diagnostic, instance: Any, depth: int) -> bool:
    """An unknown field whose value is null, in a trial object Katib creates: the API server prunes it
    (Katib's client sets no fieldValidation, so the server's default, Warn, drops it with a warning) and
    nothing is lost. `creationTimestamp: null`, which `kubectl create --dry-run -o yaml` writes into pod
    templates, is the usual one. A kubectl apply of the same object alone is strict: there it is refused."""
    if not finding.message.startswith("unknown field"):
        return False
    node = instance
    for part in finding.parts[depth:]:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            continue
        if not (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            return False
        node = node[part]
    return node is None


def _trial_spec(document: Document, env: Env) -> list[Diagnostic]:
    template = (
        (document.data.get("spec") or {}).get("trialTemplate") if isinstance(document.data.get("spec"), dict) else None
    )
    trial_spec = template.get("trialSpec") if isinstance(template, dict) else None
    if (
        not isinstance(trial_spec, dict)
        or not isinstance(trial_spec.get("apiVersion"), str)
        or not isinstance(trial_spec.get("kind"), str)
    ):
        return []
    api_version, kind = trial_spec["apiVersion"], trial_spec["kind"]
    base: list[str | int] = ["spec", "trialTemplate", "trialSpec"]
    instance = substitute(trial_spec)
    job_metadata = instance.setdefault("metadata", {})
    if isinstance(job_metadata, dict):  # another type is the schema's to report
        # Katib names each trial's job after the trial; a name of the trialSpec's own is TT-18's.
        job_metadata["name"] = "trial"
    known = lookup(kind, api_version)
    rule_id = TT20.id if known is not None and known.checked_at_admission else TRIAL_SCHEMA.id
    operator = operators.lookup(api_version, kind)
    rule_for = operators.schema_rule(operator, spec_schema.SCHEMA.id) if operator is not None else None
    found = [
        d._replace(rule_id=rule_id) if d.rule_id == spec_schema.SCHEMA.id else d
        for d in _schema_check(document, env, api_version, kind, instance, base, rule_for) or []
    ]
    if rule_id == TRIAL_SCHEMA.id:
        found = [d for d in found if not _pruned_null(d, instance, len(base))]
    if known is not None and known.checked_at_admission:
        found += [
            document.diagnostic(
                base + list(path),
                TT20.id,
                f"'{key}' is empty: converting the trialSpec to a batch/v1 Job drops it (Go's omitempty), so the "
                "patch back to the template adds it and Katib refuses the Experiment "
                "(validator.go:validatePatchJob allows only 'remove' outside resource quantities)",
                hint=f"delete the empty '{key}'",
            )
            for path, key in trial_job.dropped_empties(trial_spec)
        ]
    if operator is not None:
        # Katib creates each trial's job, named after the trial; the operator judges it like any other.
        found.extend(_operator_rules(document, env, operator, instance, base, found))
        named = operators.trial_name_problem(_identity(document.data)[1], operator)
        if named is not None:
            found.append(runner.diagnostic(document, operators.NAME, named))
    return found + metadata.check_embedded(document, base, trial_spec)


# ------------------------------------------------------------------ specs


def _spec_checks(documents: Sequence[Document], options: Options) -> list[Diagnostic]:
    """generate's checks (rules/generated.py: the spec checks, then everything generate would build), for
    TuningSpecs whose schema is valid and whose Targets is known."""
    specs = [d for d in documents if _kind_of(d) == SPEC_KIND and not spec_schema.check(d, "tuningspec")]
    if not specs:
        return []
    from katib_gitops.rules import generated
    from katib_gitops.spec.model import SpecSet, parse_spec, parse_targets

    targets = [d for d in documents if _kind_of(d) == TARGETS_KIND] or _sibling_targets(specs)
    if len(targets) != 1:
        what = "no Targets file" if not targets else f"{len(targets)} Targets files"
        return [
            d.diagnostic(
                [],
                SPEC_TARGETS.id,
                f"{what} found: the spec checks (TS-*) need exactly one",
                hint="name the Targets file too, or keep it next to the specs",
            )
            for d in specs
        ]
    if spec_schema.check(targets[0], "targets"):
        return []  # the Targets file's own schema errors are reported with it
    spec_set = SpecSet(
        parse_targets(targets[0]),
        tuple(sorted((parse_spec(d) for d in specs), key=lambda s: s.name)),
        options.katib_config,
        options.katib_version,
    )
    return generated.check_spec_set(spec_set)


def _kind_of(document: Document) -> Any:
    return document.data.get("kind") if isinstance(document.data, dict) else None


def _sibling_targets(specs: Sequence[Document]) -> list[Document]:
    """The Targets file next to the specs (specs/targets.yaml), when it was not named."""
    found: dict[str, Document] = {}
    for folder in {Path(d.file).parent for d in specs if not d.file.startswith("<")}:
        for path in sorted(folder.glob("*.y*ml")):
            try:
                for document in load_documents(read_text(path, path.as_posix()), path.as_posix()):
                    if _kind_of(document) == TARGETS_KIND:
                        found[f"{path}:{document.index}"] = document
            except (FindingsError, UsageError):  # an unreadable sibling is reported when it is validated itself
                continue
    return list(found.values())
