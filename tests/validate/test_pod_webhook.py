"""TT-R4: Katib's pod webhook needs the primary container in the trial's pods (katib-rules.md 10.25, VER-05, UP-08).

Since v0.18, pkg/webhook/v1beta1/pod/inject_webhook.go:Mutate calls pod/utils.go:mutatePodEnv for every pod that
belongs to a Trial (before looking at primaryPodLabels): it adds KATIB_TRIAL_NAME to the container named
primaryContainerName and fails with "Unable to find primary container" when the pod has none; Handle answers
admission.Errored, so the pod is refused and the trial never runs. Before v0.18 only the primary pods were touched,
and only wrapWorkerContainer (StdOut, File, TensorFlowEvent collectors) needed the container.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from katib_gitops.cli.main import main
from tests.validate.helpers import experiment_head

HEADER = experiment_head("webhook")
TEMPLATE = """\
  trialTemplate:
    primaryContainerName: {container}
{extra}    trialParameters:
      - name: learningRate
        reference: lr
    trialSpec:
"""
PYTORCH = """\
      apiVersion: kubeflow.org/v1
      kind: PyTorchJob
      spec:
        pytorchReplicaSpecs:
          Master:
            replicas: 1
            template:
              spec:
                containers:
                  - name: pytorch
                    image: trainer
                    args: ["--lr=${{trialParameters.learningRate}}"]
          Worker:
            replicas: 2
            template:
              spec:
                containers:
                  - name: {worker}
                    image: trainer
"""
JOB = """\
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: training
                image: trainer
                args: ["--lr=${trialParameters.learningRate}"]
"""
ARGO_CONDITIONS = """\
    successCondition: status.[@this].#(phase=="Succeeded")#
    failureCondition: status.[@this].#(phase=="Failed")#
"""
ARGO = """\
      apiVersion: argoproj.io/v1alpha1
      kind: Workflow
      spec:
        entrypoint: hp
        templates:
          - name: hp
            steps:
              - - name: prepare
                  template: prepare
              - - name: train
                  template: train
          - name: prepare
            script:
              image: python:3.12
              source: print(60000)
          - name: train
            metadata:
              labels:
                katib.kubeflow.org/model-training: "true"
            container:
              name: model-training
              image: trainer
              args: ["--lr=${trialParameters.learningRate}"]
          - name: never-called
            container:
              image: busybox
"""
TEKTON_CONDITIONS = """\
    successCondition: status.conditions.#(type=="Succeeded")#|#(status=="True")#
    failureCondition: status.conditions.#(type=="Succeeded")#|#(status=="False")#
"""
TEKTON = """\
      apiVersion: tekton.dev/v1beta1
      kind: PipelineRun
      spec:
        pipelineSpec:
          tasks:
            - name: data-preprocessing
              taskSpec:
                steps:
                  - name: {first_step}
                    image: python:3.12
                    script: print(60000)
            - name: model-training
              taskSpec:
                steps:
                  - name: model-training
                    image: trainer
                    args: ["--lr=${{trialParameters.learningRate}}"]
            - name: elsewhere
              taskRef:
                name: shared-task
"""
WITH_WORKFLOWS = """\
apiVersion: config.kubeflow.org/v1beta1
kind: KatibConfig
init:
  controller:
    trialResources:
      - Job.v1.batch
      - PyTorchJob.v1.kubeflow.org
      - Workflow.v1alpha1.argoproj.io
      - PipelineRun.v1beta1.tekton.dev
runtime:
  metricsCollectors:
    - kind: StdOut
      image: ghcr.io/kubeflow/katib/file-metrics-collector:v0.19.0
    - kind: File
      image: ghcr.io/kubeflow/katib/file-metrics-collector:v0.19.0
  suggestions:
    - algorithmName: random
      image: ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0
"""


def tt_r4(tmp_path: Path, text: str, *options: str) -> list[tuple[str, int, int]]:
    """(severity, line, column) of every TT-R4 finding of `validate` on `text`, with the given options."""
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    config = tmp_path / "katib-config.yaml"
    config.write_text(WITH_WORKFLOWS)
    result = CliRunner().invoke(
        main, ["validate", "--format", "json", "--katib-config", str(config), *options, str(path)]
    )
    report: dict[str, Any] = json.loads(result.stdout)
    assert result.exit_code == (1 if report["summary"]["errors"] else 0), result.output
    return [(d["severity"], d["line"], d["column"]) for d in report["diagnostics"] if d["rule_id"] == "TT-R4"]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if line.strip() == needle]
    return lines[occurrence - 1]


def experiment(container: str, trial_spec: str, extra: str = "") -> str:
    return HEADER + TEMPLATE.format(container=container, extra=extra) + trial_spec


# ----------------------------------------------------------------- Kubeflow jobs and batch Jobs


def test_a_worker_without_the_primary_container_is_refused_since_0_18_by_mutate_pod_env(tmp_path: Path) -> None:
    # A PyTorchJob Worker without a container named `pytorch` is refused earlier, by the Training Operator's
    # webhook (to-container): the job is never created, so no pod reaches Katib's; TT-R4 leaves it to that
    # finding. With `--skip to-container` (a cluster without the operator's webhook), TT-R4 refuses the pods.
    text = experiment("pytorch", PYTORCH.format(worker="helper"))
    worker_containers = line_of(text, "containers:", 2)
    assert tt_r4(tmp_path, text) == []
    skip = ("--skip", "to-container")
    assert tt_r4(tmp_path, text, *skip) == [("error", worker_containers, 17)]
    assert tt_r4(tmp_path, text, "--katib-version", "0.18", *skip) == [("error", worker_containers, 17)]
    assert tt_r4(tmp_path, experiment("pytorch", PYTORCH.format(worker="pytorch"))) == []


def test_before_0_18_the_webhook_left_pods_other_than_the_primary_ones_alone(tmp_path: Path) -> None:
    """v0.17 Mutate returned early for a pod not matching primaryPodLabels, and had no mutatePodEnv (VER-05)."""
    text = experiment("pytorch", PYTORCH.format(worker="helper"))
    assert tt_r4(tmp_path, text, "--katib-version", "0.17") == []


def test_before_0_18_a_primary_pod_without_it_is_refused_by_wrap_worker_container(tmp_path: Path) -> None:
    """StdOut (the default) wraps the primary container's command: pod/utils.go:wrapWorkerContainer fails."""
    text = experiment("trainer", JOB)
    containers = line_of(text, "containers:")
    assert tt_r4(tmp_path, text, "--katib-version", "0.17") == [("error", containers, 13)]
    assert tt_r4(tmp_path, text) == [("error", containers, 13)]


