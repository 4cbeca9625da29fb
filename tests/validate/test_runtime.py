"""RUNTIME rules (TT-R1..TT-R5): each fires at its boundary.

Neither the repository's nor upstream's Experiments trip them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.core.diagnostics import Severity
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.core.registry import RULES, Finding
from katib_gitops.expand import overlays
from katib_gitops.rules import runtime  # importing it registers its rules
from katib_gitops.rules.framework import context_for
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from katib_gitops.yamlio.documents import load_documents
from tests.validate.helpers import VALID, experiment, findings, paths

TEMPLATE = VALID["spec"]["trialTemplate"]
TRIAL = ("spec", "trialTemplate", "trialSpec")
RUNTIME = ("TT-R1", "TT-R2", "TT-R3", "TT-R4", "TT-R5")
WITH_ARGO_AND_TEKTON = STANDALONE._replace(
    trial_resources=(*STANDALONE.trial_resources, "Workflow.v1alpha1.argoproj.io", "PipelineRun.v1beta1.tekton.dev"),
    source="katib-config with Argo and Tekton",
)


def with_template(**changes: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    for key, value in changes.items():
        if value is None:
            template.pop(key, None)
        else:
            template[key] = value
    return experiment(trialTemplate=template)


def trial_parameters(*extra: dict[str, str]) -> list[dict[str, str]]:
    return [*copy.deepcopy(TEMPLATE["trialParameters"]), *extra]


def job_spec(**changes: Any) -> dict[str, Any]:
    trial: dict[str, Any] = copy.deepcopy(TEMPLATE["trialSpec"])
    trial["spec"].update(changes)
    return trial


def replicated(
    kind: str, field: str, containers: dict[str, str], api_version: str = "kubeflow.org/v1"
) -> dict[str, Any]:
    """A trialSpec of `kind` with one replica per role, whose single container has the given name."""
    pod = TEMPLATE["trialSpec"]["spec"]["template"]["spec"]
    roles = {}
    for role, name in containers.items():
        container = {**copy.deepcopy(pod["containers"][0]), "name": name}
        roles[role] = {"replicas": 1, "template": {"spec": {"containers": [container]}}}
    return {"apiVersion": api_version, "kind": kind, "spec": {field: roles}}


def full(rule_id: str, data: dict[str, Any], version: tuple[int, int] = KATIB_VERSION) -> list[Finding]:
    return list(RULES[rule_id].check(context_for(data, STANDALONE, version)))


def severity(rule_id: str, finding: Finding) -> Severity:
    return finding.severity or RULES[rule_id].severity


def test_the_valid_experiment_passes_every_runtime_rule() -> None:
    assert sorted(r.id for r in RULES.values() if r.module == runtime.__name__) == list(RUNTIME)
    assert {r: findings(r, VALID) for r in RUNTIME} == {r: [] for r in RUNTIME}
    assert all(RULES[r].level == "RUNTIME" and RULES[r].severity is Severity.ERROR for r in RUNTIME)


# --------------------------------------------------------------- TT-R1


def test_tt_r1_every_parameter_needs_a_trial_parameter() -> None:
    extra = {"name": "wd", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.2"}}
    failing = experiment(parameters=[*VALID["spec"]["parameters"], extra])
    ((path, message),) = findings("TT-R1", failing)
    assert path == ("spec", "parameters", 2, "name")
    assert (
        "'wd' is not referenced by any trialParameter" in message and "3 parameter assignments, 2 non-meta" in message
    )
    passing = copy.deepcopy(failing)
    passing["spec"]["trialTemplate"]["trialParameters"].append({"name": "wd", "reference": "wd"})
    assert findings("TT-R1", passing) == []


def test_tt_r1_metadata_references_do_not_count_and_nas_is_left_to_the_algorithm_rules() -> None:
    meta_only = with_template(
        trialParameters=[TEMPLATE["trialParameters"][0], {"name": "trial", "reference": "${trialSpec.Name}"}]
    )
    assert paths("TT-R1", meta_only) == [("spec", "parameters", 1, "name")]
    nas = experiment(parameters=None, nasConfig={"graphConfig": {"numLayers": 1}})
    nas["spec"]["trialTemplate"]["trialParameters"] = [{"name": "learningRate", "reference": "architecture"}]
    assert findings("TT-R1", nas) == []


# --------------------------------------------------------------- TT-R2


def metadata_reference(reference: str, **metadata: dict[str, str]) -> dict[str, Any]:
    trial = copy.deepcopy(TEMPLATE["trialSpec"])
    if metadata:
        trial["metadata"] = metadata
    return with_template(trialParameters=trial_parameters({"name": "team", "reference": reference}), trialSpec=trial)


def test_tt_r2_indexed_metadata_names_an_existing_key() -> None:
    ((path, message),) = findings("TT-R2", metadata_reference("${trialSpec.Labels[team]}", labels={"other": "x"}))
    assert path == ("spec", "trialTemplate", "trialParameters", 2, "reference")
    assert "trialSpec.metadata.labels has no key 'team'" in message
    assert findings("TT-R2", metadata_reference("${trialSpec.Labels[team]}", labels={"team": "x"})) == []
    assert paths("TT-R2", metadata_reference("${trialSpec.Annotations[team]}", labels={"team": "x"})) == [path]
    assert findings("TT-R2", metadata_reference("${trialSpec.Annotations[team]}", annotations={"team": "x"})) == []


def test_tt_r2_bare_labels_and_unknown_keys_are_refused() -> None:
    ((_, message),) = findings("TT-R2", metadata_reference("${trialSpec.Labels}", labels={"team": "x"}))
    assert "${trialSpec.Labels} needs a key" in message
    assert findings("TT-R2", metadata_reference("${trialSpec.Name}")) == []
    assert findings("TT-R2", metadata_reference("${trialSpec.Uid}")) == []  # with parameters: TT-13 at admission
    nas = metadata_reference("${trialSpec.Uid}")
    nas["spec"].pop("parameters")
    nas["spec"]["nasConfig"] = {"graphConfig": {"numLayers": 1}}
    ((_, message),) = findings("TT-R2", nas)
    assert "${trialSpec.Uid} is not trial metadata" in message


# --------------------------------------------------------------- TT-R3


def pytorch(**worker: Any) -> dict[str, Any]:
    trial = replicated(
        "PyTorchJob", "pytorchReplicaSpecs", {"Master": "training-container", "Worker": "training-container"}
    )
    trial["spec"]["pytorchReplicaSpecs"]["Worker"].update(worker)
    return trial


def test_tt_r3_placeholders_in_integer_fields() -> None:
    ((path, message),) = findings("TT-R3", with_template(trialSpec=pytorch(replicas="${trialParameters.momentum}")))
    assert path == TRIAL + ("spec", "pytorchReplicaSpecs", "Worker", "replicas")
    assert "replicas takes an integer" in message and "substitutes to a string: the PyTorchJob is refused" in message
    assert findings("TT-R3", with_template(trialSpec=pytorch(replicas=2))) == []
    assert (
        findings("TT-R3", with_template(trialSpec=pytorch(replicas="2"))) == []
    )  # no placeholder: the CRD schema's business


def test_tt_r3_booleans_deep_in_pods_but_not_jobs_or_unknown_kinds() -> None:
    trial = pytorch()
    trial["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["hostNetwork"] = "${trialParameters.momentum}"
    ((path, message),) = findings("TT-R3", with_template(trialSpec=trial))
    assert (
        path == TRIAL + ("spec", "pytorchReplicaSpecs", "Worker", "template", "spec", "hostNetwork")
        and "takes a boolean" in message
    )
    job = with_template(trialSpec=job_spec(parallelism="${trialParameters.momentum}"))
    assert findings("TT-R3", job) == []  # batch/v1 Job: TT-20 at admission
    workflow = {**trial, "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow"}
    assert (
        findings(
            "TT-R3", with_template(trialSpec=workflow, successCondition="status.phase", failureCondition="status.phase")
        )
        == []
    )


# TT-R4 (Katib's pod webhook): tests/validate/test_pod_webhook.py


# --------------------------------------------------------------- TT-R5


def test_tt_r5_the_trial_kind_is_a_trial_resource() -> None:
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {"arguments": "${trialParameters.learningRate} ${trialParameters.momentum}"},
    }
    data = with_template(trialSpec=workflow, successCondition="status.phase", failureCondition="status.phase")
    ((path, message),) = findings("TT-R5", data)
    assert path == TRIAL + ("kind",) and "Workflow.v1alpha1.argoproj.io is not among the trialResources" in message
    assert findings("TT-R5", data, config=WITH_ARGO_AND_TEKTON) == []
    only_jobs = KatibConfig({}, {}, (), ("Job.v1.batch",))
    assert findings("TT-R5", VALID, config=only_jobs) == []
    pytorch = replicated("PyTorchJob", "pytorchReplicaSpecs", {"Master": "training-container"})
    assert paths("TT-R5", with_template(trialSpec=pytorch), config=only_jobs) == [TRIAL + ("kind",)]
    assert findings("TT-R5", with_template(trialSpec=pytorch)) == []


# --------------------------------------------------------------- whole Experiments


def runtime_findings(data: dict[str, Any], config: KatibConfig = STANDALONE) -> list[tuple[str, Severity, Finding]]:
    context = context_for(data, config)
    return [(r, (f.severity or RULES[r].severity), f) for r in RUNTIME for f in RULES[r].check(context)]


def repository_experiments(specs: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for expansion in overlays.expand(planning.load(specs)):
        out.extend([expansion.base, *(o.experiment for o in expansion.overlays)])
    return out


def test_generated_experiments_have_no_runtime_finding(repo_specs: Path) -> None:
    experiments = repository_experiments(repo_specs)
    assert experiments
    assert [runtime_findings(e) for e in experiments] == [[] for _ in experiments]


def upstream_experiments(shared: Path) -> list[tuple[str, dict[str, Any]]]:
    root = shared / "upstream" / "katib" / "examples"
    return [
        (str(file.relative_to(root)), document.data)
        for file in sorted(root.rglob("*.yaml"))
        for document in load_documents(file.read_text(encoding="utf-8"), str(file))
        if isinstance(document.data, dict) and document.data.get("kind") == "Experiment"
    ]


def test_upstream_examples_have_no_runtime_error_but_two_whose_pods_the_webhook_refuses(shared: Path) -> None:
    """Since v0.18 pod/utils.go:mutatePodEnv refuses a trial pod without the primary container (TT-R4, UP-08): the
    Horovod MPIJob's workers lack mpi-launcher, and the Tekton example's data-preprocessing task has no step
    model-training (Tekton names a step's container step-<name>)."""
    examples = upstream_experiments(shared)
    assert len(examples) >= 30
    errors = {
        name: [(r, f.path) for r, s, f in runtime_findings(data, WITH_ARGO_AND_TEKTON) if s is Severity.ERROR]
        for name, data in examples
    }
    assert {k: v for k, v in errors.items() if v} == {
        "kubeflow-training-operator/mpijob-horovod.yaml": [
            ("TT-R4", TRIAL + ("spec", "mpiReplicaSpecs", "Worker", "template", "spec", "containers"))
        ],
        "tekton/pipeline-run.yaml": [("TT-R4", TRIAL + ("spec", "pipelineSpec", "tasks", 0, "taskSpec", "steps"))],
    }


def test_upstream_mpijob_horovod_gets_the_tt_r4_error_of_up_08(shared: Path) -> None:
    """UP-08: the workers run only mpi-worker; since v0.18 pod/utils.go:mutatePodEnv refuses their pods."""
    (data,) = [d for name, d in upstream_experiments(shared) if name.endswith("mpijob-horovod.yaml")]
    ((rule_id, level, finding),) = runtime_findings(data)
    assert (rule_id, level) == ("TT-R4", Severity.ERROR) and "Worker" in finding.path
    assert "mutatePodEnv" in finding.message


@pytest.mark.parametrize("name", ["argo/argo-workflow.yaml", "tekton/pipeline-run.yaml"])
def test_upstream_argo_and_tekton_need_a_katib_config_listing_them(shared: Path, name: str) -> None:
    (data,) = [d for n, d in upstream_experiments(shared) if n == name]
    assert paths("TT-R5", data) == [TRIAL + ("kind",)]
    assert findings("TT-R5", data, config=WITH_ARGO_AND_TEKTON) == []
