"""The v1alpha3 -> v1beta1 conversion of Katib Experiments (MIG-01..20): one document, or every one of a file's text."""

# The conversion works on ruamel's round-trip nodes, so the parts of a document
# that it does not touch keep their comments, quotes and key order. The one part
# that is rebuilt is the trial template: v1alpha3's `goTemplate.rawTemplate`, a Go
# text/template string, is rendered by `gotemplate` (it knows only the actions
# v1alpha3 templates used: `{{.Trial}}`, `{{.NameSpace}}`, `{{.Experiment}}` and
# the `.HyperParameters` loop) into `${trialParameters.x}` placeholders; the
# result is parsed as YAML into `trialSpec`. Anything else is reported at its
# file:line:column and the document is not converted: nothing is ever guessed.
# Pure functions from text to text; reading and writing files is the command's job.

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.registry import declare
from katib_gitops.expand.experiment import MAX_NAME
from katib_gitops.migration.gotemplate import Rendered, TemplateData, TemplateError, render_template
from katib_gitops.migration.textedits import (
    append_full_lines,
    dump_segment,
    guess_indent,
    indent_of,
    insert_after,
    insert_before,
    mark_comments,
    remove_key,
    round_trip_yaml,
    segment_of,
    split_segments,
    styled_like,
    take_full_lines,
)
from katib_gitops.spec.model import camel_case
from katib_gitops.yamlio.documents import Document, JsonPath, format_path, load_documents, locate, to_plain

V1ALPHA3 = "kubeflow.org/v1alpha3"
V1BETA1 = "kubeflow.org/v1beta1"
PUSH_SINCE = (0, 18)  # collector kind None was renamed Push (VER-05)
NAME_START = re.compile(r"[a-z]")
NAMESPACE_LABEL = "katib.kubeflow.org/metrics-collector-injection"
OLD_NAMESPACE_LABEL = "katib-metricscollector-injection"
TEMPLATE_PATH = ("spec", "trialTemplate", "goTemplate", "rawTemplate")
META = {"Trial": ("trialName", "${trialSpec.Name}"), "NameSpace": ("trialNamespace", "${trialSpec.Namespace}")}

# The migration rules of the catalogue (katib-rules.md section 16) that the conversion reports.
# A rule reporting errors and notes is an error rule; notes-only rules are notes.
_NOTE = Severity.NOTE
declare(
    "MIG-01",
    "MIGRATE",
    "Only kubeflow.org/v1alpha3 Experiments, with a spec and v1alpha3's fields only, are converted to v1beta1.",
)
declare(
    "MIG-02",
    "MIGRATE",
    "goTemplate becomes trialSpec (a rawTemplate, parsed as YAML) or configMap (a templateSpec, field for field); "
    "a ConfigMap that still holds a Go template is a warning.",
)
declare(
    "MIG-03",
    "MIGRATE",
    "The template's Go actions become ${trialParameters.x} placeholders, and every parameter reaches the trial.",
)
declare(
    "MIG-05",
    "MIGRATE",
    "Every pod template has the container v1alpha3 collected metrics from, under a fixed name: the primary container.",
)
declare("MIG-06", "MIGRATE", "The trial is of a kind v1alpha3 ran: batch/v1 Job, kubeflow.org/v1 TFJob or PyTorchJob.")
declare("MIG-07", "MIGRATE", "The Experiment has its own trial template: v1beta1 has no default ConfigMap template.")
declare(
    "MIG-08",
    "MIGRATE",
    "resumePolicy: LongRunning, v1alpha3's default, is written out: v1beta1's default is Never.",
    severity=_NOTE,
)
declare(
    "MIG-09",
    "MIGRATE",
    "algorithm.earlyStopping moves to spec.earlyStopping (dropped when empty), where v1beta1 applies it.",
)
declare(
    "MIG-10",
    "MIGRATE",
    "The objective metric is dropped from additionalMetricNames, where v1beta1 refuses it (OBJ-04).",
    severity=_NOTE,
)
declare("MIG-11", "MIGRATE", "Every parameter has a name: its trialParameter is named after it.")
declare(
    "MIG-12",
    "MIGRATE",
    "Collector kind None is called Push from Katib 0.18 on (it stays None for an older --katib-version).",
    severity=_NOTE,
)
declare(
    "MIG-13",
    "MIGRATE",
    "Names and counts pass v1beta1's checks (NAME-01, NAME-02, COUNT-04..06); "
    "a parallelTrialCount that Katib's default would make too high is written out.",
)
declare(
    "MIG-15",
    "MIGRATE",
    "The namespace needs v1beta1's label katib.kubeflow.org/metrics-collector-injection: enabled (G-06).",
    severity=_NOTE,
)
declare("MIG-17", "MIGRATE", "NAS Experiments migrate for enas and darts, whose trials' HyperParameters are known.")
declare("MIG-19", "MIGRATE", "status is dropped: Katib writes a v1beta1 status of its own.", severity=_NOTE)

