"""The Istio opt-out as the label Katib v0.19 reads, and the annotation too for an older Katib (issue 11, item 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.importer.pods import strip_istio_opt_out
from katib_gitops.commands.importer.trial_forms import raw_trial
from katib_gitops.core.kinds import ISTIO_OFF, istio_off_metadata, lookup, pod_templates
from katib_gitops.expand.experiment import build_experiment
from katib_gitops.spec.model import load_spec_set
from tests.helpers import spec, write_specs

RAW = {
    "trialSpec": {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {
                    "replicas": 1,
                    "template": {
                        "metadata": {"labels": {"sidecar.istio.io/inject": "true"}},
                        "spec": {"containers": [{"name": "pytorch", "image": "example.com/t:1", "args": ["--lr"]}]},
                    },
                },
                "Worker": {
                    "replicas": 1,
                    "template": {"spec": {"containers": [{"name": "pytorch", "image": "example.com/t:1"}]}},
                },
            }
        },
    },
}


def _pods(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    trial_spec = experiment["spec"]["trialTemplate"]["trialSpec"]
    return [pod for _, _, pod in pod_templates(trial_spec, lookup(trial_spec["kind"], trial_spec["apiVersion"]))]


def test_katib_0_19_and_later_get_the_label_only() -> None:
    assert istio_off_metadata((0, 19)) == {"labels": ISTIO_OFF}
    assert istio_off_metadata((1, 0)) == {"labels": ISTIO_OFF}
    assert istio_off_metadata((0, 18)) == {"labels": ISTIO_OFF, "annotations": ISTIO_OFF}


@pytest.mark.parametrize(("version", "annotated"), [((0, 19), False), ((0, 17), True)])
def test_every_short_form_pod_template_opts_out(tmp_path: Path, version: tuple[int, int], annotated: bool) -> None:
    spec_set = load_spec_set(write_specs(tmp_path))
    pods = _pods(build_experiment(spec_set.specs[0], katib_version=version))
    assert len(pods) == 2
    for pod in pods:
        assert pod["metadata"] == (
            {"labels": ISTIO_OFF, "annotations": ISTIO_OFF} if annotated else {"labels": ISTIO_OFF}
        )


def test_a_raw_trial_spec_keeps_its_own_value_and_gets_the_rest(tmp_path: Path) -> None:
    spec_set = load_spec_set(write_specs(tmp_path, spec(trial=RAW)))
    master, worker = _pods(build_experiment(spec_set.specs[0], katib_version=(0, 18)))
    assert master["metadata"] == {"labels": {"sidecar.istio.io/inject": "true"}, "annotations": ISTIO_OFF}
    assert worker["metadata"] == {"labels": ISTIO_OFF, "annotations": ISTIO_OFF}


def _experiment(root: Path) -> dict[str, Any]:
    overlay = pyyaml.safe_load((root / "overlays/demo/_base/experiment.yaml").read_text())
    assert isinstance(overlay, dict)
    return overlay


def test_generate_katib_version_decides_and_a_repeat_run_notices_a_change(in_tmp: Path) -> None:
    write_specs(in_tmp)
    runner = CliRunner()
    assert runner.invoke(main, ["generate"]).exit_code == 0
    assert all(p["metadata"] == {"labels": ISTIO_OFF} for p in _pods(_experiment(in_tmp)))
    older = runner.invoke(main, ["generate", "--katib-version", "0.18"])
    assert older.exit_code == 0 and "nothing written" not in older.output, older.output
    assert all(p["metadata"] == {"labels": ISTIO_OFF, "annotations": ISTIO_OFF} for p in _pods(_experiment(in_tmp)))
    assert runner.invoke(main, ["generate", "--check", "--katib-version", "0.18"]).exit_code == 0
    assert runner.invoke(main, ["generate", "--check"]).exit_code == 1
    bad = runner.invoke(main, ["generate", "--katib-version", "latest"])
    assert bad.exit_code == 2 and "not a version like 0.19" in bad.output


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_the_importer_takes_out_the_opt_out_the_generator_adds_back(field: str) -> None:
    metadata: dict[str, Any] = {field: {**ISTIO_OFF, "team": "a"}}
    strip_istio_opt_out(metadata)
    assert metadata == {field: {"team": "a"}}
    only: dict[str, Any] = {"labels": dict(ISTIO_OFF), "annotations": dict(ISTIO_OFF)}
    strip_istio_opt_out(only)
    assert only == {}
    kept: dict[str, Any] = {field: {"sidecar.istio.io/inject": "true"}}
    strip_istio_opt_out(kept)
    assert kept == {field: {"sidecar.istio.io/inject": "true"}}


def test_a_raw_trial_spec_round_trips_through_the_importer(tmp_path: Path) -> None:
    spec_set = load_spec_set(write_specs(tmp_path, spec(trial=RAW)))
    built = build_experiment(spec_set.specs[0])["spec"]["trialTemplate"]["trialSpec"]
    imported = raw_trial(built, lookup("PyTorchJob", "kubeflow.org/v1"))
    master = imported["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    worker = imported["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]
    assert master["metadata"] == {"labels": {"sidecar.istio.io/inject": "true"}}  # the spec's own value
    assert "metadata" not in worker  # the label the generator adds is taken out


# ------------------------------------------------------------- TrainJob: through our runtime patch

TRAIN_JOB = {"kind": "TrainJob", "image": "example.com/t:1", "runtime": "torch-distributed"}


def _runtime_patches(experiment: dict[str, Any]) -> list[dict[str, Any]]:
    patches: list[dict[str, Any]] = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["runtimePatches"]
    return patches


def _ours(pod_template: dict[str, Any]) -> dict[str, Any]:
    node = {"name": "node", "template": {"spec": {"template": pod_template}}}
    return {
        "manager": "katib-gitops.dev/manager",
        "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [node]}}},
    }


@pytest.mark.parametrize(("version", "annotated"), [((0, 19), False), ((0, 18), True)])
def test_a_train_job_opts_its_trainer_pods_out_through_our_runtime_patch(
    tmp_path: Path, version: tuple[int, int], annotated: bool
) -> None:
    spec_set = load_spec_set(write_specs(tmp_path, spec(trial=TRAIN_JOB)))
    metadata = {"labels": ISTIO_OFF, "annotations": ISTIO_OFF} if annotated else {"labels": ISTIO_OFF}
    assert _runtime_patches(build_experiment(spec_set.specs[0], katib_version=version)) == [
        _ours({"metadata": metadata})
    ]


def test_a_raw_train_job_keeps_its_own_value_and_the_other_managers_patches(tmp_path: Path) -> None:
    kueue = {
        "manager": "kueue.x-k8s.io/manager",
        "trainingRuntimeSpec": {"template": {"metadata": {"labels": {"a": "b"}}}},
    }
    own = _ours({"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}})
    trial_spec = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {
            "runtimeRef": {"name": "torch-distributed"},
            "trainer": {"image": "example.com/t:1", "args": ["--lr", "${trialParameters.lr}"]},
            "runtimePatches": [kueue, own],
        },
    }
    spec_set = load_spec_set(write_specs(tmp_path, spec(trial={"trialSpec": trial_spec})))
    assert _runtime_patches(build_experiment(spec_set.specs[0], katib_version=(0, 18))) == [
        kueue,
        _ours({"metadata": {"labels": {"sidecar.istio.io/inject": "true"}, "annotations": ISTIO_OFF}}),
    ]
