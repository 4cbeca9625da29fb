"""Generated objects against the upstream CRDs in ../shared/upstream: what a cluster would accept.

Every object is checked with katib_gitops.schema.crd, i.e. the CRD's schema as the API
server applies it, plus strict unknown-field detection (a misspelled field is an
error, not silently pruned). CEL rules (x-kubernetes-validations) are not run.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.core import kinds
from katib_gitops.expand import gitops, overlays
from katib_gitops.expand.overlays import Expansion
from katib_gitops.schema import crd, manifests, ours
from katib_gitops.spec.model import SpecSet
from katib_gitops.yamlio.documents import load_documents
from tests.helpers import generator_parameters, write_specs

CRD_SOURCES = (
    "argo-cd/crds",
    "flux/crds",
    "training-operator/crds",
    "trainer-v2/crds/trainer.kubeflow.org_trainjobs.yaml",
)
PLACEHOLDER = re.compile(r"\$\{trialParameters\.[A-Za-z_][A-Za-z0-9_]*\}")
GO_FIELD = re.compile(r"\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
KUBERNETES_VERSION = "1.30"


# ------------------------------------------------------------- helpers


@functools.cache
def _load_crds(upstream: str) -> dict[crd.CrdKey, dict[str, Any]]:
    found: dict[crd.CrdKey, dict[str, Any]] = {}
    for source in CRD_SOURCES:
        found.update(crd.load_crds(Path(upstream) / source))
    return found


@pytest.fixture
def crds(shared: Path) -> dict[crd.CrdKey, dict[str, Any]]:
    return _load_crds(str(shared / "upstream"))


def problems(obj: dict[str, Any], crds: dict[crd.CrdKey, dict[str, Any]]) -> list[str]:
    """What the upstream CRD of `obj`'s group and kind finds wrong with it."""
    key = (obj["apiVersion"].rpartition("/")[0], obj["kind"])
    assert key in crds, f"no upstream CRD for {key}"
    return crd.validate(obj, crds[key])


def fill_placeholders(value: Any, text: str = "0.5") -> Any:
    """The object a trial creates: Katib replaces every ${trialParameters.x} with a value."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(text, value)
    if isinstance(value, dict):
        return {k: fill_placeholders(v, text) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, text) for v in value]
    return value


def trial_object(experiment: dict[str, Any]) -> dict[str, Any]:
    trial = fill_placeholders(experiment["spec"]["trialTemplate"]["trialSpec"])
    assert "${" not in json.dumps(trial)
    return trial


def experiments(expansions: list[Expansion]) -> Iterator[dict[str, Any]]:
    """The base and every overlay's final Experiment."""
    for expansion in expansions:
        yield expansion.base
        yield from (o.experiment for o in expansion.overlays)


def fill_go_template(value: Any, element: dict[str, Any]) -> Any:
    """ApplicationSet goTemplate with missingkey=error: every {{ .key }} must be in the element."""
    if isinstance(value, str):
        return GO_FIELD.sub(lambda m: str(element[m.group(1)]), value)
    if isinstance(value, dict):
        return {k: fill_go_template(v, element) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_go_template(v, element) for v in value]
    return value


def applications(appset: dict[str, Any]) -> list[dict[str, Any]]:
    """The Applications the generators of `appset` create."""
    template = appset["spec"]["template"]
    out = []
    for generator in appset["spec"]["generators"]:
        for element in generator_parameters(generator):
            filled = fill_go_template(template, element)
            metadata = {**filled["metadata"], "namespace": appset["metadata"]["namespace"]}
            out.append(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": metadata,
                    "spec": filled["spec"],
                }
            )
    return out


def assert_valid(obj: dict[str, Any], crds: dict[crd.CrdKey, dict[str, Any]]) -> None:
    found = problems(obj, crds)
    assert found == [], f"{obj['kind']} {obj.get('metadata', {}).get('name', '')}:\n" + "\n".join(found)


