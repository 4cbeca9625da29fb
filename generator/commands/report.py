"""Reporters: how `katib-gitops validate` shows its findings, one small class per format.

The core builds one `Report` value (the findings, every file checked, the number of
YAML documents, and the rules that fired) and owns all counting: `Report.errors`,
`Report.warnings`, `Report.summary` and `Report.exit_code`. A reporter only turns a
`Report` into text on the stream it was given; nothing else in the validator prints.
`REPORTERS` maps each `--format` name to its class, and `write_report` is the one
call the CLI needs.

Formats:

- ``text`` (default): ``file:line:col: severity: message [RULE]``, then indented
  ``at <path>`` and ``hint: ...`` lines, then one summary line such as
  ``2 errors, 1 warning in 3 files (5 documents)`` (``, 1 note`` after the warnings
  when there are notes). ANSI colour only when the caller asks for it (see `use_color`).
  Notes (severity ``note``: something left unchecked) are shown and counted in every
  format; they never change the exit code.
- ``json``: one object, stable across releases of the same ``version``::

      {
        "version": 1,
        "tool": {"name": "katib-gitops", "version": "<katib_gitops.__version__>"},
        "summary": {"errors": 2, "warnings": 1, "notes": 0, "files": 3, "documents": 5},
        "files": ["every/file/checked.yaml", ...],
        "rules": [{"id": "RULE", "severity": "error", "doc": "..."}, ...],
        "diagnostics": [
          {"file": "...", "line": 1, "column": 1, "rule_id": "RULE",
           "severity": "error" | "warning" | "note", "message": "...", "path": "spec.x",
           "hint": "...", "document": 0, "object": "Experiment/name"}, ...
        ]
      }

  ``line`` and ``column`` are 1-based; ``path``, ``hint`` and ``object`` are ``""``
  when unknown. New keys may be added within a version; none is removed or renamed.
  `report_from_json` reads it back.
- ``github``: GitHub Actions workflow commands
  (``::error file=F,line=L,col=C,title=RULE::message``; ``::warning``, and ``::notice``
  for a note), one per finding, then the summary line.
- ``junit``: JUnit XML with one testsuite and one testcase per file checked; each
  error is a ``<failure type="RULE">``, warnings and notes go to the testcase's ``<system-out>``.
- ``sarif``: SARIF 2.1.0, one run, for GitHub code scanning and other SARIF viewers; a
  result's ``level`` is ``error``, ``warning`` or ``note``.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import abc
import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TextIO

from katib_gitops import __version__
from katib_gitops.core.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

TOOL_NAME = "katib-gitops"
INFORMATION_URI = "https://github.com/kubeflow/katib"
JSON_FORMAT_VERSION = 1
SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
DEFAULT_FORMAT = "text"


class RuleInfo(NamedTuple):
    """What a report says about one rule: enough for SARIF's rule descriptors."""

    id: str
    severity: Severity
    doc: str


class Report(NamedTuple):
    """The outcome of one validation run; reporters render it, the core counts it."""

    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]  # every file checked, the clean ones too
    documents: int
    rules: Mapping[str, RuleInfo] = MappingProxyType({})

    def __hash__(self) -> int:  # `rules` (a mapping) describes the findings; it is not part of the identity
        return hash((self.diagnostics, self.files, self.documents))

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    @property
    def notes(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.NOTE)

    def exit_code(self, strict_warnings: bool = False) -> int:
        """0 when clean or only warnings and notes; 1 on errors, or on warnings when they are strict."""
        return 1 if self.errors or (strict_warnings and self.warnings) else 0

    @property
    def summary(self) -> str:
        """`2 errors, 1 warning in 3 files (5 documents)`; `, 1 note` after the warnings when there are notes."""
        counts = f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        if self.notes:
            counts += f", {_plural(self.notes, 'note')}"
        return f"{counts} in {_plural(len(self.files), 'file')} ({_plural(self.documents, 'document')})"

    def rule(self, rule_id: str) -> RuleInfo:
        """The rule's info; one made up from its first finding when the core gave none."""
        if rule_id in self.rules:
            return self.rules[rule_id]
        severity = next((d.severity for d in self.diagnostics if d.rule_id == rule_id), Severity.ERROR)
        return RuleInfo(rule_id, severity, "")

    def rule_ids(self) -> list[str]:
        """Every rule the report knows or that fired, sorted."""
        return sorted(set(self.rules) | {d.rule_id for d in self.diagnostics})


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def use_color(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    if env.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


class Reporter(abc.ABC):
    """Writes one `Report` to one text stream in one format."""

    name: ClassVar[str]

    def __init__(self, stream: TextIO, *, color: bool = False) -> None:
        self.stream = stream
        self.color = color

    @abc.abstractmethod
    def write(self, report: Report) -> None: ...


# -- text ------------------------------------------------------------------------

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}


