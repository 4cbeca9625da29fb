"""`katib-gitops import`: Experiments become TuningSpecs that generate them back.

The round trip is checked here independently of the importer's own proof:
each imported spec is read back from the text the CLI writes, built with its
profile, defaulted, and compared with the defaulted source apart from the
documented differences (docs/migration.md).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.importer.experiment import (
    ImportResult,
    import_document,
    import_experiment,
    migrated_document,
)
from katib_gitops.commands.importer.plan import spec_text
from katib_gitops.commands.importer.profiles import profile_name
from katib_gitops.commands.importer.reverse import number, spec_name, typed_setting
from katib_gitops.commands.importer.targets import merge_imports
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.core.kinds import ISTIO_OFF, lookup, pod_templates
from katib_gitops.core.quantity import is_extended
from katib_gitops.expand.experiment import build_experiment
from katib_gitops.kustomize import render
from katib_gitops.spec.model import Profile, camel_case, load_spec_set, parse_spec
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import LIMITS, read_text
from katib_gitops.yamlio.writer import dump
from tests.conftest import ROOT
from tests.reliability.helpers import assert_clean_exit, process

EXAMPLES = "upstream/katib/examples"

# Upstream examples that cannot be imported, with the rule that refuses them.
REFUSED = {
    # katib-rules.md section 17: broken upstream, refused with the validator's error.
    "hp-tuning/simple-pbt.yaml": "COUNT-04",  # UP-09: maxFailedTrialCount 3 > maxTrialCount 2
    # UP-01: $(trialParameters.lr) instead of ${trialParameters.learningRate}; and since v0.18 Katib's pod webhook
    # (pod/utils.go:mutatePodEnv) refuses the data-preprocessing task's pod, which has no step-model-training
    "tekton/pipeline-run.yaml": {"TT-15", "TT-R4"},
    # UP-08: the workers have no container mpi-launcher, so mutatePodEnv refuses their pods since v0.18
    "kubeflow-training-operator/mpijob-horovod.yaml": "TT-R4",
    "trial-template/trial-configmap-source.yaml": {
        "TT-15",
        "TT-16",
    },  # UP-02: checked against Katib's trial-templates ConfigMap
    # Found broken by the validator too (tests/validate/test_upstream_examples.py).
    "nas/darts-gpu.yaml": {"NASOP-02", "DARTS-01"},  # skip_connection has no parameters: the darts service refuses it
}
SHORT_FORM = (
    "kubeflow-training-operator/pytorchjob-mnist.yaml",
    "kubeflow-training-operator/tfjob-mnist-with-summaries.yaml",
    "kubeflow-trainer/trainjob-pytorch.yaml",
    "hp-tuning/random.yaml",
)
GENERATOR_LABELS = {"app.kubernetes.io/managed-by", "katib-gitops.dev/spec"}
GENERATOR_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    "katib-gitops.dev/spec",
    "katib-gitops.dev/profile",
    "argocd.argoproj.io/sync-options",
    "argocd.argoproj.io/compare-options",
    "kustomize.toolkit.fluxcd.io/prune",
    "kustomize.toolkit.fluxcd.io/substitute",
}


def documents_in(path: Path) -> list[Document]:
    return load_documents(read_text(path, str(path)), str(path))


def upstream(shared: Path) -> dict[str, Document]:
    root = shared / EXAMPLES
    found = {}
    for path in sorted(root.rglob("*.yaml")):
        for document in documents_in(path):
            if isinstance(document.data, dict) and document.data.get("kind") == "Experiment":
                found[path.relative_to(root).as_posix()] = document
    return found


def documented(experiment: dict[str, Any]) -> dict[str, Any]:
    """The Experiment minus the differences docs/migration.md lists, stated here on its own."""
    out = copy.deepcopy(apply_katib_defaults(experiment))
    out.pop("status", None)
    meta = out.pop("metadata", {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in GENERATOR_LABELS}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in GENERATOR_ANNOTATIONS}
    out["metadata"] = {"labels": labels, "annotations": annotations}
    spec = out["spec"]
    spec["objective"]["metricStrategies"] = sorted(spec["objective"]["metricStrategies"], key=lambda s: s["name"])
    template = spec["trialTemplate"]
    for entry in template["trialParameters"]:  # descriptions the generator writes (docs/migration.md)
        reference = entry["reference"]
        if reference.startswith("${trialSpec."):
            entry.setdefault("description", f"the trial's {reference[len('${trialSpec.') : -1]}")
        else:
            entry.setdefault(
                "description",
                f"the {reference} the algorithm assigns" if "nasConfig" in spec else f"value of parameter {reference}",
            )
    trial_spec = template["trialSpec"]
    pods = [node for _, _, node in pod_templates(trial_spec, lookup(trial_spec["kind"], trial_spec["apiVersion"]))]
    if trial_spec["kind"] == "TrainJob":  # the trainer node's pods, through our runtime patch
        pods.append(train_job_pod_patch(trial_spec))
    for node in pods:
        assert isinstance(node, dict)
        metadata = node.setdefault("metadata", {})  # the Istio opt-out, label or annotation: the label
        for field in ("annotations", "labels"):
            values = metadata.get(field)
            if isinstance(values, dict):
                for key, value in ISTIO_OFF.items():
                    if values.get(key) == value:
                        del values[key]
                if not values:
                    del metadata[field]
        metadata.setdefault("labels", {}).update(ISTIO_OFF)
    return out


def train_job_pod_patch(trial_spec: dict[str, Any]) -> dict[str, Any]:
    """The trainer node's pod template in the runtime patch of katib-gitops' manager, made where missing."""
    patches = trial_spec["spec"].setdefault("runtimePatches", [])
    ours = next((p for p in patches if p["manager"] == "katib-gitops.dev/manager"), None)
    if ours is None:
        ours = {"manager": "katib-gitops.dev/manager"}
        patches.append(ours)
    jobs = ours.setdefault("trainingRuntimeSpec", {}).setdefault("template", {}).setdefault("spec", {})
    node = next((j for j in jobs.setdefault("replicatedJobs", []) if j["name"] == "node"), None)
    if node is None:
        node = {"name": "node"}
        jobs["replicatedJobs"].append(node)
    pod: dict[str, Any] = node.setdefault("template", {}).setdefault("spec", {}).setdefault("template", {})
    return pod


def regenerate(result: ImportResult) -> dict[str, Any]:
    """The Experiment the imported spec generates, read back from the text the CLI writes."""
    document = load_documents(spec_text(result), "spec.yaml")[0]
    return build_experiment(parse_spec(document), Profile(result.profile, result.profile_body))


def assert_round_trip(source: Document, result: ImportResult) -> None:
    assert documented(regenerate(result)) == documented(source.data)


# ------------------------------------------------------------------ upstream examples


def test_every_upstream_example_round_trips_or_is_refused_for_its_reason(shared: Path) -> None:
    from katib_gitops.rules.validator import load_trial_templates

    examples = upstream(shared)
    assert set(REFUSED) <= set(examples) and len(examples) >= 30
    templates = load_trial_templates(
        [str(shared / "upstream" / "katib" / "config" / "trial-templates.yaml")]
    )  # as Katib installs them
    refused, imported = {}, []
    for name, document in examples.items():
        try:
            result = import_experiment(document, templates)
        except FindingsError as exc:
            refused[name] = {d.rule_id for d in exc.diagnostics}
            continue
        assert_round_trip(document, result)
        imported.append(name)
    assert refused == {name: rule if isinstance(rule, set) else {rule} for name, rule in REFUSED.items()}
    assert len(imported) == len(examples) - len(REFUSED)


@pytest.mark.parametrize("name", SHORT_FORM)
def test_training_operator_examples_use_the_short_form(shared: Path, name: str) -> None:
    result = import_experiment(upstream(shared)[name])
    assert result.form == "short"
    assert "trialSpec" not in result.spec["spec"]["trial"]


def test_refusals_point_at_the_source(shared: Path) -> None:
    examples = upstream(shared)
    fpga = import_experiment(examples["fpga/xgboost-example.yaml"])
    assert fpga.spec["spec"]["parameters"][0]["min"] == "0.00"  # kept as written
    with pytest.raises(FindingsError) as caught:
        import_experiment(examples["trial-template/trial-configmap-source.yaml"])
    assert [(d.rule_id, d.path, d.line) for d in caught.value.diagnostics] == [
        ("import-unsupported", "spec.trialTemplate.configMap", 51)
    ]


def test_pytorch_example_spec(shared: Path) -> None:
    result = import_experiment(upstream(shared)["kubeflow-training-operator/pytorchjob-mnist.yaml"])
    spec = result.spec["spec"]
    assert result.namespace == "kubeflow" and result.profile == "imported-cpu"
    assert spec["targets"] == {"namespaces": ["kubeflow"], "profiles": ["imported-cpu"]}
    assert spec["parameters"][0] == {
        "name": "lr",
        "type": "double",
        "min": 0.01,
        "max": 0.05,
        "trialParameter": "learningRate",
        "description": "Learning rate for the training model",
        "pass": "placeholder",
    }
    assert spec["trial"]["replicas"] == {"Master": 1, "Worker": 1}
    assert spec["budget"] == {"maxTrials": 12, "parallelTrials": 3, "maxFailedTrials": 3}


def test_long_names_are_shortened_with_a_note(shared: Path) -> None:
    result = import_experiment(upstream(shared)["metrics-collector/file-metrics-collector-with-json-format.yaml"])
    assert result.name == "file-metrics-collector-with"
    assert any("file-metrics-collector-with-json-format" in n for n in result.notes)


# ------------------------------------------------------------------ our own output


def test_repository_bases_import_back_to_the_specs(repo_specs: Path) -> None:
    spec_set = load_spec_set(repo_specs)
    for spec in spec_set.specs:
        [document] = documents_in(ROOT / "overlays" / spec.name / "_base" / "experiment.yaml")
        result = import_experiment(document)
        assert result.form == "short" and result.name == spec.name and result.namespace == "default"
        expected = {k: v for k, v in spec.body.items() if k != "targets"}
        assert {k: v for k, v in result.spec["spec"].items() if k != "targets"} == expected
        assert_round_trip(document, result)


def test_repository_overlays_import_back_to_the_same_search(repo_specs: Path) -> None:
    spec_set = load_spec_set(repo_specs)
    for spec in spec_set.specs:
        for namespace in spec.namespaces:
            for profile in spec.profiles:
                [experiment] = render.render(render.DiskFiles(ROOT), f"overlays/{spec.name}/{namespace}/{profile}")
                document = load_documents(dump(experiment), f"{spec.name}/{namespace}/{profile}")[0]
                result = import_experiment(document)
                body = result.spec["spec"]
                assert result.form == "short" and result.name == spec.name and result.namespace == namespace
                for key in ("objective", "algorithm", "parameters"):
                    assert body[key] == spec.body[key]
                for key in ("kind", "image", "command", "replicas", "imagePullPolicy", "runtime"):
                    assert body["trial"].get(key) == spec.trial.get(key), key
                assert body["budget"] == {**spec.body["budget"], **spec_set.targets.profiles[profile].budget}
                assert_round_trip(document, result)


def test_a_trainjob_gpu_overlay_gives_its_runtime_patch_scheduling_back_to_the_profile(repo_specs: Path) -> None:
    """A TrainJob's profile reaches the trainer's pods through our runtime patch (nodeSelector, tolerations) and
    trainer.resourcesPerNode (the GPU): both go back into the profile, and the short form fits again."""
    [experiment] = render.render(render.DiskFiles(ROOT), "overlays/mnist-trainjob/team-nlp/gpu")
    result = import_experiment(load_documents(dump(experiment), "gpu.yaml")[0])
    gpu = load_spec_set(repo_specs).targets.profiles["gpu"].body
    assert (result.form, result.profile) == ("short", "imported-gpu")
    assert {k: result.profile_body[k] for k in ("resources", "nodeSelector", "tolerations")} == {
        "resources": {"limits": {"nvidia.com/gpu": 1}},
        "nodeSelector": gpu["nodeSelector"],
        "tolerations": gpu["tolerations"],
    }
    assert "runtimePatches" not in str(result.spec)


def test_gpu_overlay_becomes_a_gpu_profile(repo_specs: Path) -> None:
    [experiment] = render.render(render.DiskFiles(ROOT), "overlays/mnist-pytorchjob/team-nlp/gpu")
    result = import_experiment(load_documents(dump(experiment), "gpu.yaml")[0])
    gpu = load_spec_set(repo_specs).targets.profiles["gpu"].body
    assert result.profile == "imported-gpu"
    assert result.profile_body["resources"] == {"limits": {"nvidia.com/gpu": 1}}
    assert (
        result.profile_body["nodeSelector"] == gpu["nodeSelector"]
        and result.profile_body["tolerations"] == gpu["tolerations"]
    )
    assert result.spec["spec"]["trial"]["resources"] == {"requests": gpu["resources"]["requests"]}


# ------------------------------------------------------------------ synthetic Experiments


def experiment(**changes: Any) -> dict[str, Any]:
    """A PyTorchJob Experiment whose trial the tests then reshape."""
    container = {
        "name": "pytorch",
        "image": "example.com/train:1",
        "command": ["python", "/train.py"],
        "args": ["--lr", "${trialParameters.lr}"],
    }
    role = {"replicas": 1, "restartPolicy": "OnFailure", "template": {"spec": {"containers": [container]}}}
    out: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "demo", "namespace": "team-a"},
        "spec": {
            "objective": {"type": "maximize", "objectiveMetricName": "accuracy"},
            "algorithm": {"algorithmName": "random"},
            "maxTrialCount": 4,
            "parallelTrialCount": 2,
            "parameters": [{"name": "--lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
            "trialTemplate": {
                "primaryContainerName": "pytorch",
                "trialParameters": [{"name": "lr", "description": "learning rate", "reference": "--lr"}],
                "trialSpec": {
                    "apiVersion": "kubeflow.org/v1",
                    "kind": "PyTorchJob",
                    "spec": {"pytorchReplicaSpecs": {"Master": role, "Worker": copy.deepcopy(role)}},
                },
            },
        },
    }
    out["spec"].update(changes)
    return out


def roles(data: dict[str, Any]) -> dict[str, Any]:
    return data["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]


def imported(data: dict[str, Any]) -> ImportResult:
    document = load_documents(dump(data), "experiment.yaml")[0]
    result = import_experiment(document)
    assert_round_trip(document, result)
    return result


def test_trailing_flags_become_the_default_delivery() -> None:
    result = imported(experiment())
    assert "pass" not in result.spec["spec"]["parameters"][0] and "args" not in result.spec["spec"]["trial"]


def test_equals_flags_and_env_vars_are_recognised() -> None:
    data = experiment()
    data["spec"]["parameters"].append(
        {"name": "batch", "parameterType": "int", "feasibleSpace": {"min": "16", "max": "64", "step": "16"}}
    )
    data["spec"]["trialTemplate"]["trialParameters"].append(
        {"name": "batch", "description": "batch size", "reference": "batch"}
    )
    for role in roles(data).values():
        container = role["template"]["spec"]["containers"][0]
        container["args"] = ["--epochs=1", "--learning-rate=${trialParameters.lr}"]
        container["env"] = [{"name": "HOME", "value": "/tmp"}, {"name": "BATCH", "value": "${trialParameters.batch}"}]
    body = imported(data).spec["spec"]
    assert [p.get("pass") for p in body["parameters"]] == [
        {"flag": "--learning-rate", "style": "equals"},
        {"env": "BATCH"},
    ]
    assert body["parameters"][1]["step"] == 16
    assert body["trial"]["args"] == ["--epochs=1"] and body["trial"]["env"] == {"HOME": "/tmp"}


def test_placeholders_in_the_middle_stay_where_they_are() -> None:
    data = experiment()
    for role in roles(data).values():
        role["template"]["spec"]["containers"][0]["args"] = ["--lr", "${trialParameters.lr}", "--epochs", "3"]
    body = imported(data).spec["spec"]
    assert body["parameters"][0]["pass"] == "placeholder" and body["trial"]["args"] == [
        "--lr",
        "${trialParameters.lr}",
        "--epochs",
        "3",
    ]


def test_roles_that_differ_get_per_role_overrides() -> None:
    data = experiment()
    worker = roles(data)["Worker"]
    worker["replicas"] = 3
    worker["restartPolicy"] = "ExitCode"
    worker["template"]["spec"]["containers"][0]["command"] = ["python", "/worker.py"]
    worker["template"]["spec"]["containers"][0]["env"] = [{"name": "ROLE", "value": "worker"}]
    result = imported(data)
    assert result.form == "short"
    assert result.spec["spec"]["trial"]["replicas"] == {
        "Master": 1,
        "Worker": {
            "replicas": 3,
            "restartPolicy": "ExitCode",
            "command": ["python", "/worker.py"],
            "env": {"ROLE": "worker"},
        },
    }


def test_pod_and_container_extras() -> None:
    data = experiment()
    for role in roles(data).values():
        role["template"]["spec"]["serviceAccountName"] = "trainer"
        role["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]
        role["template"]["spec"]["containers"][0].update(
            {"ports": [{"containerPort": 23456}], "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
        )
    trial = imported(data).spec["spec"]["trial"]
    assert trial["pod"] == {"serviceAccountName": "trainer"} and trial["container"] == {
        "ports": [{"containerPort": 23456}]
    }
    assert trial["volumes"] == [{"name": "data", "emptyDir": {}}] and trial["volumeMounts"] == [
        {"name": "data", "mountPath": "/data"}
    ]


def test_pod_metadata_needs_the_raw_trial_spec() -> None:
    data = experiment()
    roles(data)["Worker"]["template"]["metadata"] = {
        "labels": {"team": "a"},
        "annotations": {"sidecar.istio.io/inject": "true"},
    }
    result = imported(data)
    assert result.form == "raw" and any("metadata" in n for n in result.notes)
    raw = result.spec["spec"]["trial"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    assert raw["Worker"]["template"]["metadata"]["annotations"] == {"sidecar.istio.io/inject": "true"}
    assert all(p["pass"] == "placeholder" for p in result.spec["spec"]["parameters"])


def test_worker_only_gpus_become_a_profile_with_roles() -> None:
    data = experiment()
    worker = roles(data)["Worker"]["template"]["spec"]
    worker["containers"][0]["resources"] = {"requests": {"cpu": "4"}, "limits": {"nvidia.com/gpu": 2}}
    for role in roles(data).values():
        role["template"]["spec"]["tolerations"] = [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    result = imported(data)
    assert result.profile == "imported-gpu"
    assert result.profile_body == {
        "description": "Imported: nvidia.com/gpu with the pods' tolerations.",
        "resources": {"limits": {"nvidia.com/gpu": 2}},
        "roles": ["Worker"],
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }
    assert result.spec["spec"]["trial"]["replicas"]["Worker"] == {
        "replicas": 1,
        "resources": {"requests": {"cpu": "4"}},
    }


def test_extended_resources_that_differ_between_roles_stay_in_the_trial() -> None:
    data = experiment()
    for count, role in enumerate(roles(data).values(), start=1):
        role["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": count}}
    result = imported(data)
    assert result.profile == "imported" and "differ between roles" in result.profile_body["description"]
    assert result.spec["spec"]["trial"]["replicas"]["Worker"]["resources"] == {"limits": {"nvidia.com/gpu": 2}}


def test_profile_names_follow_the_resource() -> None:
    assert profile_name({"limits": {"xilinx/aws-vu9p-f1": 1}}) == "imported-aws-vu9p-f1"
    assert profile_name({"limits": {"amd.com/gpu": 1}}) == "imported-gpu"
    assert not is_extended("cpu") and not is_extended("kubernetes.io/batch") and is_extended("intel.com/fpga")


def test_numbers_and_settings_keep_their_text() -> None:
    assert [number(t, integer=False) for t in ("0.01", "1", "1e-05", "1e-3", "0.00", "1.0", "x")] == [
        0.01,
        1,
        1e-05,
        None,
        None,
        1.0,
        None,
    ]
    assert [number(t, integer=True) for t in ("32", "032", "3.0", "1_000")] == [32, None, None, None]
    assert [typed_setting(v) for v in ("2", "0.25", "true", "0.00001", "num-epochs")] == [
        2,
        0.25,
        True,
        "0.00001",
        "num-epochs",
    ]


def test_numbers_without_a_shorter_spelling_stay_strings_and_non_numbers_are_refused() -> None:
    data = experiment()
    data["spec"]["parameters"][0]["feasibleSpace"]["min"] = "1e-3"
    result = import_experiment(load_documents(dump(data), "e.yaml")[0])
    assert result.spec["spec"]["parameters"][0]["min"] == "1e-3"
    data["spec"]["parameters"][0]["feasibleSpace"]["min"] = "0.01x"
    with pytest.raises(FindingsError) as caught:
        import_experiment(load_documents(dump(data), "e.yaml")[0])
    [problem] = caught.value.diagnostics
    assert (
        problem.rule_id == "HO-09" and problem.path == "spec.parameters[0].feasibleSpace.min"
    )  # the validator refuses it first


def test_only_v1beta1_experiments_are_imported() -> None:
    text = "# a Trial\napiVersion: kubeflow.org/v1beta1\nkind: Trial\nmetadata: {name: t}\n"
    with pytest.raises(FindingsError) as caught:
        import_experiment(load_documents(text, "t.yaml")[0])
    [problem] = caught.value.diagnostics
    assert (problem.rule_id, problem.line, problem.column) == ("import-kind", 2, 1)
    assert problem.message == "not a kubeflow.org/v1beta1 Experiment (Trial)"


def test_a_discrete_value_that_is_no_number_is_refused_at_its_position() -> None:
    data = experiment()
    data["spec"]["parameters"][0] = {
        "name": "--lr",
        "parameterType": "discrete",
        "feasibleSpace": {"list": ["0.1", "x"]},
    }
    with pytest.raises(FindingsError) as caught:
        import_experiment(load_documents(dump(data), "e.yaml")[0])  # Katib's random service takes it as a string
    [problem] = caught.value.diagnostics
    assert (problem.rule_id, problem.line, problem.column) == ("import-number", 20, 13)
    assert (
        problem.path == "spec.parameters[0].feasibleSpace.list[1]"
        and problem.message == "'x' is not a number literal (discrete)"
    )


def test_what_no_spec_reproduces_is_refused_with_the_difference() -> None:
    data = experiment()
    data["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"][
        "containers"
    ][0]["args"] = []
    data["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "StdOut"},
        "source": {"fileSystemPath": {"path": "/x", "kind": "File"}},
    }
    with pytest.raises(FindingsError) as caught:
        import_experiment(load_documents(dump(data), "e.yaml")[0])
    [problem] = caught.value.diagnostics
    assert problem.rule_id == "import-round-trip" and "metricsCollectorSpec" in problem.message


def test_names_are_made_valid() -> None:
    assert spec_name("My_Experiment.v2") == "my-experiment-v2"
    assert spec_name("2fast") == "fast"
    assert spec_name("a" * 40) == "a" * 31
    assert camel_case("--lr") == "lr"


def test_generator_labels_are_not_copied_into_the_spec() -> None:
    data = experiment()
    data["metadata"]["labels"] = {"team": "a", "app.kubernetes.io/managed-by": "helm"}
    data["metadata"]["annotations"] = {"owner": "me", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
    data["metadata"]["uid"] = "1234"
    data["status"] = {"conditions": []}
    result = imported(data)
    assert result.spec["metadata"] == {"name": "demo", "labels": {"team": "a"}, "annotations": {"owner": "me"}}
    assert {"status dropped", "metadata dropped: uid"} <= set(result.notes)


def test_identical_profiles_are_reused_and_same_specs_merged() -> None:
    first = imported(experiment())
    other = experiment()
    other["metadata"]["namespace"] = "team-b"
    second = imported(other)
    third = imported(experiment(maxTrialCount=8))
    targets = {
        "apiVersion": "katib-gitops.dev/v1alpha1",
        "kind": "Targets",
        "spec": {"namespaces": ["team-a"], "profiles": {"cpu": {"description": "CPU"}}},
    }
    merged, results = merge_imports([first, second, third], targets)
    assert merged["spec"] == {"namespaces": ["team-a", "team-b"], "profiles": {"cpu": {"description": "CPU"}}}
    assert [r.name for r in results] == ["demo", "demo-2"]
    assert results[0].spec["spec"]["targets"] == {"namespaces": ["team-a", "team-b"], "profiles": ["cpu"]}


# ------------------------------------------------------------------ v1alpha3, through migrate

V1ALPHA3_TFJOB = """\
apiVersion: kubeflow.org/v1alpha3
kind: Experiment
metadata:
  name: katib-tfjob-experiment