def assert_valid_job(job: dict[str, Any]) -> None:
    """A core batch/v1 Job: no CRD, so kubernetes-validate's strict schema of the Kubernetes release."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"Job: {'.'.join(map(str, exc.path))}: {exc.message}")


# ------------------------------------------------------------- the repository's specs


@functools.cache
def _repo(specs_dir: Path) -> tuple[SpecSet, list[Expansion]]:
    spec_set = planning.load(specs_dir)
    return spec_set, overlays.expand(spec_set)


def _gitops(specs_dir: Path) -> tuple[Any, list[Expansion]]:
    spec_set, expansions = _repo(specs_dir)
    assert spec_set.targets.gitops is not None
    return spec_set.targets.gitops, expansions


def _committed(specs_dir: Path, relative: str) -> list[dict[str, Any]]:
    path = specs_dir.parent / "overlays" / "_gitops" / relative
    return [d.data for d in load_documents(path.read_text(encoding="utf-8"), relative)]


def _application_sets(settings: Any, expansions: list[Expansion]) -> list[dict[str, Any]]:
    return [gitops.application_set(settings, e) for e in expansions]


def test_application_set_validates(repo_specs: Path, crds: dict[crd.CrdKey, dict[str, Any]]) -> None:
    settings, expansions = _gitops(repo_specs)
    for generated in _application_sets(settings, expansions):
        assert_valid(generated, crds)
    for expansion in expansions:
        for committed in _committed(repo_specs, f"argocd/{expansion.spec.name}.applicationset.yaml"):
            assert_valid(committed, crds)


def test_applications_from_the_template_validate(repo_specs: Path, crds: dict[crd.CrdKey, dict[str, Any]]) -> None:
    settings, expansions = _gitops(repo_specs)
    apps = [app for appset in _application_sets(settings, expansions) for app in applications(appset)]
    assert sorted(a["metadata"]["name"] for a in apps) == sorted(o.name for e in expansions for o in e.overlays)
    assert {a["metadata"]["name"]: a["spec"]["source"]["path"] for a in apps} == {
        o.name: f"{settings.path}/{o.directory}" for e in expansions for o in e.overlays
    }
    assert len(apps) == sum(len(e.overlays) for e in expansions) > 0
    for app in apps:
        assert "{{" not in json.dumps(app)
        assert DNS_SUBDOMAIN.match(app["metadata"]["name"]) and len(app["metadata"]["name"]) <= 253
        assert_valid(app, crds)
    assert {a["spec"]["destination"]["namespace"] for a in apps} == {n for e in expansions for n in e.spec.namespaces}


def test_a_misspelled_application_field_would_be_caught(
    repo_specs: Path, crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    settings, expansions = _gitops(repo_specs)
    app = applications(gitops.application_set(settings, expansions[0]))[0]
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    assert problems(app, crds) == ["spec.syncPolicy.automated.selfheal: unknown field 'selfheal'"]


def test_flux_objects_validate(repo_specs: Path, crds: dict[crd.CrdKey, dict[str, Any]]) -> None:
    settings, expansions = _gitops(repo_specs)
    generated = [gitops.git_repository(settings), *gitops.flux_kustomizations(settings, expansions)]
    assert len(generated) == 1 + sum(len(e.overlays) for e in expansions)
    committed = _committed(repo_specs, "flux/gitrepository.yaml")
    for expansion in expansions:
        committed += _committed(repo_specs, f"flux/{expansion.spec.name}.kustomizations.yaml")
    for obj in generated + committed:
        assert DNS_SUBDOMAIN.match(obj["metadata"]["name"])
        assert_valid(obj, crds)


def test_repository_trial_specs_validate(repo_specs: Path, crds: dict[crd.CrdKey, dict[str, Any]]) -> None:
    _, expansions = _repo(repo_specs)
    checked = 0
    for experiment in experiments(expansions):
        trial = trial_object(experiment)
        if trial["kind"] == "Job":
            assert_valid_job(trial)
        else:
            assert_valid(trial, crds)
        checked += 1
    assert checked == sum(1 + len(e.overlays) for e in expansions) > 0


# ------------------------------------------------------------- every trial kind

IMAGE = "registry.example.com/train"
GPU_PROFILE: dict[str, Any] = {
    "resources": {"requests": {"cpu": "4", "memory": "16Gi"}, "limits": {"nvidia.com/gpu": 1}},
    "nodeSelector": {"node.kubernetes.io/instance-type": "g5.2xlarge"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "runtimeClassName": "nvidia",
    "images": [{"name": IMAGE, "newTag": "1.0-cuda"}],
    "budget": {"parallelTrials": 1},
}
TARGETS: dict[str, Any] = {
    "apiVersion": "katib-gitops.dev/v1alpha1",
    "kind": "Targets",
    "metadata": {"name": "kinds"},
    "spec": {
        "namespaces": ["team-a"],
        "profiles": {
            "gpu": {**GPU_PROFILE, "queue": "team-a-gpu"},  # a Kueue LocalQueue: a label on the trial job
            # A TrainJob's pods take nodeSelector and tolerations through spec.runtimePatches (Trainer
            # v2.2+); a runtime patch has no place for runtimeClassName (TS-TARGETS refuses it).
            "gpu-node": {
                "resources": {"limits": {"nvidia.com/gpu": 1}},
                "nodeSelector": GPU_PROFILE["nodeSelector"],
                "tolerations": GPU_PROFILE["tolerations"],
                "queue": "team-a-gpu",
            },
            "cpu": {"resources": {"requests": {"cpu": 1.5, "memory": "4Gi"}, "limits": {"memory": "4Gi"}}},
        },
        "gitops": {
            "repoURL": "https://git.example.com/ml/hpo.git",
            "revision": "release-1",
            "path": "deploy/hpo",
            "argocd": {"namespace": "gitops", "project": "ml", "server": "https://kubernetes.default.svc"},
            "flux": {"namespace": "gitops", "interval": "1h30m", "dependsOn": ["katib", "training-operator"]},
        },
    },
}
POD_EXTRAS: dict[str, Any] = {
    "imagePullPolicy": "IfNotPresent",
    "volumes": [{"name": "data", "emptyDir": {}}],
    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    "pod": {"serviceAccountName": "trainer", "securityContext": {"runAsNonRoot": True}},
    "container": {"securityContext": {"allowPrivilegeEscalation": False}},
}
# kind -> (short-form trial fields, replica field, roles, primary container)
KIND_TRIALS: dict[str, tuple[dict[str, Any], str | None, tuple[str, ...], str]] = {
    "Job": (POD_EXTRAS, None, (), "training"),
    "TFJob": (
        {**POD_EXTRAS, "replicas": {"Chief": 1, "PS": 1, "Worker": 2}},
        "tfReplicaSpecs",
        ("Chief", "PS", "Worker"),
        "tensorflow",
    ),
    "PyTorchJob": (
        {
            **POD_EXTRAS,
            "replicas": {
                "Master": 1,
                "Worker": {"replicas": 2, "restartPolicy": "ExitCode", "env": {"ROLE": "worker"}},
            },
        },
        "pytorchReplicaSpecs",
        ("Master", "Worker"),
        "pytorch",
    ),
    "XGBoostJob": (
        {**POD_EXTRAS, "replicas": {"Master": 1, "Worker": 2}},
        "xgbReplicaSpecs",
        ("Master", "Worker"),
        "xgboost",
    ),
    "MPIJob": (
        {
            **POD_EXTRAS,
            "replicas": {
                "Launcher": {"replicas": 1, "command": ["mpirun", "-n", "2", "python", "/train.py"]},
                "Worker": 2,
            },
        },
        "mpiReplicaSpecs",
        ("Launcher", "Worker"),
        "mpi",
    ),
    "PaddleJob": (
        {**POD_EXTRAS, "replicas": {"Master": 1, "Worker": 2}},
        "paddleReplicaSpecs",
        ("Master", "Worker"),
        "paddle",
    ),
    "JAXJob": ({**POD_EXTRAS, "replicas": {"Worker": 2}}, "jaxReplicaSpecs", ("Worker",), "jax"),
    "TrainJob": ({"runtime": "torch-distributed", "replicas": {"node": 2}}, None, (), "node"),
}
SUCCEEDED = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
COMPLETE = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
FAILED = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
MASTER = {"training.kubeflow.org/job-role": "master"}
# kind -> (successCondition, failureCondition, primaryPodLabels): Katib's defaults,
# and for PaddleJob and JAXJob (which Katib does not default) the generator's own.
CONDITIONS: dict[str, tuple[str, str, dict[str, str] | None]] = {
    "Job": (COMPLETE, FAILED, None),
    **dict.fromkeys(
        ("TFJob", "PyTorchJob", "XGBoostJob", "MPIJob", "PaddleJob", "JAXJob"), (SUCCEEDED, FAILED, MASTER)
    ),
    "TrainJob": (
        COMPLETE,
        FAILED,
        {"jobset.sigs.k8s.io/replicatedjob-name": "node", "batch.kubernetes.io/job-completion-index": "0"},
    ),
}


def kind_spec(kind: str) -> dict[str, Any]:
    extra = KIND_TRIALS[kind][0]
    return {
        "apiVersion": "katib-gitops.dev/v1alpha1",
        "kind": "TuningSpec",
        "metadata": {"name": f"kinds-{kind.lower()}"},
        "spec": {
            "objective": {"type": "maximize", "goal": 0.9, "metric": "accuracy"},
            "algorithm": {"name": "random"},
            "budget": {"maxTrials": 4, "parallelTrials": 2},
            "parameters": [
                {"name": "--lr", "type": "double", "min": 0.01, "max": 0.1},
                {"name": "batch_size", "type": "int", "min": 16, "max": 64, "pass": {"env": "BATCH_SIZE"}},
                {
                    "name": "optimizer",
                    "type": "categorical",
                    "values": ["sgd", "adam"],
                    "pass": {"flag": "--optimizer", "style": "equals"},
                },
            ],
            "trial": {
                "kind": kind,
                "image": f"{IMAGE}:1.0",
                "command": ["python", "/train.py"],
                "env": {"EPOCHS": 2},
                "resources": {"requests": {"cpu": 0.5, "memory": "2Gi"}, "limits": {"memory": "8Gi"}},
                **copy.deepcopy(extra),
            },
            "targets": {"namespaces": ["team-a"], "profiles": ["gpu-node" if kind == "TrainJob" else "gpu", "cpu"]},
        },
    }


@pytest.fixture(scope="module")
def kinds_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SpecSet, list[Expansion]]:
    """One spec per trial kind, through the real pipeline (load, checks, expand)."""
    folder = write_specs(tmp_path_factory.mktemp("kinds"), *(kind_spec(k) for k in KIND_TRIALS), targets=TARGETS)
    spec_set = planning.load(folder)
    return spec_set, overlays.expand(spec_set)


@pytest.fixture
def by_kind(kinds_run: tuple[SpecSet, list[Expansion]]) -> dict[str, Expansion]:
    return {e.spec.trial["kind"]: e for e in kinds_run[1]}


def overlay(expansion: Expansion, profile: str) -> dict[str, Any]:
    return next(o.experiment for o in expansion.overlays if o.profile.startswith(profile))


def pod_specs(trial: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Pod spec by role ('' for a Job)."""
    _, field, _, _ = KIND_TRIALS[kind]
    if field is None:
        return {"": trial["spec"]["template"]["spec"]}
    return {role: r["template"]["spec"] for role, r in trial["spec"][field].items()}


