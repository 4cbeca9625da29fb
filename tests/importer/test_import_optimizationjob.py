"""`import` and `results` for the second backend: OptimizationJobs back into specs, and their `status.result`.

Fields as Kubeflow Trainer master 8c0f5059 defines them (pkg/apis/trainer/v1alpha1/optimizationjob_types.go):
OptimizationJobStatus has `conditions` (metav1.Condition) and `result` (Result: trainJobName, parameters[] of
ParameterAssignment name/value strings); no metric values, no trial counters. KEP-2605's sample status shows a
`Complete` condition with reason MaxTrialsReached.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.commands.importer.optimizationjob import import_optimization_job
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.expand import overlays
from katib_gitops.expand.optimizationjob import build_optimization_job
from katib_gitops.kustomize import render
from katib_gitops.spec.model import Profile, load_spec_set, parse_spec
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.writer import dump
from tests.helpers import write_specs
from tests.test_optimizationjob import JOB_TEXT, PROFILED_TARGETS, VARIANTS, train_job_spec


def _rendered(tmp_path: Path, body: dict[str, Any]) -> tuple[Path, list[dict[str, Any]]]:
    specs = write_specs(tmp_path, body, targets=PROFILED_TARGETS)
    out = tmp_path / "overlays"
    generate(GenerateOptions(specs_dir=specs, out_dir=out))
    files = render.DiskFiles(out)
    return specs, [render.render(files, f"tune/{ns}/{p}")[0] for ns in ("team-a", "team-b") for p in ("cpu", "gpu")]


def _without_generated(job: dict[str, Any]) -> dict[str, Any]:
    return {"spec": job["spec"]}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_generated_job_imports_to_a_spec_that_generates_it_back(variant: str, tmp_path: Path) -> None:
    """The round trip, checked here apart from the importer's own proof: the imported spec, read back from the
    text the import writes, builds the same OptimizationJob spec with its profile."""
    _, jobs = _rendered(tmp_path, train_job_spec(**VARIANTS[variant]))
    for job in jobs:
        result = import_optimization_job(Document("job.yaml", 0, job, None))
        assert result.spec["spec"]["backend"] == "optimizationjob"
        spec = parse_spec(load_documents(dump(result.spec), "imported.yaml")[0])
        rebuilt = build_optimization_job(spec, Profile(result.profile, result.profile_body))
        assert rebuilt["spec"] == job["spec"], variant
        assert result.namespace == job["metadata"]["namespace"]


def test_the_imported_spec_keeps_the_search_as_the_original_spec_wrote_it(tmp_path: Path) -> None:
    original = train_job_spec()
    _, jobs = _rendered(tmp_path, original)
    result = import_optimization_job(Document("job.yaml", 0, jobs[0], None))  # team-a/cpu
    imported = result.spec["spec"]
    assert imported["objective"] == original["spec"]["objective"]
    assert imported["algorithm"] == {"name": "random"}
    assert imported["budget"] == {"maxTrials": 12, "parallelTrials": 3}
    assert imported["parameters"][0] == original["spec"]["parameters"][0]
    assert imported["parameters"][1]["values"] == ["16", "32", "64"]  # categorical choices are text
    assert imported["trial"] == {**original["spec"]["trial"], "resources": {"requests": {"cpu": "2"}}}  # cpu's
    assert result.form == "short"


def test_import_cli_writes_the_spec_and_the_targets(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(JOB_TEXT.replace("  name: random-tuning\n", "  name: random-tuning\n  namespace: team-a\n"))
    out = tmp_path / "imported"
    result = CliRunner().invoke(main, ["import", str(job), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = (out / "random-tuning.yaml").read_text()
    assert "(OptimizationJob team-a/random-tuning)" in text
    spec_set = load_spec_set(out)
    (expansion,) = overlays.expand(spec_set)
    assert expansion.kind == "OptimizationJob"
    body = expansion.overlays[0].experiment["spec"]
    assert body["objectives"] == [{"metric": "val_loss", "direction": "Minimize"}]  # the CRD's default direction
    assert body["parameters"][0] == {
        "name": "learning_rate",
        "searchSpace": {"logUniform": {"min": "0.0001", "max": "0.1", "type": "Float"}},
    }
    assert (body["numTrials"], body["parallelTrials"]) == (20, 4)


def test_an_invalid_job_is_refused_with_the_crd_reason(tmp_path: Path) -> None:
    document = load_documents(JOB_TEXT.replace("parallelTrials: 4", "parallelTrials: 40"), "job.yaml")[0]
    with pytest.raises(FindingsError) as caught:
        import_optimization_job(document)
    assert [(d.line, d.rule_id, d.message) for d in caught.value.diagnostics] == [
        (21, "schema", "parallelTrials cannot exceed numTrials")
    ]


def test_a_bound_no_spec_number_writes_back_is_refused_at_it() -> None:
    """ "0.10" is valid for the CRD, but a spec's 0.1 is generated as "0.1": the import never changes the job."""
    document = load_documents(JOB_TEXT.replace('max: "0.1"', 'max: "0.10"'), "job.yaml")[0]
    with pytest.raises(FindingsError) as caught:
        import_optimization_job(document)
    assert [(d.line, d.column, d.rule_id) for d in caught.value.diagnostics] == [(15, 16, "import-unsupported")]