# Fields of the v1alpha3 Experiment API (Katib v0.10.0); anything else is reported.
_FIELDS: dict[tuple[str, ...], frozenset[str]] = {
    (): frozenset({"apiVersion", "kind", "metadata", "spec", "status"}),
    ("spec",): frozenset(
        {
            "parameters",
            "objective",
            "algorithm",
            "trialTemplate",
            "parallelTrialCount",
            "maxTrialCount",
            "maxFailedTrialCount",
            "metricsCollectorSpec",
            "nasConfig",
            "resumePolicy",
        }
    ),
    ("spec", "objective"): frozenset({"type", "goal", "objectiveMetricName", "additionalMetricNames"}),
    ("spec", "algorithm"): frozenset({"algorithmName", "algorithmSettings", "earlyStopping"}),
    ("spec", "algorithm", "earlyStopping"): frozenset({"earlyStoppingAlgorithmName", "earlyStoppingSettings"}),
    ("spec", "trialTemplate"): frozenset({"retain", "goTemplate"}),
    ("spec", "trialTemplate", "goTemplate"): frozenset({"rawTemplate", "templateSpec"}),
    ("spec", "trialTemplate", "goTemplate", "templateSpec"): frozenset(
        {"configMapName", "configMapNamespace", "templatePath"}
    ),
    ("spec", "parameters", "*"): frozenset({"name", "parameterType", "feasibleSpace"}),
    ("spec", "parameters", "*", "feasibleSpace"): frozenset({"min", "max", "list", "step"}),
    ("spec", "metricsCollectorSpec"): frozenset({"source", "collector"}),
    ("spec", "metricsCollectorSpec", "source"): frozenset({"fileSystemPath", "filter", "httpGet"}),
    ("spec", "metricsCollectorSpec", "source", "fileSystemPath"): frozenset({"path", "kind"}),
    ("spec", "metricsCollectorSpec", "source", "filter"): frozenset({"metricsFormat"}),
    ("spec", "metricsCollectorSpec", "collector"): frozenset({"kind", "customCollector"}),
    ("spec", "nasConfig"): frozenset({"graphConfig", "operations"}),
    ("spec", "nasConfig", "graphConfig"): frozenset({"numLayers", "inputSizes", "outputSizes"}),
    ("spec", "nasConfig", "operations", "*"): frozenset({"operationType", "parameters"}),
}


# ------------------------------------------------------------------ results


@dataclasses.dataclass(frozen=True, order=True)
class Note:
    """Something the user should know about a conversion that is not a problem with the input."""

    file: str
    line: int
    column: int
    rule_id: str
    message: str

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: note: {self.message} [{self.rule_id}]"


@dataclasses.dataclass(frozen=True)
class MigrationResult:
    """One document: `converted` (node holds the v1beta1 Experiment), `unchanged` or `failed`."""

    status: str
    node: Any = None
    diagnostics: tuple[Diagnostic, ...] = ()
    notes: tuple[Note, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)


@dataclasses.dataclass(frozen=True)
class FileMigration:
    """One file: its new text (failed documents left out), and what was found on the way."""

    display: str
    text: str
    results: tuple[MigrationResult, ...]

    @property
    def changed(self) -> bool:
        return any(r.status == "converted" for r in self.results)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for r in self.results for d in r.errors)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for r in self.results for d in r.diagnostics if d.severity is Severity.WARNING)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for r in self.results for n in r.notes)


