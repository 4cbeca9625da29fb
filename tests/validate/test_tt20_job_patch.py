"""TT-20: a batch/v1 Job trialSpec must survive Katib's round trip through Go's batch/v1 Job (katib-rules.md 10.20).

pkg/webhook/v1beta1/experiment/validator/validator.go:validateTrialJob converts the template into a Go Job;
validatePatchJob then calls github.com/mattbaird/jsonpatch CreatePatch(converted, original), whose diff makes an
`add` operation for every key the original has and the converted Job lacks, and refuses any operation but
`remove` outside /resources/limits/ and /resources/requests/. Go's encoding/json drops empty slices and maps
tagged omitempty (nearly every list and map of core/v1 and batch/v1), so `args: []` comes back missing: refused.
Empty structs (`resources: {}`, `emptyDir: {}`) are written back as `{}`, and the few slices tagged without
omitempty (PodSpec.containers, ...) as `[]`: admitted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from tests.validate.helpers import experiment_head

EXPERIMENT = (
    experiment_head("job-patch").replace("{", "{{").replace("}", "}}")
    + """\
  trialTemplate:
    primaryContainerName: training
    trialParameters:
      - name: learningRate
        reference: lr
    trialSpec:
      apiVersion: {api_version}
      kind: Job
      spec:
        template:
          metadata:
            labels: {labels}
          spec:
            restartPolicy: Never
            volumes:
              - name: scratch
                emptyDir: {{}}
            containers:
              - name: training
                image: trainer
                command: ["python3", "train.py", "--lr=${{trialParameters.learningRate}}"]
                {field}
                resources: {resources}
                volumeMounts:
                  - name: scratch
                    mountPath: /scratch
"""
)
TEST_KIND = """\
apiVersion: config.kubeflow.org/v1beta1
kind: KatibConfig
init:
  controller:
    trialResources: [Job.v1.batch, Job.v1.test.example.com]
runtime:
  metricsCollectors:
    - kind: StdOut
      image: ghcr.io/kubeflow/katib/file-metrics-collector:v0.19.0
  suggestions:
    - algorithmName: random
      image: ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0
"""


def tt20(
    tmp_path: Path,
    field: str = "args: [--epochs=1]",
    labels: str = "{app: train}",
    resources: str = "{}",
    api_version: str = "batch/v1",
) -> tuple[list[tuple[int, int, str]], str]:
    """(line, column, message) of every TT-20 finding of `validate`, and the Experiment's text."""
    text = EXPERIMENT.format(field=field, labels=labels, resources=resources, api_version=api_version)
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    config = tmp_path / "katib-config.yaml"
    config.write_text(TEST_KIND)
    result = CliRunner().invoke(main, ["validate", "--format", "json", "--katib-config", str(config), str(path)])
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (1 if report["summary"]["errors"] else 0), result.output
    found = [(d["line"], d["column"], d["message"]) for d in report["diagnostics"] if d["rule_id"] == "TT-20"]
    return found, text


def line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith(start))


def test_a_job_with_empty_structs_converts_back_unchanged(tmp_path: Path) -> None:
    """`resources: {}` (ResourceRequirements) and `emptyDir: {}` (a pointer to a struct) are written back as {}."""
    assert tt20(tmp_path)[0] == []


@pytest.mark.parametrize("field", ["args: []", "env: []", "ports: []", "envFrom: []"])
def test_an_empty_list_is_dropped_by_omitempty_so_the_patch_adds_it_and_validate_patch_job_refuses(
    tmp_path: Path, field: str
) -> None:
    """The issue's example, `args: []`: json.Marshal of the Go Job omits it, CreatePatch makes an `add`."""
    (found, text) = tt20(tmp_path, field=field)
    ((line, column, message),) = found
    assert (line, column) == (line_of(text, field), 17)  # a list is reported at its key
    assert f"'{field.split(':')[0]}' is empty" in message and "validatePatchJob" in message


def test_an_empty_label_map_is_dropped_too(tmp_path: Path) -> None:
    """ObjectMeta.Labels is a map tagged omitempty: `labels: {}` comes back missing."""
    ((line, column, message),), text = tt20(tmp_path, labels="{}")
    assert (line, column) == (line_of(text, "labels:"), 13)
    assert "'labels' is empty" in message


def test_empty_limits_are_refused_though_quantities_under_them_are_not(tmp_path: Path) -> None:
    """The `add` for `limits: {}` has the path .../resources/limits, without the slash validatePatchJob exempts;
    a quantity that re-serialises differently (`cpu: 1` -> "1") is a `replace` under /resources/limits/: allowed."""
    ((_, _, message),) = tt20(tmp_path, resources="{limits: {}}")[0]
    assert "'limits' is empty" in message
    assert tt20(tmp_path, resources="{limits: {cpu: 1}}")[0] == []


def test_only_batch_v1_jobs_are_converted(tmp_path: Path) -> None:
    """validateTrialJob returns early unless the group/version is batch/v1 and the kind Job."""
    assert tt20(tmp_path, field="args: []", api_version="test.example.com/v1")[0] == []
