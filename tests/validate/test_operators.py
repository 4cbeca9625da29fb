"""to-*: what the Kubeflow Training Operator v1.9 refuses in its kubeflow.org/v1 jobs beyond their CRD schemas.

The upstream source is kubeflow/training-operator, branch release-1.9 (the v1.9.x releases share
these files): the validating webhooks pkg/webhooks/<framework>/*_webhook.go (validateTFJob,
validatePyTorchJob, validateXGBoostJob, validatePaddleJob, validateJAXJob and their
validate*ReplicaSpecs), pkg/common/util/webhooks.go:ValidateRunPolicy, and, for the MPIJob,
which has no webhook (webhooks.go: `scaffold`), its controller's
pkg/apis/kubeflow.org/v1/mpi_validation.go:ValidateV1MpiJobSpec. Each rule: a refused case at
its exact position and an accepted one next to it; then the same rules inside an Experiment's
trialSpec, where Katib creates the job.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.core.registry import RULES
from katib_gitops.rules import operators

TO_IDS = (
    "to-name",
    "to-roles",
    "to-containers",
    "to-image",
    "to-container",
    "to-replicas",
    "to-elastic",
    "to-managed-by",
)
Found = list[tuple[str, int, int]]


def validate(text: str, *options: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["validate", "--format", "json", *options, "-"], input=text)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


def found(text: str, *options: str) -> Found:
    """(rule, line, column) of every finding on `text`."""
    return [(str(d["rule_id"]), int(str(d["line"])), int(str(d["column"]))) for d in validate(text, *options)[1]]


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """Line and column (1-based) of the nth occurrence of `needle` in `text`."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def job(kind: str, roles: str, *, name: str = "mnist", spec: str = "") -> str:
    """A kubeflow.org/v1 job of `kind` with the map of roles `roles` (YAML indented under it)."""
    field = {
        "TFJob": "tfReplicaSpecs",
        "PyTorchJob": "pytorchReplicaSpecs",
        "XGBoostJob": "xgbReplicaSpecs",
        "PaddleJob": "paddleReplicaSpecs",
        "JAXJob": "jaxReplicaSpecs",
        "MPIJob": "mpiReplicaSpecs",
    }[kind]
    return f"apiVersion: kubeflow.org/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n{spec}  {field}:\n{roles}"


def role(name: str, container: str, *, replicas: str = "1", extra: str = "") -> str:
    """One role with one container named `container` (replicas '' leaves the field out)."""
    count = f"      replicas: {replicas}\n" if replicas else ""
    return (
        f"    {name}:\n{count}      template:\n        spec:\n          containers:\n"
        f"          - name: {container}\n            image: example.com/train:1\n{extra}"
    )


PYTORCH = job("PyTorchJob", role("Master", "pytorch") + role("Worker", "pytorch", replicas="2"))
DEFAULT_CONTAINERS = {
    "TFJob": ("Worker", "tensorflow"),
    "PyTorchJob": ("Master", "pytorch"),
    "XGBoostJob": ("Master", "xgboost"),
    "PaddleJob": ("Worker", "paddle"),
    "JAXJob": ("Worker", "jax"),
    "MPIJob": ("Launcher", "mpi"),
}


def valid(kind: str, **options: str) -> str:
    first, container = DEFAULT_CONTAINERS[kind]
    return job(kind, role(first, container), **options)


def test_every_rule_is_a_tool_error_documented_with_its_upstream_function() -> None:
    for rule_id in TO_IDS:
        assert RULES[rule_id].level == "TOOL" and RULES[rule_id].severity.value == "error"
        assert "v1.9" in RULES[rule_id].doc or "ValidateRunPolicy" in RULES[rule_id].doc, rule_id
    assert "validateXGBReplicaSpecs" in RULES["to-roles"].doc
    assert "ValidateV1MpiJobSpec" in RULES["to-replicas"].doc
    assert set(TO_IDS) == {r.id for r in RULES.values() if r.module == operators.__name__}
    assert set(operators.WEBHOOK) == set(operators.OPERATORS) == set(DEFAULT_CONTAINERS)


