"""Trial kinds own their layout: one record per kind, one pod-template walker, schemas derived from KINDS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.commands.validate.command import validate_command
from katib_gitops.core import kinds
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.core.kinds import Layout, PodTemplate, TrialKind, pod_template_places, pod_templates
from katib_gitops.schema import manifests, ours
from katib_gitops.spec.katib_config import standalone_trial_resources
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.writer import dump
from tests.helpers import spec, write_specs

POD = {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "main", "image": "x"}]}}


def test_the_walker_yields_role_path_and_template_for_every_layout() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": POD}}
    assert list(pod_templates(job, kinds.KINDS["Job"])) == [PodTemplate("", ("spec", "template"), POD)]
    pytorch = {"spec": {"pytorchReplicaSpecs": {"Master": {"template": POD}, "Worker": {"replicas": 2}}}}
    assert list(pod_templates(pytorch, kinds.KINDS["PyTorchJob"])) == [
        ("Master", ("spec", "pytorchReplicaSpecs", "Master", "template"), POD)
    ]
    assert [role for role, _ in pod_template_places(pytorch, kinds.KINDS["PyTorchJob"])] == ["Master", "Worker"]
    train = {"spec": {"runtimeRef": {"name": "torch"}, "trainer": {"image": "x"}}}
    assert list(pod_templates(train, kinds.KINDS["TrainJob"])) == []
    assert list(pod_templates(job, None)) == []


@pytest.mark.parametrize(
    "trial_spec",
    [
        None,
        [],
        {"spec": []},
        {"spec": {"template": "text"}},
        {"spec": {"tfReplicaSpecs": [1, 2]}},
        {"spec": {"tfReplicaSpecs": {"Worker": "text", "PS": {"template": [1]}, "Chief": None}}},
    ],
)
def test_the_walker_skips_parts_of_the_wrong_type(trial_spec: Any) -> None:
    for kind in kinds.KINDS.values():
        assert list(pod_templates(trial_spec, kind)) == []


def test_the_walker_reads_ruamel_round_trip_nodes() -> None:
    node = YAML().load("spec:\n  mpiReplicaSpecs:\n    Launcher:\n      template:\n        spec: {containers: []}\n")
    ((role, path, template),) = pod_templates(node, kinds.KINDS["MPIJob"])
    assert (role, path, dict(template["spec"])) == (
        "Launcher",
        ("spec", "mpiReplicaSpecs", "Launcher", "template"),
        {"containers": []},
    )


def test_the_trial_kinds_schemas_and_the_tuning_spec_kinds_come_from_kinds() -> None:
    for kind in kinds.KINDS.values():
        if kind.schema is None:  # Kubernetes' own (kubernetes-validate's)
            assert kind.layout is Layout.TEMPLATE and (kind.api_version, kind.kind) not in manifests.CATALOG
            continue
        assert manifests.CATALOG[(kind.api_version, kind.kind)] == kind.schema
        assert ours.schema_path(kind.schema).is_file()
    tuning = json.loads(ours.schema_text("tuningspec"))
    assert tuning["properties"]["spec"]["properties"]["trial"]["properties"]["kind"]["enum"] == list(kinds.KINDS)
    raw = json.loads(ours.schema_path("tuningspec").read_text(encoding="utf-8"))
    assert "enum" not in raw["properties"]["spec"]["properties"]["trial"]["properties"]["kind"]  # derived, not kept


# ------------------------------------------------------------- a kind added by the registry and a schema only

TOY_API = "toys.example.com/v1"
TOY_LABELS = {"toys.example.com/role": "boss"}
TOY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "spec"],
    "properties": {
        "apiVersion": {"const": TOY_API},
        "kind": {"const": "ToyJob"},
        "metadata": {
            "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["toyReplicaSpecs"],
            "properties": {
                "toyReplicaSpecs": {
                    "type": "object",
                    "propertyNames": {"enum": ["Boss", "Helper"]},
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "replicas": {"type": "integer"},
                            "restartPolicy": {"enum": ["Always", "OnFailure", "Never"]},
                            "template": {
                                "$ref": "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.api.core.v1.PodTemplateSpec"
                            },
                        },
                    },
                }
            },
        },
    },
}
KATIB_CONFIG = {
    "apiVersion": "config.kubeflow.org/v1beta1",
    "kind": "KatibConfig",
    "init": {"controller": {"trialResources": ["Job.v1.batch", "ToyJob.v1.toys.example.com"]}},
    "runtime": {
        "suggestions": [{"algorithmName": "random", "image": "ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0"}],
        "metricsCollectors": [{"kind": "StdOut", "image": "ghcr.io/kubeflow/katib/file-metrics-collector:v0.19.0"}],
    },
}


@pytest.fixture
def toy_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TrialKind:
    """A ToyJob with a replica-role map: one entry in KINDS and its schema file, nothing else."""
    schema = tmp_path / "toyjob.schema.json"
    schema.write_text(json.dumps(TOY_SCHEMA), encoding="utf-8")
    toy = TrialKind(
        kind="ToyJob",
        api_version=TOY_API,
        layout=Layout.REPLICAS,
        container="toy",
        success=kinds.SUCCEEDED,
        failure=kinds.FAILED,
        pod_labels=TOY_LABELS,
        schema=str(schema),
        replica_field="toyReplicaSpecs",
        roles=("Boss", "Helper"),
        primary_roles=("Boss",),
        default_replicas={"Boss": 1},
        restart_policy="Never",
        defaults_since=None,  # Katib knows nothing of it: we write its conditions and labels
    )
    monkeypatch.setitem(kinds.KINDS, toy.kind, toy)
    return toy


def _experiments(out: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(out.rglob("*.yaml")):
        found += [d.data for d in load_documents(path.read_text(encoding="utf-8"), str(path))]
    return [d for d in found if isinstance(d, dict) and d.get("kind") == "Experiment"]


def test_a_kind_added_to_the_registry_with_a_schema_generates_and_validates(
    toy_kind: TrialKind, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial = {"kind": "ToyJob", "image": "example.com/toy:1", "replicas": {"Boss": 1, "Helper": 3}}
    specs = write_specs(tmp_path, spec(trial=trial))
    out = tmp_path / "overlays"
    config = tmp_path / "katib-config.yaml"  # ToyJob trials run once the katib-config lists the kind (TT-R5)
    config.write_text(dump(KATIB_CONFIG), encoding="utf-8")
    generate(GenerateOptions(specs_dir=specs, out_dir=out, katib_config=config))
    (experiment,) = _experiments(out)
    template = experiment["spec"]["trialTemplate"]
    assert template["primaryContainerName"] == "toy" and template["primaryPodLabels"] == TOY_LABELS
    assert (template["successCondition"], template["failureCondition"]) == (kinds.SUCCEEDED, kinds.FAILED)
    trial_spec = template["trialSpec"]
    assert (trial_spec["apiVersion"], trial_spec["kind"]) == (TOY_API, "ToyJob")
    assert {role: entry["replicas"] for role, entry in trial_spec["spec"]["toyReplicaSpecs"].items()} == {
        "Boss": 1,
        "Helper": 3,
    }
    pods = list(pod_templates(trial_spec, toy_kind))
    assert [role for role, _, _ in pods] == ["Boss", "Helper"]
    for role, path, pod in pods:
        assert path == ("spec", "toyReplicaSpecs", role, "template")
        assert trial_spec["spec"]["toyReplicaSpecs"][role]["restartPolicy"] == "Never"
        assert pod["metadata"] == {"labels": kinds.ISTIO_OFF}  # Katib >= 0.19: the label only
        (container,) = pod["spec"]["containers"]
        assert container["name"] == "toy" and container["image"] == "example.com/toy:1"
        assert container["args"] == ["--lr", "${trialParameters.lr}"]  # the parameter reaches every role
    capsys.readouterr()
    assert validate_command([str(out)], katib_config=config, jobs=1) == 0, capsys.readouterr().out
    # The kind's schema is the one that judges its trials: a field it does not have is refused.
    trial_spec["spec"]["toyReplicaSpecs"]["Helper"]["bogus"] = 1
    (tmp_path / "broken.yaml").write_text(dump(experiment), encoding="utf-8")
    assert validate_command([str(tmp_path / "broken.yaml")], katib_config=config, jobs=1) == 1
    assert "unknown field 'bogus' [trial-schema]" in capsys.readouterr().out
    # The standalone install lists only the kinds Katib knows: there the toy's trials would look stuck (TT-R5).
    assert validate_command([str(out)], jobs=1) == 1
    assert "ToyJob.v1.toys.example.com is not among the trialResources" in capsys.readouterr().out


def test_a_toy_spec_is_checked_like_any_other(toy_kind: TrialKind, tmp_path: Path) -> None:
    specs = write_specs(tmp_path, spec(trial={"kind": "ToyJob", "image": "x", "replicas": {"Bogus": 1}}))
    with pytest.raises(FindingsError) as refused:
        generate(GenerateOptions(specs_dir=specs, out_dir=tmp_path / "overlays"))
    (found,) = refused.value.diagnostics
    assert (found.message, found.hint) == ("unknown role 'Bogus' for ToyJob", "ToyJob roles: Boss, Helper")


def test_mxjob_was_defaulted_and_listed_until_katib_0_18() -> None:
    # MXJob left KubeflowJobKinds (pkg/apis/controller/experiments/v1beta1/constants.go) in v0.18 (VER-05).
    experiment = {"spec": {"trialTemplate": {"trialSpec": {"apiVersion": "kubeflow.org/v1", "kind": "MXJob"}}}}
    old = apply_katib_defaults(experiment, (0, 17))["spec"]["trialTemplate"]
    assert old["successCondition"] == kinds.SUCCEEDED and old["primaryPodLabels"] == kinds.MASTER_ROLE
    assert "successCondition" not in apply_katib_defaults(experiment, (0, 18))["spec"]["trialTemplate"]
    assert "MXJob.v1.kubeflow.org" in standalone_trial_resources((0, 17))
    assert "MXJob.v1.kubeflow.org" not in standalone_trial_resources((0, 18))
    assert kinds.defaulted_kind("MXJob", (0, 19)) is None and "MXJob" not in kinds.KINDS  # not a short-form kind
