"""Parity with Katib on its own examples, and the generator's output, through the whole validator."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from katib_gitops.rules import validator
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from tests.conftest import ROOT

# Trial kinds of the Argo and Tekton examples, as a cluster running them would list them.
WITH_WORKFLOWS = KatibConfig(
    STANDALONE.suggestions,
    STANDALONE.early_stoppings,
    STANDALONE.collectors,
    STANDALONE.trial_resources + ("Workflow.v1alpha1.argoproj.io", "PipelineRun.v1beta1.tekton.dev"),
    "test katib-config",
)
# katib-rules.md section 17, plus one found while building the validator.
BROKEN = {
    "hp-tuning/simple-pbt.yaml": {"COUNT-04"},  # UP-09
    # UP-01; and since v0.18 pod/utils.go:mutatePodEnv refuses the data-preprocessing task's pod, which has no
    # container step-model-training (TT-R4)
    "tekton/pipeline-run.yaml": {"TT-15", "TT-R4"},
    # UP-08: the workers have no container mpi-launcher, so mutatePodEnv refuses their pods since v0.18 (TT-R4)
    "kubeflow-training-operator/mpijob-horovod.yaml": {"TT-R4"},
    "nas/darts-gpu.yaml": {"NASOP-02", "DARTS-01"},  # skip_connection has no parameters: the darts service refuses it
    "trial-template/trial-configmap-source.yaml": {
        "TT-15",
        "TT-16",
    },  # UP-02, with Katib's own trial-templates ConfigMap
}


def errors(*paths: str, config: KatibConfig = STANDALONE, trial_templates: tuple[str, ...] = ()) -> dict[str, set[str]]:
    outcome = validator.validate(
        validator.Options(tuple(paths), katib_config=config, trial_templates=trial_templates), io.StringIO()
    )
    found: dict[str, set[str]] = {}
    for d in outcome.diagnostics:
        if d.severity.value == "error":
            found.setdefault(d.file, set()).add(d.rule_id)
    return found


def test_every_upstream_example_passes_except_the_broken_ones(shared: Path) -> None:
    examples = shared / "upstream" / "katib" / "examples"
    found = errors(str(examples), config=WITH_WORKFLOWS, trial_templates=(str(shared / TRIAL_TEMPLATES),))
    relative = {Path(f).relative_to(examples).as_posix(): ids for f, ids in found.items()}
    assert relative == BROKEN


TRIAL_TEMPLATES = "upstream/katib/config/trial-templates.yaml"


def test_a_configmap_template_is_checked_only_when_its_configmap_is_given(shared: Path, tmp_path: Path) -> None:
    example = str(shared / "upstream" / "katib" / "examples" / "trial-template" / "trial-configmap-source.yaml")
    assert errors(example) == {}  # unknowable without the cluster's ConfigMap (TT-08)
    fixed = tmp_path / "templates.yaml"
    fixed.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: trial-templates}\ndata:\n  defaultTrialTemplate.yaml: |\n"
        "    args: ['${trialParameters.learningRate}', '${trialParameters.numberLayers}', "
        "'${trialParameters.optimizer}']\n"
    )
    assert errors(example, trial_templates=(str(fixed),)) == {}  # a ConfigMap without a namespace stands for any
    other = tmp_path / "other.yaml"
    other.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: trial-templates, namespace: kubeflow}\n"
        "data: {anotherTemplate.yaml: x}\n"
    )
    assert errors(example, trial_templates=(str(other),)) == {example: {"TT-08"}}


def test_without_their_trial_kinds_in_the_katib_config_workflow_trials_would_hang(shared: Path) -> None:
    examples = shared / "upstream" / "katib" / "examples"
    found = errors(str(examples / "argo"), str(examples / "tekton"))
    assert all("TT-R5" in ids for ids in found.values()) and len(found) == 2


def test_the_upstream_kubeflow_job_examples_pass(shared: Path) -> None:
    examples = shared / "upstream" / "training-operator" / "examples"
    assert errors(str(examples)) == {}


@pytest.mark.parametrize("folder", ["specs", "overlays"])
def test_the_repository_specs_and_their_generated_output_are_clean(folder: str) -> None:
    outcome = validator.validate(validator.Options((str(ROOT / folder),)), io.StringIO())
    assert outcome.diagnostics == ()
    assert outcome.documents >= (3 if folder == "specs" else 10)