@pytest.mark.parametrize("kind", DEFAULT_CONTAINERS)
def test_a_valid_job_of_every_kind_passes(kind: str) -> None:
    assert found(valid(kind)) == []


# ------------------------------------------------------------------ to-name


@pytest.mark.parametrize("kind", ["TFJob", "PyTorchJob", "XGBoostJob", "PaddleJob", "JAXJob"])
@pytest.mark.parametrize("name", ["mnist.v2", "0-test", "a" * 64])
def test_every_webhook_refuses_a_name_that_is_no_dns_1035_label(kind: str, name: str) -> None:
    """validate<Kind>Job: NameIsDNS1035Label(name, false) — dots, a leading digit, > 63 characters."""
    text = valid(kind, name=name)
    assert found(text) == [("to-name", *at(text, name))]
    assert found(valid(kind, name="mnist-v2")) == []


@pytest.mark.parametrize("kind", ["TFJob", "PyTorchJob"])
def test_a_name_the_api_server_refuses_first_is_its_finding_with_the_webhooks_in_the_hint(kind: str) -> None:
    """Upper case is no DNS-1123 subdomain either: ValidateObjectMeta refuses the object before any webhook runs,
    so meta-name is the finding, and its hint says the webhook would refuse it too."""
    text = valid(kind, name="Mnist")
    assert found(text) == [("meta-name", *at(text, "Mnist"))]
    result = CliRunner().invoke(main, ["validate", "--format", "json", "--no-config", "-"], input=text)
    (finding,) = json.loads(result.stdout)["diagnostics"]
    assert "also refused by to-name" in finding["hint"]


def test_an_mpijob_name_with_dots_passes_it_has_no_webhook() -> None:
    """webhooks.go registers `scaffold` for the MPIJob; ValidateV1MpiJobSpec does not look at the name."""
    assert found(valid("MPIJob", name="mnist.v2")) == []


def test_the_name_rule_is_skipped_with_skip() -> None:
    assert found(valid("PyTorchJob", name="mnist.v2"), "--skip", "to-name") == []


# ------------------------------------------------------------------ to-roles


def test_a_role_the_kind_does_not_know_is_refused() -> None:
    """validatePyTorchReplicaSpecs: NotSupported for a replica type other than Master and Worker."""
    text = job("PyTorchJob", role("Master", "pytorch") + role("Chef", "pytorch"))
    assert found(text) == [("to-roles", *at(text, "Chef:"))]


def test_a_tfjob_with_chief_and_master_is_refused_one_of_them_passes() -> None:
    """validateTFReplicaSpecs: 'must not have more than 1 Chief or Master role' (IsChiefOrMaster)."""
    text = job("TFJob", role("Chief", "tensorflow") + role("Master", "tensorflow") + role("Worker", "tensorflow"))
    assert found(text) == [("to-roles", *at(text, "Master:"))]
    assert found(job("TFJob", role("Chief", "tensorflow") + role("Worker", "tensorflow"))) == []


def test_an_xgboostjob_without_master_and_an_mpijob_without_launcher_are_refused() -> None:
    """validateXGBReplicaSpecs: Master 'must be present'; ValidateV1MpiJobSpec: a Launcher must be present."""
    text = job("XGBoostJob", role("Worker", "xgboost"))
    assert found(text) == [("to-roles", *at(text, "xgbReplicaSpecs"))]
    text = job("MPIJob", role("Worker", "mpi"))
    assert found(text) == [("to-roles", *at(text, "mpiReplicaSpecs"))]


# ------------------------------------------------------------------ to-containers, to-image, to-container


def test_a_role_without_containers_is_refused() -> None:
    """validate*ReplicaSpecs: template.spec.containers 'must be specified' when empty or absent."""
    text = job("PyTorchJob", role("Master", "pytorch") + "    Worker:\n      replicas: 1\n")
    assert found(text) == [("to-containers", *at(text, "Worker:"))]
    text = job(
        "PyTorchJob",
        role("Master", "pytorch") + "    Worker:\n      template:\n        spec:\n          containers: []\n",
    )
    assert found(text) == [("to-containers", *at(text, "containers", 2))]