class TextReporter(Reporter):
    """`file:line:col: severity: message [RULE]` per finding, then a summary line."""

    name = "text"

    def write(self, report: Report) -> None:
        for diagnostic in report.diagnostics:
            self.stream.write(self._diagnostic(diagnostic) + "\n")
        self.stream.write(report.summary + "\n")

    def _diagnostic(self, d: Diagnostic) -> str:
        where = self._style("bold", f"{d.file}:{d.line}:{d.column}:")
        severity = self._style(d.severity, f"{d.severity.value}:")
        lines = [f"{where} {severity} {d.message} {self._style('dim', f'[{d.rule_id}]')}"]
        if d.path:
            lines.append(f"  at {d.path}")
        if d.hint:
            lines.append(f"  hint: {d.hint}")
        return "\n".join(lines)

    def _style(self, style: str | Severity, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.color else text


# -- json ------------------------------------------------------------------------

_DIAGNOSTIC_FIELDS = ("file", "line", "column", "rule_id", "severity", "message", "path", "hint", "document", "object")


def diagnostic_to_json(d: Diagnostic) -> dict[str, Any]:
    """One finding as the `json` format writes it."""
    out = {name: getattr(d, name) for name in _DIAGNOSTIC_FIELDS}
    out["severity"] = d.severity.value
    return out


def diagnostic_from_json(data: Mapping[str, Any]) -> Diagnostic:
    fields = {name: data[name] for name in _DIAGNOSTIC_FIELDS if name in data}
    fields["severity"] = Severity(data.get("severity", Severity.ERROR.value))
    return Diagnostic(**fields)


def report_to_json(report: Report) -> dict[str, Any]:
    """The documented `json` object (see the module docstring)."""
    return {
        "version": JSON_FORMAT_VERSION,
        "tool": {"name": TOOL_NAME, "version": __version__},
        "summary": {
            "errors": report.errors,
            "warnings": report.warnings,
            "notes": report.notes,
            "files": len(report.files),
            "documents": report.documents,
        },
        "files": list(report.files),
        "rules": [_rule_to_json(report.rule(rule_id)) for rule_id in sorted(report.rules)],
        "diagnostics": [diagnostic_to_json(d) for d in report.diagnostics],
    }


def _rule_to_json(rule: RuleInfo) -> dict[str, str]:
    return {"id": rule.id, "severity": rule.severity.value, "doc": rule.doc}


def report_from_json(data: Mapping[str, Any]) -> Report:
    """Reads back what `JsonReporter` wrote."""
    if data.get("version") != JSON_FORMAT_VERSION:
        raise ValueError(f"unsupported report version {data.get('version')!r} (expected {JSON_FORMAT_VERSION})")
    rules = {r["id"]: RuleInfo(r["id"], Severity(r["severity"]), r["doc"]) for r in data.get("rules", [])}
    return Report(
        diagnostics=tuple(diagnostic_from_json(d) for d in data["diagnostics"]),
        files=tuple(data["files"]),
        documents=int(data["summary"]["documents"]),
        rules=rules,
    )


class JsonReporter(Reporter):
    name = "json"

    def write(self, report: Report) -> None:
        json.dump(report_to_json(report), self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")


# -- github ----------------------------------------------------------------------


def escape_github_data(text: str) -> str:
    """Workflow-command message escaping: `%`, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_github_property(text: str) -> str:
    """Workflow-command property escaping: the data escapes plus `:` and `,`."""
    return escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions annotations: `::error file=F,line=L,col=C,title=RULE::message`."""

    name = "github"

    def write(self, report: Report) -> None:
        for diagnostic in report.diagnostics:
            self.stream.write(github_command(diagnostic) + "\n")
        self.stream.write(report.summary + "\n")


_GITHUB_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def github_command(d: Diagnostic) -> str:
    properties = {"file": d.file}
    if d.line >= 1:
        properties["line"] = str(d.line)
        if d.column >= 1:
            properties["col"] = str(d.column)
    properties["title"] = d.rule_id
    props = ",".join(f"{key}={escape_github_property(value)}" for key, value in properties.items())
    return f"::{_GITHUB_COMMANDS[d.severity]} {props}::{escape_github_data(_long_message(d))}"


def _long_message(d: Diagnostic) -> str:
    """The message, then `at <path>` and `hint: ...` on lines of their own."""
    lines = [d.message]
    if d.path:
        lines.append(f"at {d.path}")
    if d.hint:
        lines.append(f"hint: {d.hint}")
    return "\n".join(lines)


# -- junit -----------------------------------------------------------------------


@functools.cache
def _xml_illegal() -> re.Pattern[str]:
    """Characters XML 1.0 cannot carry (compiled on first use: only the junit format needs it)."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """Drops the characters XML 1.0 cannot hold at all (most C0 controls, lone surrogates)."""
    return _xml_illegal().sub("\ufffd", text)


class JunitReporter(Reporter):
    """One testsuite; one testcase per file checked; a <failure> per error."""

    name = "junit"
    suite_name = f"{TOOL_NAME} validate"

    def write(self, report: Report) -> None:
        root = junit_tree(report, self.suite_name)
        import xml.etree.ElementTree as ET

        ET.indent(root)
        self.stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        self.stream.write(ET.tostring(root, encoding="unicode") + "\n")


def junit_tree(report: Report, suite_name: str) -> "ET.Element":
    import xml.etree.ElementTree as ET  # only the junit format needs it

    by_file = _group_by_file(report)
    failed = sum(1 for diags in by_file.values() if any(d.severity is Severity.ERROR for d in diags))
    counts = {"tests": str(len(by_file)), "failures": str(failed), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", {"name": suite_name, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": suite_name, **counts})
    properties = ET.SubElement(suite, "properties")
    counts_by_name = (
        ("errors", report.errors),
        ("warnings", report.warnings),
        ("notes", report.notes),
        ("documents", report.documents),
    )
    for name, value in counts_by_name:
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})
    for file, diagnostics in by_file.items():
        suite.append(_junit_testcase(file, diagnostics))
    return root


def _group_by_file(report: Report) -> dict[str, list[Diagnostic]]:
    """Every file checked, in order, then any file that only the findings name."""
    groups: dict[str, list[Diagnostic]] = {file: [] for file in report.files}
    for diagnostic in report.diagnostics:
        groups.setdefault(diagnostic.file, []).append(diagnostic)
    return groups


def _junit_testcase(file: str, diagnostics: list[Diagnostic]) -> "ET.Element":
    import xml.etree.ElementTree as ET  # only the junit format needs it

    case = ET.Element("testcase", {"classname": TOOL_NAME, "name": _xml_text(file), "file": _xml_text(file)})
    for d in diagnostics:
        if d.severity is Severity.ERROR:
            message = _xml_text(f"{d.line}:{d.column}: {d.message}")
            failure = ET.SubElement(case, "failure", {"type": _xml_text(d.rule_id), "message": message})
            failure.text = _xml_text(d.format())
    warnings = [d.format() for d in diagnostics if d.severity is not Severity.ERROR]  # and notes
    if warnings:
        ET.SubElement(case, "system-out").text = _xml_text("\n".join(warnings))
    return case


# -- sarif -----------------------------------------------------------------------


class SarifReporter(Reporter):
    """SARIF 2.1.0: one run of the `katib-gitops` driver."""

    name = "sarif"

    def write(self, report: Report) -> None:
        json.dump(sarif_log(report), self.stream, indent=2, ensure_ascii=False)
        self.stream.write("\n")


def sarif_log(report: Report) -> dict[str, Any]:
    rule_ids = report.rule_ids()
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    driver = {
        "name": TOOL_NAME,
        "informationUri": INFORMATION_URI,
        "version": __version__,
        "rules": [_sarif_rule(report.rule(rule_id)) for rule_id in rule_ids],
    }
    run = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(d, index[d.rule_id]) for d in report.diagnostics],
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _sarif_rule(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.doc or rule.id},
        "defaultConfiguration": {"level": rule.severity.value},
    }


def _sarif_result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    text = f"{d.message}\nhint: {d.hint}" if d.hint else d.message
    result: dict[str, Any] = {
        "ruleId": d.rule_id,
        "ruleIndex": rule_index,
        "level": d.severity.value,
        "message": {"text": text},
        "locations": [_sarif_location(d)],
    }
    properties = {key: value for key, value in (("document", d.document), ("object", d.object)) if value != ""}
    if properties:
        result["properties"] = properties
    return result


def _sarif_location(d: Diagnostic) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": artifact_location(d.file)}
    region = {key: value for key, value in (("startLine", d.line), ("startColumn", d.column)) if value >= 1}
    if "startLine" in region:
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if d.path:
        location["logicalLocations"] = [{"fullyQualifiedName": d.path}]
    return location


def artifact_location(file: str, root: Path | None = None) -> dict[str, str]:
    """A relative posix URI under %SRCROOT% (`root`, by default the working directory), or a file: URI outside it."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(root if root is not None else Path.cwd())
        except ValueError:
            return {"uri": path.as_uri()}
    return {"uri": _quote(path.as_posix(), safe="/"), "uriBaseId": SRCROOT}


# -- registry --------------------------------------------------------------------

REPORTERS: dict[str, type[Reporter]] = {
    cls.name: cls for cls in (TextReporter, JsonReporter, GithubReporter, JunitReporter, SarifReporter)
}
FORMATS: tuple[str, ...] = tuple(REPORTERS)  # the CLI's --format choices


def write_report(report: Report, stream: TextIO, fmt: str = DEFAULT_FORMAT, *, color: bool = False) -> None:
    """Render `report` on `stream` in format `fmt` (a key of REPORTERS)."""
    try:
        reporter_class = REPORTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    reporter_class(stream, color=color).write(report)


def rules_info(rules: Iterable[Any]) -> dict[str, RuleInfo]:
    """RuleInfo for objects with `id`, `severity` and `doc` (e.g. registry.KatibRule)."""
    return {rule.id: RuleInfo(rule.id, Severity(rule.severity), rule.doc) for rule in rules}


def _quote(text: str, safe: str = "/") -> str:
    from urllib.parse import quote

    return quote(text, safe=safe)