class _Problems:
    """Collects a document's diagnostics and notes while it is converted."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.found: list[Diagnostic] = []
        self.notes: list[Note] = []

    def error(self, path: JsonPath, rule_id: str, message: str, hint: str = "", *, at_key: bool = False) -> None:
        self.found.append(self.doc.diagnostic(path, rule_id, message, hint, at_key=at_key))

    def at(self, position: tuple[int, int], rule_id: str, message: str, hint: str = "") -> None:
        """An error at a position inside the trial template (its path is the rawTemplate's)."""
        self.found.append(
            Diagnostic(
                self.doc.file, position[0], position[1], rule_id, message, path=format_path(TEMPLATE_PATH), hint=hint
            )
        )

    def warning(self, path: JsonPath, rule_id: str, message: str, hint: str = "") -> None:
        found = self.doc.diagnostic(path, rule_id, message, hint)
        self.found.append(found._replace(severity=Severity.WARNING))

    def note(self, path: JsonPath, rule_id: str, message: str) -> None:
        line, column = self.doc.position(path)
        self.notes.append(Note(self.doc.file, line, column, rule_id, message))

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.found)

    def result(self, node: Any) -> MigrationResult:
        label = f"Experiment/{_name(self.doc.data) or ''}".rstrip("/")
        found = tuple(sorted(d._replace(document=self.doc.index, object=label) for d in self.found))
        status = "failed" if self.failed else "converted"
        return MigrationResult(
            status, None if self.failed else node, found, () if self.failed else tuple(sorted(self.notes))
        )


def _name(data: Any) -> str | None:
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


# ------------------------------------------------------------------ the trial template


_Locate = Callable[[JsonPath], tuple[int, int]]
"""The (line, column) in its file of a path inside a parsed trial template."""


@dataclasses.dataclass(frozen=True)
class _Place:
    """Where a template's text sits in its file: a `|` block (line by line), or one fixed position."""

    line: int
    column: int
    block: bool

    def position(self, raw: str, offset: int) -> tuple[int, int]:
        if not self.block:
            return self.line, self.column
        before = raw[:offset]
        return self.line + before.count("\n"), self.column + offset - (before.rfind("\n") + 1)


@dataclasses.dataclass(frozen=True)
class _Trial:
    """A converted trial source: trialSpec (or configMap), its kind, primary container and the placeholders it uses."""

    key: str
    value: Any
    kind: kinds.TrialKind
    primary: str
    used: frozenset[str]


def _template_place(doc: Document, source: str) -> _Place:
    from ruamel.yaml.scalarstring import LiteralScalarString

    line, column = doc.position(TEMPLATE_PATH)
    raw = doc.node["spec"]["trialTemplate"]["goTemplate"]["rawTemplate"]
    if not isinstance(raw, LiteralScalarString):
        return _Place(line, column, False)
    lines = source.split("\n")[line:]  # the block's content starts on the line after `|`
    first = next((text for text in lines if text.strip()), "")
    return _Place(line + 1, indent_of(first) + 1 if source else column + 2, True)


def _convert_raw(raw: str, data: TemplateData, place: _Place, problems: _Problems) -> tuple[Any, Rendered] | None:
    """Render and parse a rawTemplate; None (with diagnostics) when it cannot be converted."""
    try:
        rendered = render_template(raw, data)
    except TemplateError as exc:
        for offset, message, hint in exc.problems:
            problems.at(place.position(raw, offset), "MIG-03", message, hint)
        return None
    node, problem = _parse_yaml(rendered.text)
    if problem is not None:
        offset, message = problem
        problems.at(
            place.position(raw, rendered.source_offset(offset)),
            "MIG-02",
            f"the template is not valid YAML once converted: {message}",
            "fix the YAML of the template",
        )
        return None
    if not isinstance(node, dict):
        problems.error(list(TEMPLATE_PATH), "MIG-02", "the template is not a Kubernetes object (a YAML mapping)")
        return None
    mark_comments(node, rendered.text.split("\n"))
    return node, rendered


def _parse_yaml(text: str) -> tuple[Any, tuple[int, str] | None]:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return round_trip_yaml().load(text), None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = _offset(text, mark.line, mark.column) if mark else 0
        return None, (offset, (exc.problem or exc.context or "invalid YAML").strip())
    except YAMLError as exc:
        return None, (0, str(exc).strip())


def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[min(line, len(starts) - 1)] + column


def _trial_source(raw: str, data: TemplateData, place: _Place, problems: _Problems) -> _Trial | None:
    """The trialSpec converted from a rawTemplate, checked for what v1beta1 needs (MIG-04..06)."""
    converted = _convert_raw(raw, data, place, problems)
    if converted is None:
        return None
    node, rendered = converted
    position = _positions(node, rendered, raw, place)
    _drop_trial_metadata(node)
    kind = kinds.lookup(str(node.get("kind", "")), str(node.get("apiVersion", "")))
    if kind is None:
        problems.at(
            position(["kind"]),
            "MIG-06",
            f"cannot migrate a trial of kind {node.get('kind')!r} ({node.get('apiVersion')!r})",
            "v1alpha3 ran batch/v1 Job, kubeflow.org/v1 TFJob and kubeflow.org/v1 PyTorchJob",
        )
        return None
    primary = _primary_container(node, kind, data, position, problems)
    if primary is None:
        return None
    return _Trial("trialSpec", node, kind, primary, _placeholders(node))