def test_a_container_without_image_is_refused() -> None:
    """validate*ReplicaSpecs: containers[i].image 'must be required' (the Kubernetes Container makes it optional)."""
    text = job(
        "PaddleJob", "    Worker:\n      template:\n        spec:\n          containers:\n          - name: paddle\n"
    )
    assert found(text) == [("to-image", *at(text, "name: paddle"))]
    text = text + '            image: ""\n'
    assert found(text) == [("to-image", *at(text, '""'))]


@pytest.mark.parametrize("kind", ["TFJob", "PyTorchJob", "XGBoostJob", "PaddleJob", "JAXJob"])
def test_every_role_needs_the_kinds_default_container(kind: str) -> None:
    """validate*ReplicaSpecs: 'must have at least one container with name <TFJob/...DefaultContainerName>'."""
    first, _ = DEFAULT_CONTAINERS[kind]
    text = job(kind, role(first, "main"))
    assert found(text) == [("to-container", *at(text, "containers"))]


def test_the_upstream_xgboost_example_of_v1_4_names_its_containers_xgboostjob(shared: Path) -> None:
    """The v1.4 example's containers are named xgboostjob; a v1.9 webhook refuses it (the v1.9.4 example is fixed)."""
    others = shared / "realworld" / "others"
    path = others / "to-xgboostjob-iris-train-v1.4.0.yaml"
    text = path.read_text()
    assert found(text) == [("to-container", *at(text, "containers", 1)), ("to-container", *at(text, "containers", 2))]
    assert found((others / "to-xgboostjob-iris-train-v1.9.4.yaml").read_text()) == []


def test_an_mpijob_names_its_containers_freely_but_names_them() -> None:
    """ValidateV1MpiJobSpec: no default container name, but 'ImageName is undefined' for an empty name."""
    assert found(job("MPIJob", role("Launcher", "launcher"))) == []
    text = job("MPIJob", role("Launcher", '""'))
    assert found(text) == [("to-container", *at(text, '""'))]


# ------------------------------------------------------------------ to-replicas


def test_a_pytorchjob_master_runs_exactly_one_pod_and_says_so() -> None:
    """validatePyTorchReplicaSpecs: Master replicas nil or != 1 is Forbidden 'must be 1' (v1.7 accepted nil)."""
    text = job("PyTorchJob", role("Master", "pytorch", replicas="2"))
    assert found(text) == [("to-replicas", *at(text, "2\n"))]
    text = job("PyTorchJob", role("Master", "pytorch", replicas=""))
    assert found(text) == [("to-replicas", *at(text, "Master:"))]
    text = job("PyTorchJob", role("Master", "pytorch", replicas="null"))  # the API server prunes the null
    assert found(text) == [("to-replicas", *at(text, "Master:"))]


def test_a_pytorchjob_worker_runs_at_least_one_pod_when_it_says() -> None:
    """validatePyTorchReplicaSpecs: other roles' replicas < 1 are Forbidden 'must be at least 1'; unset passes."""
    text = job("PyTorchJob", role("Master", "pytorch") + role("Worker", "pytorch", replicas="0"))
    assert found(text) == [("to-replicas", *at(text, "0\n"))]
    assert found(job("PyTorchJob", role("Master", "pytorch") + role("Worker", "pytorch", replicas=""))) == []


def test_an_xgboostjob_master_runs_exactly_one_pod() -> None:
    """validateXGBReplicaSpecs: Master replicas nil or != 1 'must be 1'."""
    text = job("XGBoostJob", role("Master", "xgboost", replicas="3"))
    assert found(text) == [("to-replicas", *at(text, "3\n"))]


def test_an_mpijob_launcher_may_leave_replicas_out_but_not_say_two() -> None:
    """ValidateV1MpiJobSpec: 'There must be only 1 launcher replica' only when replicas is set."""
    assert found(job("MPIJob", role("Launcher", "mpi", replicas=""))) == []
    text = job("MPIJob", role("Launcher", "mpi", replicas="2"))
    assert found(text) == [("to-replicas", *at(text, "2\n"))]


def test_the_probe_of_a_master_with_two_replicas(shared: Path) -> None:
    text = (shared / "realworld" / "others" / "probes" / "probe-pytorchjob-master-replicas-2.yaml").read_text()
    assert [f[0] for f in found(text)] == ["to-replicas"]


