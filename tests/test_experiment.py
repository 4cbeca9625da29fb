"""Building Experiments: canonical (Katib defaulting is a no-op), named by what is immutable."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.expand import overlays
from katib_gitops.expand.experiment import MAX_NAME, build_experiment
from katib_gitops.spec.model import parse_spec
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.writer import dump
from tests.helpers import SPEC, spec, write_specs


def _experiments(specs_dir: Path) -> list[dict]:
    spec_set = planning.load(specs_dir)
    out = []
    for expansion in overlays.expand(spec_set):
        out.append(expansion.base)
        out.extend(o.experiment for o in expansion.overlays)
    return out


def _spec(data: dict):
    return parse_spec(load_documents(dump(data), "spec.yaml")[0])


def test_katib_defaulting_changes_nothing_in_the_bundled_specs(repo_specs: Path) -> None:
    experiments = _experiments(repo_specs)
    assert len(experiments) == 3 * (1 + 2 * 2)  # 3 specs: the base and 2 namespaces x 2 profiles each
    for experiment in experiments:
        assert apply_katib_defaults(experiment) == experiment


@pytest.mark.parametrize(
    "collector",
    [
        {"kind": "StdOut"},
        {"kind": "File"},
        {"kind": "File", "path": "/out/m.json", "format": "JSON"},
        {"kind": "TensorFlowEvent"},
        {"kind": "Push"},
        {"kind": "Custom", "container": {"name": "c", "image": "x"}},
    ],
)
def test_katib_defaulting_changes_nothing_for_every_collector(tmp_path: Path, collector: dict) -> None:
    data = spec(
        trial={**SPEC["spec"]["trial"], "metricsCollector": collector},
        objective={
            "type": "minimize",
            "metric": "loss",
            "additionalMetrics": ["accuracy"],
            "strategies": {"accuracy": "latest"},
        },
    )
    for experiment in _experiments(write_specs(tmp_path, data)):
        assert apply_katib_defaults(experiment) == experiment


def test_defaulting_fills_what_a_hand_written_experiment_leaves_out() -> None:
    bare = {
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss", "additionalMetricNames": ["acc"]},
            "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}],
            "trialTemplate": {"retain": False, "trialSpec": {"kind": "TFJob"}},
        }
    }
    spec_ = apply_katib_defaults(bare)["spec"]
    assert spec_["parallelTrialCount"] == 3 and spec_["resumePolicy"] == "Never"
    assert spec_["objective"]["metricStrategies"] == [{"name": "loss", "value": "min"}, {"name": "acc", "value": "min"}]
    assert spec_["parameters"][0]["feasibleSpace"]["distribution"] == "uniform"
    assert spec_["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert "retain" not in spec_["trialTemplate"]
    assert spec_["trialTemplate"]["primaryPodLabels"] == {"training.kubeflow.org/job-role": "master"}


def test_the_tutorial_pytorch_experiment_keeps_its_search(repo_specs: Path) -> None:
    spec_set = planning.load(repo_specs)
    (pytorch,) = [s for s in spec_set.specs if s.name == "mnist-pytorchjob"]
    body = build_experiment(pytorch)["spec"]
    assert (body["maxTrialCount"], body["parallelTrialCount"], body["maxFailedTrialCount"]) == (12, 3, 3)
    assert body["objective"]["objectiveMetricName"] == "accuracy" and body["objective"]["goal"] == 0.99
    assert body["algorithm"] == {"algorithmName": "random"}
    assert body["parameters"] == [
        {
            "name": "--lr",
            "parameterType": "double",
            "feasibleSpace": {"min": "0.1", "max": "0.7", "distribution": "uniform"},
        }
    ]
    template = body["trialTemplate"]
    assert template["trialParameters"] == [
        {"name": "lr", "description": "value of parameter --lr", "reference": "--lr"}
    ]
    replicas = template["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    assert {role: r["replicas"] for role, r in replicas.items()} == {"Master": 1, "Worker": 2}
    for replica in replicas.values():
        (container,) = replica["template"]["spec"]["containers"]
        assert container["args"] == ["--lr", "${trialParameters.lr}"]
        assert replica["template"]["metadata"] == {"labels": {"sidecar.istio.io/inject": "false"}}
    assert "metadata" not in template["trialSpec"]


def test_parameters_reach_the_trial_as_flags_env_or_placeholders(tmp_path: Path) -> None:
    params = [
        {"name": "--lr", "type": "double", "min": 0.01, "max": 0.1},
        {"name": "batch_size", "type": "discrete", "values": [16, 32], "pass": {"flag": "--batch", "style": "equals"}},
        {"name": "optimizer", "type": "categorical", "values": ["sgd", "adam"], "pass": {"env": "OPTIMIZER"}},
        {"name": "layers", "type": "int", "min": 1, "max": 4, "pass": "placeholder"},
    ]
    trial = {**SPEC["spec"]["trial"], "args": ["--layers=${trialParameters.layers}"]}
    (built,) = list(_experiments(write_specs(tmp_path, spec(parameters=params, trial=trial))))[:1]
    container = built["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Master"]["template"][
        "spec"
    ]["containers"][0]
    assert container["args"] == [
        "--layers=${trialParameters.layers}",
        "--lr",
        "${trialParameters.lr}",
        "--batch=${trialParameters.batchSize}",
    ]
    assert container["env"] == [{"name": "OPTIMIZER", "value": "${trialParameters.optimizer}"}]
    assert [p["feasibleSpace"] for p in built["spec"]["parameters"]][1:] == [
        {"list": ["16", "32"], "distribution": "uniform"},
        {"list": ["sgd", "adam"], "distribution": "uniform"},
        {"min": "1", "max": "4", "distribution": "uniform"},
    ]


def test_numbers_given_as_strings_reach_katib_exactly_as_written(tmp_path: Path) -> None:
    params = [
        {"name": "lr", "type": "double", "min": "0.00", "max": "1.50", "step": "0.05"},
        {"name": "n", "type": "discrete", "values": ["1.0", 2]},
    ]
    trial = {**SPEC["spec"]["trial"], "metricsCollector": {"kind": "StdOut", "filter": ["([\\w ]+)=([0-9.]+)"]}}
    data = spec(parameters=params, trial=trial, objective={"type": "maximize", "metric": "valid_1 auc"})
    built = _experiments(write_specs(tmp_path, data))[0]["spec"]
    assert [p["feasibleSpace"] for p in built["parameters"]] == [
        {"min": "0.00", "max": "1.50", "step": "0.05", "distribution": "uniform"},
        {"list": ["1.0", "2"], "distribution": "uniform"},
    ]
    assert built["objective"]["objectiveMetricName"] == "valid_1 auc"


def test_changing_a_count_keeps_the_name() -> None:
    before = build_experiment(_spec(SPEC))
    for field, value in (("maxTrials", 40), ("parallelTrials", 1), ("maxFailedTrials", 0)):
        changed = spec(budget={**SPEC["spec"]["budget"], field: value})
        after = build_experiment(_spec(changed))
        assert after["metadata"]["name"] == before["metadata"]["name"], field
        assert after["spec"] != before["spec"]


@pytest.mark.parametrize(
    "change",
    [
        {"objective": {"type": "minimize", "metric": "loss"}},
        {"algorithm": {"name": "tpe"}},
        {"algorithm": {"name": "random", "settings": {"random_state": 7}}},
        {"parameters": [{"name": "--lr", "type": "double", "min": 0.01, "max": 0.2}]},
        {"budget": {"maxTrials": 12, "resumePolicy": "LongRunning"}},
        {"trial": {**SPEC["spec"]["trial"], "image": "example.com/train:1.1"}},
        {"trial": {**SPEC["spec"]["trial"], "metricsCollector": {"kind": "File"}}},
        {"earlyStopping": {"name": "medianstop"}},
    ],
)
def test_changing_anything_else_changes_the_name(change: dict) -> None:
    before = build_experiment(_spec(SPEC))["metadata"]["name"]
    after = build_experiment(_spec(spec(**copy.deepcopy(change))))["metadata"]["name"]
    assert after != before
    assert len(after) <= MAX_NAME and after.startswith("demo-")


def test_profiles_that_change_the_trial_get_their_own_name(tmp_path: Path) -> None:
    spec_set = planning.load(write_specs(tmp_path))
    (expansion,) = overlays.expand(spec_set)
    names = {(o.namespace, o.profile): o.experiment["metadata"]["name"] for o in expansion.overlays}
    assert names[("team-a", "gpu")] == names[("team-b", "gpu")]
    assert names[("team-a", "gpu")] != names[("team-a", "cpu")] != expansion.base["metadata"]["name"]


def test_experiments_carry_the_annotations_that_keep_results_safe(repo_specs: Path) -> None:
    for experiment in _experiments(repo_specs):
        annotations = experiment["metadata"]["annotations"]
        assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
        assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
        assert annotations["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"