# ------------------------------------------------------------------ results


def _with_status(job: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(job)
    out["status"] = {
        "conditions": [
            {
                "type": "Complete",
                "status": "True",
                "reason": "MaxTrialsReached",
                "message": "",
                "lastTransitionTime": "2026-08-21T10:00:00Z",
            }
        ],
        "result": {
            "trainJobName": f"{job['metadata']['name']}-trial-ab12c",
            "parameters": [{"name": "lr", "value": "0.0021"}, {"name": "batch_size", "value": "32"}],
        },
    }
    return out


def test_results_reads_the_best_trainjob_and_its_parameters(tmp_path: Path) -> None:
    specs, jobs = _rendered(tmp_path, train_job_spec())
    listed = tmp_path / "jobs.yaml"
    listed.write_text(dump({"apiVersion": "v1", "kind": "List", "items": [_with_status(j) for j in jobs]}))
    result = CliRunner().invoke(main, ["results", str(listed), "--specs", str(specs), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["experiments"]
    assert len(rows) == 4
    first = rows[0]
    assert (first["target"], first["owner"]) == ("tune/team-a/cpu", "current")
    assert (first["state"], first["reason"]) == ("Complete", "MaxTrialsReached")
    assert first["bestTrial"]["name"].endswith("-trial-ab12c")
    assert first["bestTrial"]["parameterAssignments"] == [
        {"name": "lr", "value": "0.0021"},
        {"name": "batch_size", "value": "32"},
    ]
    assert first["bestTrial"]["metrics"] == []  # status.result holds no metric values
    assert first["objective"] == {"metric": "accuracy", "type": "maximize", "goal": None, "value": ""}
    assert first["trials"]["max"] == 12


def test_results_text_names_the_best_trial(tmp_path: Path) -> None:
    specs, jobs = _rendered(tmp_path, train_job_spec())
    one = tmp_path / "job.yaml"
    one.write_text(dump(_with_status(jobs[1])))
    result = CliRunner().invoke(main, ["results", str(one), "--specs", str(specs)])
    assert result.exit_code == 0, result.output
    assert "Complete (MaxTrialsReached)" in result.output
    assert "parameters: lr=0.0021 batch_size=32" in result.output


def test_a_job_without_status_is_pending(tmp_path: Path) -> None:
    specs, jobs = _rendered(tmp_path, train_job_spec())
    one = tmp_path / "job.yaml"
    one.write_text(dump(jobs[0]))
    result = CliRunner().invoke(main, ["results", str(one), "--specs", str(specs)])
    assert result.exit_code == 0, result.output
    assert "Pending" in result.output