def _positions(node: Any, rendered: Rendered, raw: str, place: _Place) -> _Locate:
    """file:line:column of a path inside the parsed template."""

    def position(path: JsonPath) -> tuple[int, int]:
        line, column = locate(node, path)
        return place.position(raw, rendered.source_offset(_offset(rendered.text, line - 1, column - 1)))

    return position


def _primary_container(
    node: Any, kind: kinds.TrialKind, data: TemplateData, position: _Locate, problems: _Problems
) -> str | None:
    """The container v1alpha3 collected metrics from, with `{{.Trial}}` container names made fixed (MIG-05)."""
    pods: list[tuple[list[str | int], Any]] = [
        ([*path, "spec"], template["spec"])
        for _, path, template in kinds.pod_templates(node, kind)
        if isinstance(template.get("spec"), dict)
    ]
    if not pods:
        problems.at(position(["spec"]), "MIG-05", f"the {kind.kind} template has no pod template with containers")
        return None
    primary = kind.container if kind.container_by_name else None
    for path, pod in pods:
        containers = pod.get("containers")
        if not isinstance(containers, list) or not containers or not all(isinstance(c, dict) for c in containers):
            problems.at(position(path), "MIG-05", "a pod template without a list of containers")
            return None
        if not _rename_trial_containers(containers, kind, data, [*path, "containers"], position, problems):
            return None
        primary = primary or str(containers[0].get("name"))
        if primary not in [c.get("name") for c in containers]:
            problems.at(
                position([*path, "containers"]),
                "MIG-05",
                f"no container named {primary!r} in this pod template",
                f"v1alpha3 collected metrics from container {primary!r}; v1beta1 needs it in every trial pod (TT-R4)",
            )
            return None
    return primary


def _rename_trial_containers(
    containers: Any,
    kind: kinds.TrialKind,
    data: TemplateData,
    path: list[str | int],
    position: _Locate,
    problems: _Problems,
) -> bool:
    trial = data.fields["Trial"]
    for index, container in enumerate(containers):
        if container.get("name") != trial:
            continue
        if kind.container in [c.get("name") for c in containers]:
            problems.at(
                position([*path, index, "name"]),
                "MIG-05",
                f"a container named {{{{.Trial}}}} next to one named {kind.container!r}",
                "give the training container a fixed name",
            )
            return False
        container["name"] = kind.container
        line, column = position([*path, index, "name"])
        problems.notes.append(
            Note(
                problems.doc.file,
                line,
                column,
                "MIG-05",
                f"container {{{{.Trial}}}} renamed {kind.container!r}: v1beta1 needs a fixed primaryContainerName",
            )
        )
    return True


def _drop_trial_metadata(node: Any) -> None:
    """v1beta1 names and places each trial itself: metadata.name and .namespace must go (MIG-04, TT-18)."""
    metadata = node.get("metadata")
    if not isinstance(metadata, dict):
        return
    keys = list(node)
    moved = take_full_lines(node, "metadata")
    for key in ("name", "namespace"):
        if key in metadata:
            remove_key(metadata, key)
    if not metadata:
        del node["metadata"]
    index = keys.index("metadata")
    anchor = "metadata" if "metadata" in node else (keys[index - 1] if index else None)
    if anchor is not None:
        append_full_lines(node, anchor, moved)


def _placeholders(node: Any) -> frozenset[str]:
    text = json.dumps(to_plain(node), ensure_ascii=False)
    return frozenset(re.findall(r"\$\{trialParameters\.([^}]*)\}", text))


# ------------------------------------------------------------------ one Experiment


@dataclasses.dataclass(frozen=True)
class _Names:
    """trialParameter names: one per HyperParameter (name, trialParameter), and the metadata ones (name, reference)."""

    data: TemplateData
    parameters: tuple[tuple[str, str], ...]
    meta: tuple[tuple[str, str], ...]