spec:
  parallelTrialCount: 3
  maxTrialCount: 12
  maxFailedTrialCount: 3
  objective: {type: maximize, goal: 0.99, objectiveMetricName: accuracy}
  algorithm: {algorithmName: random}
  parameters:
    - {name: --learning-rate, parameterType: double, feasibleSpace: {min: "0.3", max: "0.4"}}
    - {name: --momentum, parameterType: double, feasibleSpace: {min: "0.6", max: "0.7"}}
  trialTemplate:
    goTemplate:
      rawTemplate: |-
        apiVersion: "kubeflow.org/v1"
        kind: TFJob
        metadata:
          name: {{.Trial}}
          namespace: {{.NameSpace}}
        spec:
          tfReplicaSpecs:
            Worker:
              replicas: 2
              restartPolicy: OnFailure
              template:
                metadata:
                  annotations:
                    sidecar.istio.io/inject: "false"
                spec:
                  containers:
                    - name: tensorflow
                      image: mesosphere/kubeflow:mnist-tensorflow-2.2-1.0.1-0.5.0
                      imagePullPolicy: Always
                      command: ["python", "-u", "/mnist.py"]
                      args:
                        {{- with .HyperParameters}}
                        {{- range .}}
                        - "{{.Name}}"
                        - "{{.Value}}"
                        {{- end}}
                        {{- end}}
                      resources:
                        limits:
                          nvidia.com/gpu: 1
