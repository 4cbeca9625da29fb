"""Notes: what `validate` left unchecked, shown in every format, counted, and never a failure.

The one note today: a configMap trial template without --trial-templates. Katib reads it from the cluster's
ConfigMap at admission (validator.go:validateTrialTemplate -> manifest/generator.go:GetTrialTemplate: TT-08, then
TT-15..TT-17 on its text), which a static check does not have; the note says so under TT-08, the rule that needs it.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.report import Report, write_report
from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.yamlio.writer import dump
from tests.validate.helpers import VALID, experiment

CONFIGMAP = {"configMapName": "trial-templates", "configMapNamespace": "kubeflow", "templatePath": "job.yaml"}
TEMPLATE_TEXT = """\
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: training-container
          image: trainer
          args: ["--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}"]
"""
NOTE = Diagnostic(
    "specs/a.yaml",
    40,
    5,
    "TT-08",
    "trial template kubeflow/trial-templates[job.yaml] not checked",
    severity=Severity.NOTE,
    path="spec.trialTemplate.configMap",
    hint="pass the ConfigMap that holds the template with --trial-templates",
)
WITH_NOTE = Report(diagnostics=(NOTE,), files=("specs/a.yaml",), documents=1)


def configmap_experiment() -> dict[str, Any]:
    template = {k: v for k, v in VALID["spec"]["trialTemplate"].items() if k != "trialSpec"}
    conditions = {
        "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
        "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    }
    return experiment(trialTemplate={**template, **conditions, "configMap": CONFIGMAP})


def validate(tmp_path: Path, *options: str) -> tuple[int, str, str]:
    path = tmp_path / "experiment.yaml"
    text = dump(configmap_experiment())
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", *options, str(path)])
    return result.exit_code, result.stdout, text


def render(report: Report, fmt: str) -> str:
    stream = io.StringIO()
    write_report(report, stream, fmt)
    return stream.getvalue()


def test_an_unchecked_configmap_template_is_a_tt08_note_at_the_configmap_and_exit_0(tmp_path: Path) -> None:
    code, out, text = validate(tmp_path, "--format", "json")
    report = json.loads(out)
    ((found),) = report["diagnostics"]
    line = text.splitlines().index("    configMap:") + 1
    assert (found["rule_id"], found["severity"], found["line"], found["column"]) == ("TT-08", "note", line, 5)
    assert "kubeflow/trial-templates[job.yaml] not checked" in found["message"]
    assert "--trial-templates" in found["hint"]
    assert code == 0 and report["summary"]["notes"] == 1 and report["summary"]["errors"] == 0


def test_notes_do_not_fail_even_with_strict_warnings(tmp_path: Path) -> None:
    code, out, _ = validate(tmp_path, "--strict-warnings")
    assert code == 0 and out.endswith("0 errors, 0 warnings, 1 note in 1 file (1 document)\n")


def test_the_note_goes_once_the_configmap_is_given(tmp_path: Path) -> None:
    templates = tmp_path / "templates.yaml"
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "trial-templates"}}
    templates.write_text(dump({**config_map, "data": {"job.yaml": TEMPLATE_TEXT}}))
    code, out, _ = validate(tmp_path, "--trial-templates", str(templates))
    assert code == 0 and out == "0 errors, 0 warnings in 1 file (1 document)\n"


def test_text_shows_a_note_like_any_finding_and_counts_it() -> None:
    out = render(WITH_NOTE, "text")
    assert out.startswith("specs/a.yaml:40:5: note: trial template kubeflow/trial-templates[job.yaml] not checked")
    assert out.endswith("0 errors, 0 warnings, 1 note in 1 file (1 document)\n")
    assert WITH_NOTE.exit_code(strict_warnings=True) == 0


def test_github_writes_a_note_as_a_notice() -> None:
    """GitHub's workflow commands are error, warning and notice; a note is a notice."""
    first = render(WITH_NOTE, "github").splitlines()[0]
    assert first.startswith("::notice file=specs/a.yaml,line=40,col=5,title=TT-08::trial template")


def test_junit_keeps_a_note_out_of_the_failures() -> None:
    root = ET.fromstring(render(WITH_NOTE, "junit"))
    (case,) = root.iter("testcase")
    assert case.find("failure") is None and root.get("failures") == "0"
    assert "note: trial template" in (case.findtext("system-out") or "")
    properties = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert properties["notes"] == "1"


def test_sarif_gives_a_note_the_level_note() -> None:
    (result,) = json.loads(render(WITH_NOTE, "sarif"))["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("TT-08", "note")


def test_json_counts_notes_and_reads_them_back() -> None:
    from katib_gitops.commands.report import report_from_json

    data = json.loads(render(WITH_NOTE, "json"))
    assert data["summary"]["notes"] == 1 and data["diagnostics"][0]["severity"] == "note"
    assert report_from_json(data).diagnostics == WITH_NOTE.diagnostics


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit", "sarif"])
def test_every_format_shows_the_note(fmt: str) -> None:
    assert "kubeflow/trial-templates[job.yaml] not checked" in render(WITH_NOTE, fmt)