def migrate_document(
    doc: Document,
    *,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    source: str = "",
    configmaps: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> MigrationResult:
    """Convert one v1alpha3 Experiment (`doc.node` is left as it is); other documents come back `unchanged`.

    `source` is the text of the file, for line-accurate positions inside a `|` template;
    `configmaps` maps (namespace, name) to the data of ConfigMaps a templateSpec may name.
    """
    data = doc.data
    if (
        not isinstance(data, dict)
        or data.get("kind") != "Experiment"
        or not str(data.get("apiVersion", "")).startswith("kubeflow.org/")
    ):
        return MigrationResult("unchanged")
    problems = _Problems(doc)
    if data.get("apiVersion") == V1BETA1:
        problems.note(["apiVersion"], "MIG-01", f"already {V1BETA1}: left as it is")
        return MigrationResult("unchanged", notes=tuple(problems.notes))
    if data.get("apiVersion") != V1ALPHA3:
        problems.error(
            ["apiVersion"], "MIG-01", f"only {V1ALPHA3} Experiments can be migrated, not {data.get('apiVersion')}"
        )
        return problems.result(None)
    if not isinstance(data.get("spec"), dict):
        problems.error(["spec"], "MIG-01", "the Experiment has no spec")
        return problems.result(None)
    node = copy.deepcopy(doc.node)
    _check_fields(data, (), problems)
    node["apiVersion"] = styled_like(node["apiVersion"], V1BETA1)
    _drop_status(node, problems)
    _check_metadata(data, problems)
    spec = node["spec"]
    _counts(spec, problems)
    _objective(spec, problems)
    _early_stopping(spec, problems)
    _collector(spec, katib_version, problems)
    _resume_policy(spec, problems)
    _trial_template(spec, doc, source, configmaps or {}, problems)
    return problems.result(node)


_PREFIXES = {pattern[:n] for pattern in _FIELDS for n in range(len(pattern) + 1)}


def _check_fields(value: Any, path: tuple[str | int, ...], problems: _Problems) -> None:
    """Fields the v1alpha3 API does not have: Katib dropped them, so they cannot be carried over (MIG-01)."""
    pattern = tuple("*" if isinstance(part, int) else part for part in path)
    allowed = _FIELDS.get(pattern)
    if isinstance(value, dict) and allowed is not None:
        for key in value:
            if key not in allowed:
                problems.error(
                    [*path, key],
                    "MIG-01",
                    f"unknown v1alpha3 field {key!r}",
                    "v1alpha3 had no such field: remove it or fix its spelling",
                    at_key=True,
                )
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        if (*pattern, "*" if isinstance(key, int) else key) in _PREFIXES:
            _check_fields(child, (*path, key), problems)


def _drop_status(node: Any, problems: _Problems) -> None:
    if "status" in node:
        remove_key(node, "status")
        problems.note(["status"], "MIG-19", "status dropped: Katib writes a v1beta1 status of its own")


def _check_metadata(data: Mapping[str, Any], problems: _Problems) -> None:
    name = _name(data)
    if name is not None and len(name) > MAX_NAME:
        problems.error(
            ["metadata", "name"],
            "MIG-13",
            f"the name is {len(name)} characters long; v1beta1 allows at most {MAX_NAME} (NAME-02)",
            "rename the Experiment",
        )
    elif name is not None and not NAME_START.match(name):
        problems.error(
            ["metadata", "name"],
            "MIG-13",
            "the name must start with a lowercase letter (NAME-01)",
            "rename the Experiment",
        )
    namespace = data["metadata"].get("namespace") if isinstance(data.get("metadata"), dict) else None
    where = f"namespace {namespace}" if namespace else "the namespace it is applied to"
    problems.note(
        ["metadata", "namespace"] if namespace else ["metadata"],
        "MIG-15",
        f"{where} needs the label {NAMESPACE_LABEL}: enabled (v1alpha3 used {OLD_NAMESPACE_LABEL}), "
        "or Katib refuses the Experiment (G-06)",
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _counts(spec: Any, problems: _Problems) -> None:
    """v1beta1 checks counts against each other, after defaulting parallelTrialCount to 3 (MIG-13, COUNT-04..06)."""
    most, parallel, failed = (spec.get(k) for k in ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount"))
    if _is_int(most) and parallel is None and most < 3:
        insert_before(spec, "maxTrialCount", "parallelTrialCount", most)
        problems.note(
            ["spec", "maxTrialCount"],
            "MIG-13",
            f"parallelTrialCount: {most} written out: Katib's default of 3 would exceed maxTrialCount (COUNT-06)",
        )
    elif _is_int(most) and _is_int(parallel) and parallel > most:
        problems.error(
            ["spec", "parallelTrialCount"],
            "MIG-13",
            f"parallelTrialCount {parallel} exceeds maxTrialCount {most}: v1beta1 refuses it (COUNT-05)",
            "lower parallelTrialCount to at most maxTrialCount",
        )
    if _is_int(most) and _is_int(failed) and failed > most:
        problems.error(
            ["spec", "maxFailedTrialCount"],
            "MIG-13",
            f"maxFailedTrialCount {failed} exceeds maxTrialCount {most}: v1beta1 refuses it (COUNT-04)",
            "choose the count of failed trials at which the Experiment fails, at most maxTrialCount",
        )


def _objective(spec: Any, problems: _Problems) -> None:
    objective = spec.get("objective")
    extra = objective.get("additionalMetricNames") if isinstance(objective, dict) else None
    name = objective.get("objectiveMetricName") if isinstance(objective, dict) else None
    if not isinstance(extra, list) or name not in extra:
        return
    for index in reversed(range(len(extra))):
        if extra[index] == name:
            del extra[index]
    if not extra:
        remove_key(objective, "additionalMetricNames")
    problems.note(
        ["spec", "objective", "additionalMetricNames"],
        "MIG-10",
        f"the objective metric {name!r} dropped from additionalMetricNames (OBJ-04)",
    )


def _early_stopping(spec: Any, problems: _Problems) -> None:
    """v1alpha3's spec.algorithm.earlyStopping becomes spec.earlyStopping (MIG-09)."""
    from ruamel.yaml.comments import CommentedMap

    algorithm = spec.get("algorithm")
    old = algorithm.get("earlyStopping") if isinstance(algorithm, dict) else None
    if old is None:
        return
    path = ["spec", "algorithm", "earlyStopping"]
    name = old.get("earlyStoppingAlgorithmName") if isinstance(old, dict) else None
    settings = old.get("earlyStoppingSettings") if isinstance(old, dict) else None
    remove_key(algorithm, "earlyStopping")
    if not name and not settings:
        problems.note(path, "MIG-09", "the empty algorithm.earlyStopping dropped")
        return
    if not name:
        problems.error(
            path,
            "MIG-09",
            "earlyStoppingSettings without earlyStoppingAlgorithmName",
            "name the early stopping algorithm (medianstop)",
        )
        return
    moved = CommentedMap([("algorithmName", name)] + ([("algorithmSettings", settings)] if settings else []))
    insert_after(spec, "algorithm", "earlyStopping", moved)
    problems.note(
        path,
        "MIG-09",
        "algorithm.earlyStopping moved to spec.earlyStopping; v1alpha3 never applied it, v1beta1 does: "
        "trials may now stop early",
    )


def _collector(spec: Any, version: tuple[int, int], problems: _Problems) -> None:
    collector_spec = spec.get("metricsCollectorSpec")
    collector = collector_spec.get("collector") if isinstance(collector_spec, dict) else None
    if not isinstance(collector, dict) or collector.get("kind") != "None":
        return
    path = ["spec", "metricsCollectorSpec", "collector", "kind"]
    if version >= PUSH_SINCE:
        collector["kind"] = styled_like(collector["kind"], "Push")
        problems.note(path, "MIG-12", "collector kind None is called Push since Katib 0.18")
    else:
        problems.note(path, "MIG-12", f"collector kind None kept: Katib {version[0]}.{version[1]} still calls it None")


def _resume_policy(spec: Any, problems: _Problems) -> None:
    """v1alpha3 defaulted resumePolicy to LongRunning, v1beta1 to Never: keep the old behaviour (MIG-08)."""
    if spec.get("resumePolicy"):
        return
    message = "resumePolicy: LongRunning written out: it was v1alpha3's default, v1beta1's is Never (RP-02)"
    problems.note(["spec", "resumePolicy"], "MIG-08", message)
    if "resumePolicy" in spec:
        spec["resumePolicy"] = "LongRunning"
        return
    after = next((k for k in reversed(list(spec)) if k in kinds.COUNT_FIELDS), None)
    insert_after(spec, after, "resumePolicy", "LongRunning")


def _trial_template(
    spec: Any, doc: Document, source: str, configmaps: Mapping[tuple[str, str], Mapping[str, Any]], problems: _Problems
) -> None:
    """goTemplate (rawTemplate or templateSpec) becomes trialSpec or configMap, with all v1beta1 needs (MIG-02..07)."""
    template = spec.get("trialTemplate")
    go = template.get("goTemplate") if isinstance(template, dict) else None
    raw = go.get("rawTemplate") if isinstance(go, dict) else None
    reference = go.get("templateSpec") if isinstance(go, dict) else None
    if raw is None and reference is None:
        problems.error(
            ["spec", "trialTemplate", "goTemplate"],
            "MIG-07",
            "no goTemplate.rawTemplate or templateSpec: "
            "v1alpha3 used its default ConfigMap trial-template (defaultTrialTemplate.yaml)",
            "v1beta1 has no default trial template: "
            "copy that template into trialTemplate.goTemplate.rawTemplate and migrate again",
        )
        return
    if raw is not None and reference is not None:
        problems.error(
            ["spec", "trialTemplate", "goTemplate"],
            "MIG-02",
            "goTemplate has both rawTemplate and templateSpec",
            "keep the one Katib used",
        )
        return
    names = _names(doc.data, problems)
    if names is None:
        return
    if raw is not None and not isinstance(raw, str):
        problems.error(list(TEMPLATE_PATH), "MIG-02", "rawTemplate must be a string")
        return
    trial = (
        _trial_source(raw, names.data, _template_place(doc, source), problems)
        if raw is not None
        else _config_map_source(reference, names, configmaps, problems)
    )
    if trial is None or not _every_parameter_used(trial, names, problems):
        return
    _replace_go_template(template, trial, names, problems)


def _names(data: Mapping[str, Any], problems: _Problems) -> _Names | None:
    """trialParameter names: camelCase of each parameter name (`--learning-rate` -> learningRate), then metadata's."""
    spec = data["spec"]
    listed = spec.get("parameters")
    parameters = [p.get("name") if isinstance(p, dict) else None for p in listed] if isinstance(listed, list) else []
    algorithm = spec["algorithm"].get("algorithmName") if isinstance(spec.get("algorithm"), dict) else None
    if not parameters and spec.get("nasConfig") is not None:
        if algorithm not in kinds.NAS_ASSIGNMENTS:
            problems.error(
                ["spec", "algorithm"],
                "MIG-17",
                f"cannot tell which HyperParameters a NAS trial of algorithm {algorithm!r} received",
                f"NAS migrates for {' and '.join(kinds.NAS_ASSIGNMENTS)}",
            )
            return None
        parameters = list(kinds.NAS_ASSIGNMENTS[algorithm])
    for index, name in enumerate(parameters):
        if not isinstance(name, str) or not name:
            problems.error(["spec", "parameters", index], "MIG-11", "a parameter without a name")
            return None
    taken: set[str] = set()
    pairs = tuple((str(name), _unique(camel_case(str(name)), taken)) for name in parameters)
    meta = tuple((_unique(tp, taken), reference) for tp, reference in META.values())
    fields = {field: _placeholder(name) for field, (name, _) in zip(META, meta, strict=True)}
    if _name(data):
        fields["Experiment"] = str(_name(data))
    values = tuple((name, _placeholder(tp)) for name, tp in pairs)
    return _Names(TemplateData(fields, values), pairs, meta)


def _placeholder(trial_parameter: str) -> str:
    return "${trialParameters." + trial_parameter + "}"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{number}", number + 1
    taken.add(candidate)
    return candidate


def _every_parameter_used(trial: _Trial, names: _Names, problems: _Problems) -> bool:
    missing = [name for name, tp in names.parameters if tp not in trial.used]
    if missing:
        path = (
            list(TEMPLATE_PATH) if trial.key == "trialSpec" else ["spec", "trialTemplate", "goTemplate", "templateSpec"]
        )
        problems.error(
            path,
            "MIG-03",
            f"the template never passes {', '.join(missing)} to the trial (no .HyperParameters loop)",
            "v1beta1 needs every parameter in the template as ${trialParameters.<name>} (TT-R1); add it by hand",
        )
    return not missing


def _config_map_source(
    reference: Any, names: _Names, configmaps: Mapping[tuple[str, str], Mapping[str, Any]], problems: _Problems
) -> _Trial | None:
    """templateSpec maps field for field to configMap; the kind comes from the ConfigMap if it is an input (MIG-02)."""
    path = ["spec", "trialTemplate", "goTemplate", "templateSpec"]
    values = [
        reference.get(k) if isinstance(reference, dict) else None
        for k in ("configMapName", "configMapNamespace", "templatePath")
    ]
    if not all(isinstance(v, str) and v for v in values):
        problems.error(path, "MIG-02", "templateSpec needs configMapName, configMapNamespace and templatePath (TT-07)")
        return None
    name, namespace, key = (str(v) for v in values)
    stored = configmaps.get((namespace, name)) or configmaps.get(("", name)) or {}
    text = stored.get(key)
    if not isinstance(text, str):
        problems.error(
            path,
            "MIG-02",
            f"cannot tell the trial kind of ConfigMap {namespace}/{name} ({key}): "
            "its conditions and primary container are unknown",
            "name the ConfigMap's file too (katib-gitops migrate EXPERIMENT CONFIGMAP), "
            "or inline the template as a rawTemplate",
        )
        return None
    scratch = _Problems(problems.doc)
    trial = _trial_source(text, names.data, _Place(*problems.doc.position(path), False), scratch)
    for found in scratch.found:
        problems.error(path, found.rule_id, f"ConfigMap {namespace}/{name} ({key}): {found.message}", found.hint)
    if trial is None:
        return None
    placeholders = ", ".join(_placeholder(tp) for tp, _ in _trial_parameters(names, trial.used))
    problems.warning(
        path,
        "MIG-02",
        f"ConfigMap {namespace}/{name} ({key}) still holds a v1alpha3 Go template: convert it to v1beta1 too",
        f"in the template use {placeholders} for the Go actions, drop metadata.name and metadata.namespace, "
        f"and name the primary container {trial.primary!r}",
    )
    return _Trial("configMap", reference, trial.kind, trial.primary, trial.used)


def _trial_parameters(names: _Names, used: frozenset[str]) -> list[tuple[str, str]]:
    meta = [(tp, reference) for tp, reference in names.meta if tp in used]
    return [(tp, name) for name, tp in names.parameters] + meta


def _replace_go_template(template: Any, trial: _Trial, names: _Names, problems: _Problems) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    position = list(template).index("goTemplate")
    moved = take_full_lines(template, "goTemplate")
    del template["goTemplate"]
    parameters = CommentedSeq(
        CommentedMap([("name", tp), ("reference", reference)]) for tp, reference in _trial_parameters(names, trial.used)
    )
    entries: list[tuple[str, Any]] = [("primaryContainerName", trial.primary)]
    if trial.kind.pod_labels:
        entries.append(("primaryPodLabels", CommentedMap(trial.kind.pod_labels)))
    entries += [
        ("successCondition", trial.kind.success),
        ("failureCondition", trial.kind.failure),
        ("trialParameters", parameters),
        (trial.key, trial.value),
    ]
    for offset, (key, value) in enumerate(entries):
        template.insert(position + offset, key, value)
    append_full_lines(template, trial.key, moved)
    if "retain" in template and template["retain"] is False:
        remove_key(template, "retain")
        problems.note(["spec", "trialTemplate", "retain"], "G-04", "retain: false dropped: it is Katib's default")


# ------------------------------------------------------------------ a file


def migrate_text(
    text: str,
    display: str,
    *,
    katib_version: tuple[int, int] = kinds.KATIB_VERSION,
    configmaps: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> FileMigration:
    """Convert every v1alpha3 Experiment of a file; other documents keep their text byte for byte.

    Raises FindingsError when the file is not valid YAML.
    """
    documents = load_documents(text, display)
    nodes = list(round_trip_yaml().load_all(text))
    segments = split_segments(text)
    out = [segment.text for segment in segments]
    indent = guess_indent(text)
    results = []
    for document in documents:
        document = document._replace(node=nodes[document.index])
        result = migrate_document(document, katib_version=katib_version, source=text, configmaps=configmaps)
        results.append(result)
        if result.status != "unchanged":
            index = segment_of(segments, document.node)
            out[index] = "" if result.node is None else dump_segment(segments[index], result.node, indent)
    return FileMigration(display, "".join(out), tuple(results))


def config_maps(documents: Iterable[Document]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(namespace, name) -> data of every ConfigMap among `documents` (namespace "" when it has none)."""
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for document in documents:
        data = document.data
        if (
            isinstance(data, dict)
            and data.get("kind") == "ConfigMap"
            and data.get("apiVersion") == "v1"
            and _name(data)
        ):
            stored = data.get("data")
            found[(str(data["metadata"].get("namespace") or ""), str(_name(data)))] = (
                stored if isinstance(stored, dict) else {}
            )
    return found