def primary(pod: dict[str, Any], name: str) -> dict[str, Any]:
    matching = [c for c in pod["containers"] if c["name"] == name]
    assert len(matching) == 1, f"expected one container named {name!r}, got {[c['name'] for c in pod['containers']]}"
    return matching[0]


def test_every_supported_trial_kind_is_covered() -> None:
    schema = json.loads(ours.schema_text("tuningspec"))  # the trial kinds filled in from KINDS
    assert (
        set(KIND_TRIALS)
        == set(kinds.KINDS)
        == set(schema["properties"]["spec"]["properties"]["trial"]["properties"]["kind"]["enum"])
    )


@pytest.mark.parametrize("kind", list(KIND_TRIALS))
def test_trial_specs_of_every_kind_validate(
    kind: str, by_kind: dict[str, Expansion], crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    expansion = by_kind[kind]
    assert len(expansion.overlays) == 2
    for experiment in experiments([expansion]):
        trial = trial_object(experiment)
        assert trial["kind"] == kind
        if kind == "Job":
            assert_valid_job(trial)
        else:
            assert_valid(trial, crds)


@pytest.mark.parametrize("kind", [k for k in KIND_TRIALS if k != "Job"])
def test_a_misspelled_field_in_a_trial_spec_would_be_caught(
    kind: str, by_kind: dict[str, Expansion], crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    trial = trial_object(overlay(by_kind[kind], "gpu"))
    trial["spec"]["sepc"] = {}
    assert problems(trial, crds) == ["spec.sepc: unknown field 'sepc'"]


def test_a_misspelled_field_in_a_job_would_be_caught(by_kind: dict[str, Expansion]) -> None:
    job = trial_object(overlay(by_kind["Job"], "gpu"))
    job["spec"]["template"]["spec"]["nodeSelecter"] = {}
    with pytest.raises(pytest.fail.Exception, match="nodeSelecter"):
        assert_valid_job(job)


@pytest.mark.parametrize("kind", list(KIND_TRIALS))
def test_primary_container_conditions_and_labels(kind: str, by_kind: dict[str, Expansion]) -> None:
    success, failure, labels = CONDITIONS[kind]
    name = KIND_TRIALS[kind][3]
    for experiment in experiments([by_kind[kind]]):
        template = experiment["spec"]["trialTemplate"]
        assert template["primaryContainerName"] == name
        assert (template["successCondition"], template["failureCondition"]) == (success, failure)
        assert template.get("primaryPodLabels") == labels
        if kind != "TrainJob":
            for pod in pod_specs(template["trialSpec"], kind).values():
                primary(pod, name)


@pytest.mark.parametrize("kind", list(KIND_TRIALS))
def test_parameters_reach_the_primary_container(kind: str, by_kind: dict[str, Expansion]) -> None:
    trial = by_kind[kind].base["spec"]["trialTemplate"]["trialSpec"]
    if kind == "TrainJob":
        containers = [trial["spec"]["trainer"]]
    else:
        containers = [primary(pod, KIND_TRIALS[kind][3]) for pod in pod_specs(trial, kind).values()]
    for container in containers:
        assert container["args"][-3:] == ["--lr", "${trialParameters.lr}", "--optimizer=${trialParameters.optimizer}"]
        assert {"name": "BATCH_SIZE", "value": "${trialParameters.batchSize}"} in container["env"]
        assert {"name": "EPOCHS", "value": "2"} in container["env"]


# kind -> the roles that compute: they, and only they, get a profile's resources, nodeSelector,
# tolerations and runtimeClassName by default (docs/spec.md, "Which roles a profile reaches").
COMPUTE_ROLES: dict[str, tuple[str, ...]] = {
    "Job": ("",),
    "TFJob": ("Chief", "Worker"),  # not PS
    "PyTorchJob": ("Master", "Worker"),
    "XGBoostJob": ("Master", "Worker"),
    "MPIJob": ("Worker",),  # not the Launcher
    "PaddleJob": ("Worker",),  # not the Master, a parameter server
    "JAXJob": ("Worker",),
}


@pytest.mark.parametrize("kind", [k for k in KIND_TRIALS if k != "TrainJob"])
def test_a_gpu_profile_lands_on_the_roles_that_compute(kind: str, by_kind: dict[str, Expansion]) -> None:
    _, _, roles, name = KIND_TRIALS[kind]
    trial = overlay(by_kind[kind], "gpu")["spec"]["trialTemplate"]["trialSpec"]
    pods = pod_specs(trial, kind)
    assert sorted(pods) == sorted(roles or ("",))
    for role, pod in pods.items():
        container = primary(pod, name)
        assert container["image"] == f"{IMAGE}:1.0-cuda", role  # images: every container of every role
        if role in COMPUTE_ROLES[kind]:
            assert container["resources"]["limits"] == {"memory": "8Gi", "nvidia.com/gpu": 1}, role
            assert container["resources"]["requests"] == {"cpu": "4", "memory": "16Gi"}, role
            assert pod["nodeSelector"] == GPU_PROFILE["nodeSelector"], role
            assert pod["tolerations"] == GPU_PROFILE["tolerations"], role
            assert pod["runtimeClassName"] == "nvidia", role
        else:  # the trial's own resources, nothing of the profile
            assert container["resources"] == {"requests": {"cpu": "0.5", "memory": "2Gi"}, "limits": {"memory": "8Gi"}}
            assert not {"nodeSelector", "tolerations", "runtimeClassName"} & set(pod), role
    cpu = overlay(by_kind[kind], "cpu")["spec"]["trialTemplate"]["trialSpec"]
    assert "nvidia.com/gpu" not in json.dumps(cpu)


def test_a_gpu_profile_sets_the_resources_of_every_train_job_node(by_kind: dict[str, Expansion]) -> None:
    trial = overlay(by_kind["TrainJob"], "gpu")["spec"]["trialTemplate"]["trialSpec"]
    trainer = trial["spec"]["trainer"]
    assert trial["spec"]["runtimeRef"] == {"name": "torch-distributed"}
    assert trainer["numNodes"] == 2
    assert trainer["resourcesPerNode"] == {
        "requests": {"cpu": "0.5", "memory": "2Gi"},
        "limits": {"memory": "8Gi", "nvidia.com/gpu": 1},
    }
    cpu = overlay(by_kind["TrainJob"], "cpu")["spec"]["trialTemplate"]["trialSpec"]
    assert cpu["spec"]["trainer"]["resourcesPerNode"]["requests"] == {"cpu": "1.5", "memory": "4Gi"}


def test_a_train_job_profile_reaches_the_trainer_pods_through_runtime_patches(
    by_kind: dict[str, Expansion], crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    base = by_kind["TrainJob"].base["spec"]["trialTemplate"]["trialSpec"]
    gpu = overlay(by_kind["TrainJob"], "gpu")["spec"]["trialTemplate"]["trialSpec"]
    cpu = overlay(by_kind["TrainJob"], "cpu")["spec"]["trialTemplate"]["trialSpec"]
    istio = {"labels": {"sidecar.istio.io/inject": "false"}}

    def ours(pod_template: dict[str, Any]) -> list[dict[str, Any]]:
        node = {"name": "node", "template": {"spec": {"template": pod_template}}}
        return [
            {
                "manager": "katib-gitops.dev/manager",
                "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [node]}}},
            }
        ]

    pod = {"nodeSelector": GPU_PROFILE["nodeSelector"], "tolerations": GPU_PROFILE["tolerations"]}
    assert gpu["spec"]["runtimePatches"] == ours({"metadata": istio, "spec": pod})
    # the Istio opt-out reaches the trainer pods of every overlay, and of the base, through the same patch
    assert base["spec"]["runtimePatches"] == cpu["spec"]["runtimePatches"] == ours({"metadata": istio})
    ours_schema = manifests.validator("trainjob", manifests.latest_kubernetes())
    for trial in (base, gpu, cpu):  # the upstream TrainJob CRD (v2.3.0) and our schema accept it
        assert problems(fill_placeholders(trial), crds) == []
        assert [e.message for e in ours_schema.iter_errors(fill_placeholders(trial))] == []


QUEUE = {"kueue.x-k8s.io/queue-name": "team-a-gpu"}


@pytest.mark.parametrize("kind", list(KIND_TRIALS))
def test_a_profile_queue_labels_the_trial_job_itself(
    kind: str, by_kind: dict[str, Expansion], crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    # Kueue reads kueue.x-k8s.io/queue-name from the job (batch Job, the Kubeflow v1 jobs, TrainJob)
    gpu = overlay(by_kind[kind], "gpu")
    assert trial_object(gpu)["metadata"] == {"labels": QUEUE}
    for experiment in (by_kind[kind].base, overlay(by_kind[kind], "cpu")):  # a profile without a queue
        assert "metadata" not in experiment["spec"]["trialTemplate"]["trialSpec"]
    # the queue is the overlay's: one JSON6902 add of the trial job's metadata
    patch = next(o.patch for o in by_kind[kind].overlays if o.profile.startswith("gpu"))
    assert {"op": "add", "path": "/spec/trialTemplate/trialSpec/metadata", "value": {"labels": QUEUE}} in patch
    if kind == "Job":
        assert_valid_job(trial_object(gpu))
    else:  # the upstream CRD of the kind accepts it
        assert_valid(trial_object(gpu), crds)


@pytest.mark.parametrize("kind", [k for k in KIND_TRIALS if k != "TrainJob"])
def test_fractional_quantities_are_written_as_strings(kind: str, by_kind: dict[str, Expansion]) -> None:
    # A CRD types quantities int-or-string: the API server refuses cpu: 0.5 (a float).
    name = KIND_TRIALS[kind][3]
    for profile, cpu in (("", "0.5"), ("cpu", "1.5")):
        experiment = overlay(by_kind[kind], profile) if profile else by_kind[kind].base
        for role, pod in pod_specs(experiment["spec"]["trialTemplate"]["trialSpec"], kind).items():
            computes = profile and role in COMPUTE_ROLES[kind]
            assert primary(pod, name)["resources"]["requests"]["cpu"] == (cpu if computes else "0.5"), role


def test_gitops_objects_with_every_setting_validate(
    kinds_run: tuple[SpecSet, list[Expansion]], crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    spec_set, expansions = kinds_run
    settings = spec_set.targets.gitops
    assert settings is not None and settings.flux_depends_on
    appsets = [gitops.application_set(settings, e) for e in expansions]
    flux = [gitops.git_repository(settings), *gitops.flux_kustomizations(settings, expansions)]
    for obj in [*appsets, *(app for appset in appsets for app in applications(appset)), *flux]:
        assert_valid(obj, crds)
    assert flux[1]["spec"]["dependsOn"] == [{"name": "katib"}, {"name": "training-operator"}]