# ------------------------------------------------------------------ to-elastic


ELASTIC = "  elasticPolicy:\n    minReplicas: 1\n    maxReplicas: 3\n"


def test_an_elastic_pytorchjob_needs_a_worker() -> None:
    """pytorchjob_webhook.go:validateSpec: a Worker 'must be configured if elastic policy is used'."""
    text = job("PyTorchJob", role("Master", "pytorch"), spec=ELASTIC)
    assert found(text) == [("to-elastic", *at(text, "elasticPolicy"))]
    assert found(job("PyTorchJob", role("Worker", "pytorch"), spec=ELASTIC)) == []


def test_elastic_nproc_per_node_is_deprecated_and_refused_next_to_spec_nproc_per_node() -> None:
    """validateSpec: a warning for elasticPolicy.nProcPerNode; Forbidden together with spec.nprocPerNode."""
    deprecated = job("PyTorchJob", role("Worker", "pytorch"), spec=ELASTIC + "    nProcPerNode: 2\n")
    code, diagnostics = validate(deprecated)
    assert code == 0
    assert [(d["rule_id"], d["severity"], d["line"], d["column"]) for d in diagnostics] == [
        ("to-elastic", "warning", *at(deprecated, "nProcPerNode"))
    ]
    both = job("PyTorchJob", role("Worker", "pytorch"), spec=ELASTIC + '    nProcPerNode: 2\n  nprocPerNode: "2"\n')
    assert found(both) == [("to-elastic", *at(both, "nProcPerNode"))]


# ------------------------------------------------------------------ to-managed-by


@pytest.mark.parametrize("kind", ["TFJob", "PyTorchJob", "XGBoostJob", "PaddleJob"])
def test_managed_by_takes_the_training_operator_or_multikueue(kind: str) -> None:
    """util.ValidateRunPolicy: NotSupported unless kubeflow.org/training-operator or kueue.x-k8s.io/multikueue."""
    for manager in ("other-job-controller", '""'):
        text = valid(kind, spec=f"  runPolicy:\n    managedBy: {manager}\n")
        assert found(text) == [("to-managed-by", *at(text, manager))]
    for manager in ("kueue.x-k8s.io/multikueue", "kubeflow.org/training-operator"):
        assert found(valid(kind, spec=f"  runPolicy:\n    managedBy: {manager}\n")) == []


@pytest.mark.parametrize("kind", ["JAXJob", "MPIJob"])
def test_managed_by_is_free_where_no_webhook_checks_it(kind: str) -> None:
    """validateJAXJob does not call ValidateRunPolicy; the MPIJob has no webhook (its controller steps aside)."""
    assert found(valid(kind, spec="  runPolicy:\n    managedBy: example.com/mine\n")) == []


# ------------------------------------------------------------------ in an Experiment's trialSpec


def experiment(roles: str, *, name: str = "mnist", primary: str = "pytorch") -> str:
    """An Experiment whose trials run a PyTorchJob with the map of roles `roles` (indented for a trialSpec)."""
    indented = "".join(f"        {line}\n" if line else "\n" for line in roles.splitlines())
    return f"""apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {name}
  namespace: kubeflow
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: random
  maxTrialCount: 4
  parameters:
  - name: lr
    parameterType: double
    feasibleSpace:
      min: "0.01"
      max: "0.05"
  trialTemplate:
    primaryContainerName: {primary}
    trialParameters:
    - name: learningRate
      reference: lr
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: PyTorchJob
      spec:
        pytorchReplicaSpecs:
{indented}"""


LR_ARG = '            args: ["--lr=${trialParameters.learningRate}"]\n'


def test_a_valid_pytorchjob_experiment_passes() -> None:
    assert found(experiment(role("Master", "pytorch", extra=LR_ARG) + role("Worker", "pytorch"))) == []


def test_the_trial_jobs_role_rules_point_into_the_trial_spec() -> None:
    """Katib creates the PyTorchJob of every trial; the webhook refuses it, so every trial fails."""
    text = experiment(role("Master", "pytorch", replicas="2", extra=LR_ARG) + role("Worker", "main"))
    assert found(text, "--skip", "TT-R4") == [
        ("to-replicas", *at(text, "2\n")),
        ("to-container", *at(text, "containers", 2)),
    ]


