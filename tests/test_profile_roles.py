"""Which roles a profile reaches: the roles that compute by default, per-role choices in the spec."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml

from katib_gitops.commands.generate import planning
from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.expand import overlays
from katib_gitops.kustomize import render
from tests.helpers import TARGETS, spec, write_katib_config, write_specs
from tests.test_upstream_schemas import COMPUTE_ROLES, GPU_PROFILE, KIND_TRIALS, kind_spec

PROFILE_POD = ("nodeSelector", "tolerations", "runtimeClassName")
KIND_TARGETS: dict[str, Any] = {
    "apiVersion": "katib-gitops.dev/v1alpha1",
    "kind": "Targets",
    "spec": {"namespaces": ["team-a"], "profiles": {"gpu": GPU_PROFILE}},
}


def _replicas(experiment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pod spec by role ('' for a Job's one pod)."""
    trial = experiment["spec"]["trialTemplate"]["trialSpec"]
    if "template" in trial["spec"]:
        return {"": trial["spec"]["template"]["spec"]}
    (field,) = (k for k in trial["spec"] if k.endswith("ReplicaSpecs"))
    return {role: r["template"]["spec"] for role, r in trial["spec"][field].items()}


def _placement(experiment: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Per role: what of the gpu profile its pod has (GPU limit first, then its pod fields)."""
    out = {}
    for role, pod in _replicas(experiment).items():
        gpu = any("nvidia.com/gpu" in (c.get("resources") or {}).get("limits", {}) for c in pod["containers"])
        out[role] = ("gpu",) * gpu + tuple(k for k in PROFILE_POD if k in pod)
    return out


def _key(resource: dict[str, Any]) -> tuple[str, ...]:
    meta = resource.get("metadata", {})
    return (resource.get("apiVersion", ""), resource.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


@pytest.fixture(scope="module")
def kinds_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`generate` of one spec per replica kind (TrainJob aside) into a folder, as a user would run it."""
    root = tmp_path_factory.mktemp("roles")
    specs = [kind_spec(k) for k in KIND_TRIALS if k != "TrainJob"]
    for data in specs:
        data["spec"]["targets"]["profiles"] = ["gpu"]
    folder = write_specs(root, *specs, targets=KIND_TARGETS)
    config = write_katib_config(root / "katib-config.yaml")  # PaddleJob and JAXJob trials run once it lists them
    generate(GenerateOptions(specs_dir=folder, out_dir=root / "overlays", katib_config=config))
    return root


@pytest.mark.parametrize("kind", [k for k in KIND_TRIALS if k != "TrainJob"])
def test_the_gpu_profile_reaches_the_roles_that_compute_in_kubectl_kustomize(
    kind: str, kinds_out: Path, kubectl: str
) -> None:
    overlay = kinds_out / "overlays" / f"kinds-{kind.lower()}" / "team-a" / "gpu"
    built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=True).stdout
    (theirs,) = sorted(pyyaml.safe_load_all(built), key=_key)
    (ours,) = render.render(render.DiskFiles(kinds_out), overlay.relative_to(kinds_out).as_posix())
    assert ours == theirs
    every = ("gpu", *PROFILE_POD)
    expected = {role: every if role in COMPUTE_ROLES[kind] else () for role in KIND_TRIALS[kind][2] or ("",)}
    assert _placement(theirs) == expected


def _expansion(tmp_path: Path, trial: dict[str, Any], profiles: dict[str, Any] | None = None) -> overlays.Expansion:
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["profiles"] = profiles or {"gpu": GPU_PROFILE}
    data = spec(trial=trial, targets={"namespaces": ["team-a"], "profiles": sorted(targets["spec"]["profiles"])})
    (expansion,) = overlays.expand(planning.load(write_specs(tmp_path, data, targets=targets)))
    return expansion


def _gpu(expansion: overlays.Expansion) -> dict[str, Any]:
    return next(o.experiment for o in expansion.overlays if o.profile == "gpu")


def test_an_mpi_launcher_keeps_its_own_small_cpu_request_and_gets_no_gpu(tmp_path: Path) -> None:
    trial = {
        "kind": "MPIJob",
        "image": "example.com/train:1.0",
        "replicas": {"Launcher": {"resources": {"requests": {"cpu": "500m"}}}, "Worker": 2},
    }
    pods = _replicas(_gpu(_expansion(tmp_path, trial)))
    assert pods["Launcher"]["containers"][0]["resources"] == {"requests": {"cpu": "500m"}}
    assert not set(PROFILE_POD) & set(pods["Launcher"])
    assert pods["Worker"]["containers"][0]["resources"] == GPU_PROFILE["resources"]


