"""Overlays: one per (namespace, profile); profile differences are JSON6902 patches."""

from __future__ import annotations

from pathlib import Path

from katib_gitops.commands.generate import planning
from katib_gitops.expand import overlays

MASTER_WORKER = ("Master", "Worker")


def _pytorch(repo_specs: Path) -> overlays.Expansion:
    spec_set = planning.load(repo_specs)
    return next(e for e in overlays.expand(spec_set) if e.spec.name == "mnist-pytorchjob")


def _containers(experiment: dict) -> dict[str, dict]:
    replicas = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    return {role: replicas[role]["template"]["spec"]["containers"][0] for role in replicas}


def test_every_spec_deploys_to_each_namespace_and_profile(repo_specs: Path) -> None:
    expansion = _pytorch(repo_specs)
    assert [(o.namespace, o.profile) for o in expansion.overlays] == [
        ("team-nlp", "cpu"),
        ("team-nlp", "gpu"),
        ("team-vision", "cpu"),
        ("team-vision", "gpu"),
    ]
    for overlay in expansion.overlays:
        assert overlay.experiment["metadata"]["namespace"] == overlay.namespace
    assert "namespace" not in expansion.base["metadata"]


def test_gpu_overlay_limits_gpus_on_master_and_worker(repo_specs: Path) -> None:
    gpu = next(o for o in _pytorch(repo_specs).overlays if o.profile == "gpu")
    for role, container in _containers(gpu.experiment).items():
        assert container["resources"]["limits"] == {"nvidia.com/gpu": 1}, role
    pod = gpu.experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Worker"]["template"][
        "spec"
    ]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert gpu.experiment["spec"]["parallelTrialCount"] == 2


def test_cpu_overlay_has_no_gpu_anywhere(repo_specs: Path) -> None:
    cpu = next(o for o in _pytorch(repo_specs).overlays if o.profile == "cpu")
    assert "nvidia.com/gpu" not in str(cpu.experiment)
    for container in _containers(cpu.experiment).values():
        assert container["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}


def test_patches_guard_each_container_by_name_and_never_replace_lists(repo_specs: Path) -> None:
    gpu = next(o for o in _pytorch(repo_specs).overlays if o.profile == "gpu")
    paths = [op["path"] for op in gpu.patch]
    for role in MASTER_WORKER:
        container = f"/spec/trialTemplate/trialSpec/spec/pytorchReplicaSpecs/{role}/template/spec/containers/0"
        assert {"op": "test", "path": f"{container}/name", "value": "pytorch"} in gpu.patch
        assert paths.index(f"{container}/name") < paths.index(f"{container}/resources")
    assert not any(p.endswith("/containers") for p in paths)


def test_overlay_kustomization_points_at_the_base_by_relative_path(repo_specs: Path) -> None:
    expansion = _pytorch(repo_specs)
    kustomization = overlays.overlay_kustomization(expansion, expansion.overlays[0])
    assert kustomization["resources"] == ["../../_base"]
    assert kustomization["patches"][0]["target"]["name"] == expansion.base["metadata"]["name"]
    assert set(kustomization) <= {"apiVersion", "kind", "namespace", "resources", "patches"}


def test_profile_images_runtime_class_and_roles(tmp_path: Path) -> None:
    from tests.helpers import TARGETS, write_specs

    profile = {
        "resources": {"limits": {"nvidia.com/gpu": 2}},
        "roles": ["Worker"],
        "runtimeClassName": "nvidia",
        "nodeSelector": {"pool": "a100"},
        "images": [{"name": "example.com/train", "newTag": "1.0-cuda"}],
    }
    targets = {**TARGETS, "spec": {**TARGETS["spec"], "profiles": {"gpu": profile, "cpu": {}}}}
    spec_set = planning.load(write_specs(tmp_path, targets=targets))
    (expansion,) = overlays.expand(spec_set)
    gpu = next(o for o in expansion.overlays if o.profile == "gpu")
    replicas = gpu.experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    master, worker = (replicas[r]["template"]["spec"] for r in MASTER_WORKER)
    assert "resources" not in master["containers"][0]
    assert worker["containers"][0]["resources"] == {"limits": {"nvidia.com/gpu": 2}}
    for pod in (master, worker):
        assert pod["runtimeClassName"] == "nvidia" and pod["nodeSelector"] == {"pool": "a100"}
        assert pod["containers"][0]["image"] == "example.com/train:1.0-cuda"
    cpu = next(o for o in expansion.overlays if o.profile == "cpu")
    assert [op["path"] for op in cpu.patch] == ["/metadata/name", "/metadata/annotations/katib-gitops.dev~1profile"]


def test_profiles_differing_only_in_counts_still_get_distinct_names(tmp_path: Path) -> None:
    from tests.helpers import TARGETS, write_specs

    profiles = {"small": {"budget": {"parallelTrials": 1}}, "big": {"budget": {"parallelTrials": 4}}}
    targets = {**TARGETS, "spec": {**TARGETS["spec"], "profiles": profiles}}
    from tests.helpers import spec

    data = spec(targets={"namespaces": ["team-a"], "profiles": ["small", "big"]})
    (expansion,) = overlays.expand(planning.load(write_specs(tmp_path, data, targets=targets)))
    names = [o.experiment["metadata"]["name"] for o in expansion.overlays]
    assert len(set(names)) == 2
    assert len({o.name for o in expansion.overlays}) == 2 and all(o.name.count(".") == 2 for o in expansion.overlays)


def test_a_raw_trial_spec_gets_the_istio_label_and_parameters(tmp_path: Path) -> None:
    from tests.helpers import spec, write_specs

    raw = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "training", "image": "x", "command": ["run"]}],
                }
            }
        },
    }
    (expansion,) = overlays.expand(planning.load(write_specs(tmp_path, spec(trial={"trialSpec": raw}))))
    template = expansion.base["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]
    assert template["metadata"] == {"labels": {"sidecar.istio.io/inject": "false"}}
    assert template["spec"]["containers"][0]["args"] == ["--lr", "${trialParameters.lr}"]


def test_overlays_of_a_profile_share_all_but_their_metadata_and_their_size_is_exact(repo_specs: Path) -> None:
    """generate checks every overlay's Experiment against the size limit (gitops.check_size); for a namespace's
    overlay it adds up the differences from its profile's first overlay (output_tree._variant_size), which must
    be the size measured in full, whatever the namespaces' lengths."""
    from katib_gitops.commands.generate import output_tree
    from katib_gitops.expand import gitops

    for expansion in overlays.expand(planning.load(repo_specs)):
        first: dict[str, dict] = {}
        for overlay in expansion.overlays:
            seen = first.setdefault(overlay.profile, overlay.experiment)
            assert overlay.experiment["spec"] is seen["spec"]  # shared: nothing changes a built object in place
            assert overlay.experiment["metadata"]["namespace"] == overlay.namespace
            for namespace in (overlay.namespace, "n", "a-much-longer-namespace-than-any-of-the-specs", "é"):
                variant = {**overlay.experiment, "metadata": {**overlay.experiment["metadata"], "namespace": namespace}}
                measured = output_tree._variant_size((seen, gitops.json_size(seen)), variant)
                assert measured == gitops.json_size(variant)
        unrelated = {**expansion.base, "extra": [1, {"a": "b"}]}
        measured = output_tree._variant_size((expansion.base, gitops.json_size(expansion.base)), unrelated)
        assert measured == gitops.json_size(unrelated)