def test_before_0_18_a_collector_that_wraps_nothing_did_not_need_it(tmp_path: Path) -> None:
    """A Custom collector is not in NeedWrapWorkerMetricsCollectorList (pod/const.go): v0.17 admitted the pod."""
    custom = HEADER.replace(
        "  parameters:",
        "  metricsCollectorSpec:\n    collector:\n      kind: Custom\n      customCollector:\n"
        "        name: collector\n        image: collector\n  parameters:",
    )
    text = custom + TEMPLATE.format(container="trainer", extra="") + JOB
    assert tt_r4(tmp_path, text, "--katib-version", "0.17") == []
    assert [s for s, _, _ in tt_r4(tmp_path, text)] == ["error"]


# ----------------------------------------------------------------- Argo Workflows


def test_argo_runs_every_template_in_a_container_named_main(tmp_path: Path) -> None:
    """workflowpod.go:createWorkflowPod renames a container/script template's container `main`; Katib's
    examples/v1beta1/argo/argo-workflow.yaml sets primaryContainerName: main."""
    assert tt_r4(tmp_path, experiment("main", ARGO, ARGO_CONDITIONS)) == []


def test_argo_pods_lack_a_container_named_as_the_template_writes_it(tmp_path: Path) -> None:
    text = experiment("model-training", ARGO, ARGO_CONDITIONS)
    called = [("error", line_of(text, "script:"), 13), ("error", line_of(text, "container:"), 13)]
    assert tt_r4(tmp_path, text) == called  # the template no step calls runs no pod


def test_argo_before_0_18_only_the_primary_template_mattered(tmp_path: Path) -> None:
    labels = '    primaryPodLabels:\n      katib.kubeflow.org/model-training: "true"\n' + ARGO_CONDITIONS
    text = experiment("model-training", ARGO, labels)
    assert tt_r4(tmp_path, text, "--katib-version", "0.17") == [("error", line_of(text, "container:"), 13)]


def test_an_argo_container_set_keeps_its_containers_names(tmp_path: Path) -> None:
    container_set = ARGO.replace(
        "            container:\n              name: model-training\n",
        "            containerSet:\n              containers:\n                - name: model-training\n",
    ).replace(
        '              image: trainer\n              args: ["--lr=',
        '                  image: trainer\n                  args: ["--lr=',
    )
    text = experiment("model-training", container_set, ARGO_CONDITIONS)
    assert tt_r4(tmp_path, text) == [("error", line_of(text, "script:"), 13)]


# ----------------------------------------------------------------- Tekton


def test_tekton_names_a_steps_container_step_name_and_every_task_pod_needs_it(tmp_path: Path) -> None:
    """pkg/pod StepName: step-<name>; examples/v1beta1/tekton/pipeline-run.yaml's data-preprocessing task has no
    step-model-training, so since v0.18 its pod is refused (the task from taskRef is not known here)."""
    text = experiment("step-model-training", TEKTON.format(first_step="prepare"), TEKTON_CONDITIONS)
    assert tt_r4(tmp_path, text) == [("error", line_of(text, "steps:"), 17)]
    fixed = experiment("step-model-training", TEKTON.format(first_step="model-training"), TEKTON_CONDITIONS)
    assert tt_r4(tmp_path, fixed) == []


def test_tekton_before_0_18_only_the_task_matching_primary_pod_labels_mattered(tmp_path: Path) -> None:
    """Tekton labels a task's pod tekton.dev/pipelineTask: <task>; v0.17's webhook mutated only matching pods."""
    labels = "    primaryPodLabels:\n      tekton.dev/pipelineTask: model-training\n" + TEKTON_CONDITIONS
    text = experiment("step-model-training", TEKTON.format(first_step="prepare"), labels)
    assert tt_r4(tmp_path, text, "--katib-version", "0.17") == []
    wrong = experiment("model-training", TEKTON.format(first_step="prepare"), labels)
    assert tt_r4(tmp_path, wrong, "--katib-version", "0.17") == [("error", line_of(wrong, "steps:", 2), 17)]