def test_profile_roles_in_the_spec_choose_per_role(tmp_path: Path) -> None:
    trial = {
        "kind": "TFJob",
        "image": "example.com/train:1.0",
        "replicas": {"Chief": 1, "PS": 1, "Worker": 2, "Evaluator": 1},
        # GPUs on the Evaluator too; the PS on the GPU nodes (it tolerates their taint) without a GPU;
        # the Chief with nothing of the profile.
        "profileRoles": {"Evaluator": True, "PS": ["nodeSelector", "tolerations"], "Chief": False},
    }
    every = ("gpu", *PROFILE_POD)
    assert _placement(_gpu(_expansion(tmp_path, trial))) == {
        "Chief": (),
        "PS": ("nodeSelector", "tolerations"),
        "Worker": every,
        "Evaluator": every,
    }


def test_the_profiles_roles_replace_the_default_and_the_spec_wins_over_both(tmp_path: Path) -> None:
    trial = {
        "kind": "MPIJob",
        "image": "example.com/train:1.0",
        "replicas": {"Launcher": 1, "Worker": 2},
        "profileRoles": {"Worker": ["resources"]},
    }
    profile = {**GPU_PROFILE, "roles": ["Launcher", "Worker"]}
    assert _placement(_gpu(_expansion(tmp_path, trial, {"gpu": profile}))) == {
        "Launcher": ("gpu", *PROFILE_POD),  # the profile's roles name it
        "Worker": ("gpu",),  # the spec's profileRoles: resources only
    }


def _problems(tmp_path: Path, trial: dict[str, Any], profiles: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["profiles"] = profiles
    data = spec(trial=trial, targets={"namespaces": ["team-a"], "profiles": sorted(profiles)})
    try:
        planning.load(write_specs(tmp_path, data, targets=targets))
    except FindingsError as exc:
        return [(d.rule_id, d.path, d.message, d.line) for d in exc.diagnostics]
    return []


def test_profile_roles_name_roles_of_the_trial(tmp_path: Path) -> None:
    trial = {
        "kind": "MPIJob",
        "image": "x",
        "replicas": {"Launcher": 1, "Worker": 1},
        "profileRoles": {"Launcher": True, "Master": True},
    }
    found = _problems(tmp_path, trial, {"gpu": {}})
    assert [f[:3] for f in found] == [
        ("TS-TRIAL-ROLES", "spec.trial.profileRoles.Master", "unknown role 'Master' for MPIJob"),
    ]
    assert found[0][3] == _line(tmp_path, "Master: true")
    trial = {"kind": "TFJob", "image": "x", "replicas": {"Worker": 1}, "profileRoles": {"Evaluator": True}}
    assert [f[:3] for f in _problems(tmp_path, trial, {"gpu": {}})] == [
        ("TS-TRIAL-ROLES", "spec.trial.profileRoles.Evaluator", "this trial has no role 'Evaluator'"),
    ]


def _line(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "specs" / "demo.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


TRAIN_JOB = {"kind": "TrainJob", "image": "x", "runtime": "torch-distributed"}


def test_a_train_job_takes_a_profile_with_node_selector_and_tolerations(tmp_path: Path) -> None:
    profile = {k: v for k, v in GPU_PROFILE.items() if k != "runtimeClassName"}
    assert _problems(tmp_path, TRAIN_JOB, {"gpu": profile}) == []


def test_a_train_job_still_refuses_a_profile_runtime_class(tmp_path: Path) -> None:
    assert [f[:3] for f in _problems(tmp_path, TRAIN_JOB, {"gpu": GPU_PROFILE})] == [
        (
            "TS-TARGETS",
            "spec.targets.profiles[0]",
            "profile 'gpu' sets runtimeClassName, which a TrainJob cannot carry",
        )
    ]
    # unless the spec keeps it from the trainer node
    trial = {**TRAIN_JOB, "profileRoles": {"node": ["resources", "nodeSelector", "tolerations"]}}
    assert _problems(tmp_path, trial, {"gpu": GPU_PROFILE}) == []