def test_a_missing_default_container_is_reported_once_not_again_as_tt_r4() -> None:
    """With primaryContainerName pytorch, TT-R4 names the same missing container: the operator refuses first."""
    text = experiment(role("Master", "pytorch", extra=LR_ARG) + role("Worker", "main"))
    assert found(text) == [("to-container", *at(text, "containers", 2))]


def test_tt_r4_stays_for_a_primary_container_the_operator_does_not_require() -> None:
    text = experiment(
        role("Master", "pytorch", extra=LR_ARG + "          - name: sidecar\n            image: x:1\n")
        + role("Worker", "pytorch"),
        primary="sidecar",
    )
    assert [f[0] for f in found(text)] == ["TT-R4"]


def test_the_trial_job_name_is_the_trial_name_so_the_experiment_name_needs_no_dots() -> None:
    """Katib names each trial's job '<experiment>-<8 characters>'; NameIsDNS1035Label refuses a dot in it."""
    text = experiment(role("Master", "pytorch", extra=LR_ARG), name="mnist.v2")
    assert found(text) == [("to-name", *at(text, "mnist.v2"))]  # NAME-03's warning on the same name is dropped
    assert found(experiment(role("Master", "pytorch", extra=LR_ARG), name="mnist-v2")) == []


def test_a_name_katib_refuses_itself_is_not_reported_again() -> None:
    text = experiment(role("Master", "pytorch", extra=LR_ARG), name="2mnist")
    assert [f[0] for f in found(text)] == ["NAME-01"]


def test_trial_spec_findings_are_skippable() -> None:
    text = experiment(role("Master", "pytorch", replicas="", extra=LR_ARG))
    assert found(text) == [("to-replicas", *at(text, "Master:"))]
    assert found(text, "--skip", "to-replicas") == []


# ------------------------------------------------------------------ the real files


def test_the_training_operators_own_v1_9_examples_pass(shared: Path) -> None:
    """Every v1 job example of the v1.9.4 release (PROVENANCE.tsv) gets no to-* finding."""
    examples = sorted((shared / "realworld" / "others").glob("to-*-v1.9.4.yaml"))
    assert examples
    for path in examples:
        assert [f for f in found(path.read_text()) if f[0].startswith("to-")] == [], path.name


def test_a_trial_spec_name_of_its_own_is_tt_18s_alone() -> None:
    """Katib replaces the trialSpec's name with the trial's (TT-18 refuses one written there): no to-name for it."""
    text = experiment(role("Master", "pytorch", extra=LR_ARG)).replace(
        "      kind: PyTorchJob\n", '      kind: PyTorchJob\n      metadata:\n        name: "Bad.Name"\n'
    )
    assert found(text) == [("TT-18", *at(text, '"Bad.Name"'))]


def test_trial_spec_metadata_of_the_wrong_type_is_a_schema_finding_not_a_crash() -> None:
    text = experiment(role("Master", "pytorch", extra=LR_ARG)).replace(
        "      kind: PyTorchJob\n", "      kind: PyTorchJob\n      metadata: oops\n"
    )
    code, diagnostics = validate(text)
    assert code == 1
    assert [(d["rule_id"], d["line"], d["column"]) for d in diagnostics] == [("trial-schema", *at(text, "oops"))]


def test_with_the_upstream_crd_instead_of_our_schema_the_same_rules_apply(shared: Path) -> None:
    """A --crd replaces our schema, which holds the name, role and required-role rules: they are checked anyway."""
    crd = str(shared / "upstream" / "training-operator" / "crds" / "kubeflow.org_xgboostjobs.yaml")
    text = job("XGBoostJob", role("Chef", "xgboost"), name="mnist.v2")
    assert found(text, "--crd", crd) == [
        ("to-name", *at(text, "mnist.v2")),
        ("to-roles", *at(text, "xgbReplicaSpecs")),
        ("to-roles", *at(text, "Chef")),
    ]
    assert found(text) == found(text, "--crd", crd)
    assert found(valid("XGBoostJob"), "--crd", crd) == []