"""


def test_v1alpha3_experiments_are_migrated_then_imported(tmp_path: Path) -> None:
    path = tmp_path / "tfjob.yaml"
    path.write_text(V1ALPHA3_TFJOB)
    [document] = documents_in(path)
    result = import_document(document)
    spec = result.spec["spec"]
    assert result.form == "short" and result.name == "katib-tfjob-experiment" and result.source == str(path)
    assert spec["budget"]["resumePolicy"] == "LongRunning"  # v1alpha3's default, written out by the migration
    assert [p.get("pass") for p in spec["parameters"]] == [None, None]  # the {{range}} loop: default flags
    assert spec["trial"]["replicas"] == {"Worker": 2} and result.profile_body["resources"] == {
        "limits": {"nvidia.com/gpu": 1}
    }
    assert any(n.startswith("migrated from v1alpha3:") and "MIG-08" in n for n in result.notes)
    migrated, _ = migrated_document(document)
    assert_round_trip(migrated, result)


# ------------------------------------------------------------------ command line


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["import", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_writes_specs_that_generate_accepts(shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    examples = shared / EXAMPLES
    files = [
        str(examples / name)
        for name in (*SHORT_FORM, "argo/argo-workflow.yaml", "metrics-collector/metrics-collection-strategy.yaml")
    ]
    code, out, err = run(*files, str(ROOT / "overlays" / "mnist-tfjob"))
    assert code == 0, err
    assert "specs/pytorchjob-mnist.yaml: new (short form, namespace kubeflow, profile imported-cpu)" in out
    assert "specs/targets.yaml: new" in out
    written = sorted(p.name for p in (tmp_path / "specs").iterdir())
    assert written == [
        "katib-argo-workflow.yaml",
        "metrics-collection-strategy.yaml",
        "mnist-tfjob-2.yaml",
        "mnist-tfjob-3.yaml",
        "mnist-tfjob.yaml",
        "pytorchjob-mnist.yaml",
        "random.yaml",
        "targets.yaml",
        "tfjob-mnist-with-summaries.yaml",
        "torch-distributed-example.yaml",
    ]
    # Katib runs Argo Workflow trials only once the katib-config lists the kind (the upstream example says so);
    # on the standalone install generate refuses that spec, as the cluster would leave its trials stuck (TT-R5).
    refused = CliRunner().invoke(main, ["generate"])
    assert refused.exit_code == 1
    assert "specs/katib-argo-workflow.yaml:" in refused.stderr and "[TT-R5]" in refused.stderr
    config = yaml.safe_load((shared / "upstream/katib-v0.19.0/config/katib-config.yaml").read_text())
    config["init"]["controller"]["trialResources"].append("Workflow.v1alpha1.argoproj.io")
    (tmp_path / "katib-config.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["generate", "--katib-config", "katib-config.yaml"])
    assert result.exit_code == 0, result.stderr
    targets = load_spec_set(tmp_path / "specs").targets
    assert set(targets.namespaces) == {"kubeflow", "argo", "default", "team-nlp", "team-vision"}
    assert set(targets.profiles) == {"imported-cpu", "imported-gpu"}
    assert run(*files)[1].count(": unchanged") == len(files) + 1


def test_cli_refuses_to_overwrite_a_different_spec(shared: Path, tmp_path: Path) -> None:
    random = str(shared / EXAMPLES / "hp-tuning" / "random.yaml")
    out = tmp_path / "specs"
    assert run(random, "--out", str(out))[0] == 0
    path = out / "random.yaml"
    path.write_text(path.read_text().replace("maxTrials: 12", "maxTrials: 13"))
    code, _, err = run(random, "--out", str(out))
    assert code == 2 and "random.yaml: exists and differs" in err and "--force" in err
    code, stdout, _ = run(random, "--out", str(out), "--force")
    assert code == 0 and "random.yaml: replaced" in stdout and "maxTrials: 12" in path.read_text()


def test_cli_keeps_comments_of_an_existing_targets_file(shared: Path, tmp_path: Path, repo_specs: Path) -> None:
    out = tmp_path / "specs"
    out.mkdir()
    original = (repo_specs / "targets.yaml").read_text()
    (out / "targets.yaml").write_text(original)
    assert run(str(shared / EXAMPLES / "hp-tuning" / "random.yaml"), "--out", str(out))[0] == 0
    updated = (out / "targets.yaml").read_text()
    assert updated.startswith(original.split("    - team-nlp\n")[0] + "    - team-nlp\n    - kubeflow\n")
    assert "# GPUs are scarce" in updated and "imported-cpu:" in updated


def test_cli_updates_a_targets_file_with_a_bom_and_crlf_line_endings(tmp_path: Path, repo_specs: Path) -> None:
    source, out = tmp_path / "e.yaml", tmp_path / "specs"
    source.write_text(dump(experiment()))
    out.mkdir()
    (out / "targets.yaml").write_bytes(
        b"\xef\xbb\xbf" + (repo_specs / "targets.yaml").read_bytes().replace(b"\n", b"\r\n")
    )
    assert run(str(source), "--out", str(out))[0] == 0
    updated = (out / "targets.yaml").read_bytes()
    assert b"\r" not in updated and not updated.startswith(b"\xef") and b"# GPUs are scarce\n" in updated
    assert "team-a" in load_spec_set(out).targets.namespaces


def test_cli_dry_run_prints_and_writes_nothing(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "specs"
    code, stdout, stderr = run(str(shared / EXAMPLES / "hp-tuning" / "grid.yaml"), "--out", str(out), "--dry-run")
    assert code == 0 and not out.exists()
    assert [d["kind"] for d in (doc.data for doc in load_documents(stdout, "-"))] == ["TuningSpec", "Targets"]
    assert "grid.yaml: new" in stderr


def test_cli_refusals_exit_1_with_positions(shared: Path, tmp_path: Path) -> None:
    code, _, err = run(
        str(shared / EXAMPLES / "hp-tuning" / "simple-pbt.yaml"),
        str(shared / EXAMPLES / "trial-template" / "trial-configmap-source.yaml"),
        "--out",
        str(tmp_path / "s"),
    )
    assert code == 1 and not (tmp_path / "s").exists()
    assert "simple-pbt.yaml:10:24: error:" in err and "[COUNT-04]" in err and "[import-unsupported]" in err


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert run(str(tmp_path / "k.yaml"), "--out", str(tmp_path / "s"))[0] == 2
    assert run(str(tmp_path / "missing.yaml"))[0] == 2


def test_cli_refuses_a_file_over_the_size_limit_with_yaml_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LIMITS, "max_file_bytes", LIMITS.max_file_bytes)  # the flag's limit ends with the test
    source = tmp_path / "e.yaml"
    source.write_text(dump(experiment()))
    code, _, err = run(str(source), "--out", str(tmp_path / "specs"), "--max-file-size", "1KiB")
    assert (
        code == 1 and f"{source}:1:1: error: file is larger than the 1024 bytes limit" in err and "[yaml-limit]" in err
    )
    assert not (tmp_path / "specs").exists()
    assert run(str(source), "--out", str(tmp_path / "specs"), "--max-file-size", "1MiB")[0] == 0


def test_cli_refuses_fifos_in_the_inputs_and_the_specs_folder_without_opening_them(tmp_path: Path) -> None:
    (tmp_path / "e.yaml").write_text(dump(experiment()))
    os.mkfifo(tmp_path / "pipe.yaml")
    assert "pipe.yaml: not a regular file" in assert_clean_exit(process(tmp_path, "import", "pipe.yaml", timeout=20), 2)
    (tmp_path / "specs").mkdir()
    os.mkfifo(tmp_path / "specs" / "targets.yaml")
    assert "targets.yaml: not a regular file" in assert_clean_exit(process(tmp_path, "import", "e.yaml", timeout=20), 2)
    assert sorted(p.name for p in (tmp_path / "specs").iterdir()) == ["targets.yaml"]


def test_cli_reads_standard_input(shared: Path, tmp_path: Path) -> None:
    text = (shared / EXAMPLES / "hp-tuning" / "tpe.yaml").read_text()
    result = CliRunner().invoke(main, ["import", "-", "--out", str(tmp_path / "specs")], input=text)
    assert result.exit_code == 0, result.stderr
    assert "(Experiment kubeflow/tpe)" in (tmp_path / "specs" / "tpe.yaml").read_text()


def test_targets_updates_quote_what_yaml_readers_disagree_on(tmp_path: Path, repo_specs: Path) -> None:
    data = experiment()
    data["metadata"]["namespace"] = "no"
    for role in roles(data).values():
        role["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 1}}
        role["template"]["spec"]["nodeSelector"] = {"gpu": "yes", "zone": "010"}
    source = tmp_path / "e.yaml"
    source.write_text(dump(data))
    out = tmp_path / "specs"
    out.mkdir()
    (out / "targets.yaml").write_text((repo_specs / "targets.yaml").read_text())
    assert run(str(source), "--out", str(out))[0] == 0
    text = (out / "targets.yaml").read_text()
    assert "- 'no'" in text and "gpu: 'yes'" in text and "zone: '010'" in text
    targets = load_spec_set(out).targets
    assert "no" in targets.namespaces and targets.profiles["imported-gpu"].body["nodeSelector"] == {
        "gpu": "yes",
        "zone": "010",
    }


def test_a_v1alpha3_experiment_after_one_that_cannot_migrate_is_still_found(tmp_path: Path) -> None:
    from katib_gitops.yamlio.reader import read_text

    seed = Path(__file__).resolve().parent.parent / "migrate" / "data"
    good = next(p for p in sorted(seed.glob("*.yaml")) if "pytorch" in p.name)
    broken = read_text(good, "x").replace("{{.Trial}}", "{{ if .Trial }}x{{ end }}", 1)
    path = tmp_path / "two.yaml"
    path.write_text(broken + "\n---\n" + read_text(good, "x"))
    second = load_documents(path.read_text(), str(path))[1]
    result = import_document(second)
    assert result.spec["spec"]["trial"]["kind"] == "PyTorchJob"


def test_metadata_trial_parameters_become_metadata_parameters_and_must_come_last(shared: Path) -> None:
    source = upstream(shared)["trial-template/trial-metadata-substitution.yaml"]
    result = import_experiment(source)
    assert [m["reference"] for m in result.spec["spec"]["trial"]["metadataParameters"]][:2] == [
        "${trialSpec.Name}",
        "${trialSpec.Namespace}",
    ]
    assert_round_trip(source, result)
    reordered = copy.deepcopy(source.data)
    entries = reordered["spec"]["trialTemplate"]["trialParameters"]
    entries.insert(0, entries.pop(2))  # ${trialSpec.Name} first
    with pytest.raises(FindingsError) as refused:
        import_experiment(load_documents(dump(reordered), "reordered.yaml")[0])
    assert [(d.rule_id, d.path) for d in refused.value.diagnostics] == [
        ("import-unsupported", "spec.trialTemplate.trialParameters[1]")
    ]


@pytest.mark.parametrize("name", ["nas/enas-cpu.yaml", "nas/enas-gpu.yaml", "nas/darts-cpu.yaml"])
def test_nas_examples_become_nas_specs(shared: Path, name: str) -> None:
    source = upstream(shared)[name]
    result = import_experiment(source)
    nas = result.spec["spec"]["nas"]
    assert "parameters" not in result.spec["spec"] and result.form == "short"
    assert [o["type"] for o in nas["operations"]] == [
        o["operationType"] for o in source.data["spec"]["nasConfig"]["operations"]
    ]
    assert [a["reference"] for a in nas["assignments"]] == [
        e["reference"] for e in source.data["spec"]["trialTemplate"]["trialParameters"]
    ]
    assert_round_trip(source, result)


@pytest.mark.parametrize("name", ["nas/enas-cpu.yaml", "trial-template/trial-metadata-substitution.yaml"])
def test_trial_parameters_without_descriptions_round_trip(shared: Path, name: str) -> None:
    """The generator fills in a description; the import must expect the same one (experiment.default_description)."""
    data = copy.deepcopy(upstream(shared)[name].data)
    for entry in data["spec"]["trialTemplate"]["trialParameters"]:
        del entry["description"]
    source = load_documents(dump(data), "no-descriptions.yaml")[0]
    result = import_experiment(source)
    assert_round_trip(source, result)
    assert all(
        "description" not in item
        for item in [
            *result.spec["spec"].get("nas", {}).get("assignments", []),
            *result.spec["spec"]["trial"].get("metadataParameters", []),
        ]
    )


# ------------------------------------------------------------------ TrainJob: our runtime patch


def train_job_experiment(pod_template: dict[str, Any] | None) -> dict[str, Any]:
    """A TrainJob Experiment; `pod_template`: the trainer node's in katib-gitops' runtime patch (None: no patch)."""
    data = experiment()
    template = data["spec"]["trialTemplate"]
    template["primaryContainerName"] = "node"
    spec: dict[str, Any] = {
        "runtimeRef": {"name": "torch-distributed"},
        "trainer": {"image": "example.com/train:1", "args": ["--lr", "${trialParameters.lr}"], "numNodes": 2},
    }
    if pod_template is not None:
        node = {"name": "node", "template": {"spec": {"template": pod_template}}}
        spec["runtimePatches"] = [
            {
                "manager": "katib-gitops.dev/manager",
                "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [node]}}},
            }
        ]
    template["trialSpec"] = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "spec": spec}
    return data


ISTIO_NOTE = 'the generator adds the label sidecar.istio.io/inject: "false" to the trial\'s pod templates'
SHORT_TRAIN_JOB = {
    "kind": "TrainJob",
    "runtime": "torch-distributed",
    "image": "example.com/train:1",
    "replicas": {"node": 2},
}


@pytest.mark.parametrize("field", ["labels", "annotations"])
def test_a_train_job_with_our_runtime_patchs_istio_opt_out_imports_to_the_short_form(field: str) -> None:
    result = imported(train_job_experiment({"metadata": {field: dict(ISTIO_OFF)}}))
    assert result.form == "short"
    assert result.spec["spec"]["trial"] == SHORT_TRAIN_JOB
    assert (ISTIO_NOTE in result.notes) == (field == "annotations")  # the generator writes the label


def test_a_train_job_without_our_runtime_patch_imports_with_a_note() -> None:
    result = imported(train_job_experiment(None))
    assert result.form == "short" and result.spec["spec"]["trial"] == SHORT_TRAIN_JOB
    assert ISTIO_NOTE in result.notes


def test_more_than_the_opt_out_in_our_runtime_patch_stays_in_a_raw_trial_spec() -> None:
    pod = {"metadata": {"labels": {**ISTIO_OFF, "team": "a"}}, "spec": {"nodeSelector": {"pool": "a"}}}
    result = imported(train_job_experiment(pod))
    assert result.form == "raw"
    [patch] = result.spec["spec"]["trial"]["trialSpec"]["spec"]["runtimePatches"]
    node = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    assert node["template"]["spec"]["template"] == {
        "metadata": {"labels": {"team": "a"}},
        "spec": {"nodeSelector": {"pool": "a"}},
    }


# ------------------------------------------------------------------ the Kueue queue


QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


def with_job_labels(data: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    data["spec"]["trialTemplate"]["trialSpec"]["metadata"] = {"labels": labels}
    return data


def test_a_trial_jobs_queue_label_becomes_the_profiles_queue() -> None:
    result = imported(with_job_labels(experiment(), {QUEUE_LABEL: "team-a-gpu"}))
    assert result.form == "short" and "metadata" not in result.spec["spec"]["trial"]
    assert result.profile == "imported-cpu"
    assert result.profile_body == {
        "description": "Imported: adds nothing to the trial pods; Kueue queue team-a-gpu.",
        "queue": "team-a-gpu",
    }


def test_a_queue_goes_with_the_gpus_into_one_profile() -> None:
    data = with_job_labels(experiment(), {QUEUE_LABEL: "gpu-queue"})
    for role in roles(data).values():
        role["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 1}}
    result = imported(data)
    assert result.form == "short" and result.profile == "imported-gpu"
    assert result.profile_body == {
        "description": "Imported: nvidia.com/gpu; Kueue queue gpu-queue.",
        "resources": {"limits": {"nvidia.com/gpu": 1}},
        "queue": "gpu-queue",
    }


def test_a_train_jobs_queue_and_our_runtime_patchs_opt_out_import_to_the_short_form() -> None:
    data = with_job_labels(train_job_experiment({"metadata": {"labels": dict(ISTIO_OFF)}}), {QUEUE_LABEL: "q"})
    result = imported(data)
    assert result.form == "short" and result.spec["spec"]["trial"] == SHORT_TRAIN_JOB
    assert result.profile_body["queue"] == "q"


def test_other_job_labels_stay_in_a_raw_trial_spec_and_the_queue_still_moves() -> None:
    result = imported(with_job_labels(experiment(), {QUEUE_LABEL: "q", "team": "a"}))
    assert result.form == "raw" and result.profile_body["queue"] == "q"
    assert result.spec["spec"]["trial"]["trialSpec"]["metadata"] == {"labels": {"team": "a"}}


def test_a_queue_label_no_profile_can_carry_is_refused_before_the_import() -> None:
    """A 64-character label value: the API server refuses each trial's job that Katib creates with it
    (apimachinery ValidateLabels -> IsValidLabelValue, meta-labels), so the validator refuses the import."""
    data = with_job_labels(experiment(), {QUEUE_LABEL: "x" * 64})
    with pytest.raises(FindingsError) as refused:
        import_experiment(load_documents(dump(data), "e.yaml")[0])
    assert [(d.rule_id, d.path) for d in refused.value.diagnostics] == [
        ("meta-labels", f"spec.trialTemplate.trialSpec.metadata.labels.{QUEUE_LABEL}")
    ]


def test_a_trial_jobs_priority_class_label_becomes_the_profiles_priority_class() -> None:
    labels = {QUEUE_LABEL: "q", "kueue.x-k8s.io/priority-class": "low"}
    result = imported(with_job_labels(experiment(), labels))
    assert result.form == "short" and "metadata" not in result.spec["spec"]["trial"]
    assert result.profile_body == {
        "description": "Imported: adds nothing to the trial pods; Kueue queue q; Kueue priority class low.",
        "queue": "q",
        "priorityClass": "low",
    }
