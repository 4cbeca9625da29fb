"""`katib-gitops plan` (issue 14, item 1): what a change to the specs does to the cluster, on real git histories.

Each test builds a repository, commits a base, changes the specs (committed or in the working tree)
and reads the plan. What a change does follows Katib's roll-out rules (docs/gitops.md, "Names and
roll-outs"): only the three counts can change in place (UPD-01), any other edit renames the
Experiment, and with prune off the old one keeps running.
"""

from __future__ import annotations

import json
import os
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.core import quantity
from katib_gitops.expand import demand

TARGETS = """\
apiVersion: katib-gitops.dev/v1alpha1
kind: Targets
metadata: {name: platform}
spec:
  namespaces: [team-a, team-b]
  profiles:
    gpu:
      resources:
        limits: {nvidia.com/gpu: 1}
      budget: {parallelTrials: 2}
    cpu:
      resources:
        requests: {cpu: "2"}
  gitops:
    repoURL: https://git.example.com/hpo.git
"""
SPEC = """\
apiVersion: katib-gitops.dev/v1alpha1
kind: TuningSpec
metadata: {{name: {name}}}
spec:
  objective: {{type: maximize, metric: accuracy}}
  algorithm: {{name: random}}
  budget: {{maxTrials: 12, parallelTrials: 3}}
  parameters:
    - {{name: --lr, type: double, min: 0.01, max: {high}}}
  trial:
    kind: PyTorchJob
    image: registry.example.com/train:1
    command: [python, /train.py]
    replicas: {{Master: 1, Worker: {workers}}}
  targets:
    namespaces: [{namespaces}]
    profiles: [gpu, cpu]
"""


def spec(name: str = "mnist", high: str = "0.1", workers: int = 1, namespaces: str = "team-a") -> str:
    return SPEC.format(name=name, high=high, workers=workers, namespaces=namespaces)


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


def repository(root: Path, **files: str) -> Path:
    """A repository on branch main whose first commit holds `files` (under specs/)."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, **files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def write(root: Path, **files: str) -> None:
    for name, text in files.items():
        path = root / "specs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def plan(root: Path, *args: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["plan", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def plan_json(root: Path, *args: str) -> dict[str, object]:
    code, out = plan(root, "--format", "json", *args)
    assert code in (0, 1), out
    loaded: dict[str, object] = json.loads(out)
    return loaded


def actions(report: dict[str, object]) -> dict[str, str]:
    return {c["target"]: c["action"] for c in report["changes"]}  # type: ignore[attr-defined]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return repository(tmp_path / "repo", **{"targets.yaml": TARGETS, "mnist.yaml": spec()})


# ------------------------------------------------------------------ what happens to each Experiment


def test_nothing_changed_is_every_target_unchanged(repo: Path) -> None:
    report = plan_json(repo)
    assert actions(report) == {"mnist/team-a/cpu": "unchanged", "mnist/team-a/gpu": "unchanged"}
    assert report["gitopsObjects"] == []


def test_a_count_edit_updates_in_place_with_katibs_caveats(repo: Path) -> None:
    write(repo, **{"mnist.yaml": spec().replace("maxTrials: 12", "maxTrials: 20")})
    code, out = plan(repo)
    assert code == 0
    assert "0 created, 2 updated, 0 metadata, 0 rolled-out, 0 removed, 0 unchanged" in out
    # The same name: Katib lets the counts change (UPD-01), but not on a finished Experiment whose
    # resumePolicy is Never (UPD-02), and never to at most the trials already run (UPD-03).
    assert "  mnist/team-a/gpu: mnist-" in out and ": maxTrialCount 12 -> 20\n" in out
    assert "caveat: refused if the Experiment has finished (UPD-02: resumePolicy Never never resumes)" in out
    assert "caveat: refused if 20 or more trials have already run (UPD-03)" in out


def test_a_range_edit_rolls_out_a_new_name_and_leaves_the_old_one_running(repo: Path) -> None:
    before = {c["target"]: c["name"] for c in plan_json(repo)["changes"]}  # type: ignore[attr-defined]
    write(repo, **{"mnist.yaml": spec(high="0.2")})
    report = plan_json(repo)
    changes = {c["target"]: c for c in report["changes"]}  # type: ignore[attr-defined]
    for target in ("mnist/team-a/cpu", "mnist/team-a/gpu"):
        assert changes[target]["action"] == "rolled-out"
        assert changes[target]["old_name"] == before[target] != changes[target]["name"]
    code, out = plan(repo)
    assert code == 0
    old = before["mnist/team-a/gpu"]
    assert f"retire it: kubectl delete experiment {old} -n team-a (after saving its results)" in out
    # The old Experiment keeps its GPUs until retired: 2 parallel trials x 2 pods x 1 GPU, twice.
    assert "namespace team-a: nvidia.com/gpu 4 -> nvidia.com/gpu 4 (nvidia.com/gpu 8 while old ones run)" in out


def test_a_profile_edit_renames_the_experiments_of_that_profile_only(repo: Path) -> None:
    write(repo, **{"targets.yaml": TARGETS.replace("limits: {nvidia.com/gpu: 1}", "limits: {nvidia.com/gpu: 2}")})
    report = plan_json(repo)
    assert actions(report) == {"mnist/team-a/cpu": "unchanged", "mnist/team-a/gpu": "rolled-out"}
    namespace = report["demand"]["namespaces"][0]  # type: ignore[index]
    assert namespace["before"]["limits"] == {"nvidia.com/gpu": "4"}
    assert namespace["after"]["limits"] == {"nvidia.com/gpu": "8"}
    assert namespace["whileOldRun"]["limits"] == {"nvidia.com/gpu": "12"}


def test_a_removed_spec_is_left_in_the_cluster_with_its_gitops_objects_removed(repo: Path) -> None:
    (repo / "specs" / "mnist.yaml").unlink()
    write(repo, **{"other.yaml": spec(name="other")})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "replace mnist")
    code, out = plan(repo, "--base", "HEAD~1", "--head", "HEAD")
    assert code == 0
    assert "Removed from Git (left in the cluster: prune is off):" in out
    # the repository's own names: katib-gitops-<repository>-<hash of https://git.example.com/hpo.git>
    assert "  removed: ApplicationSet argocd/katib-gitops-hpo-6ccb1a.mnist" in out
    assert "  added: ApplicationSet argocd/katib-gitops-hpo-6ccb1a.other" in out
    assert "  removed: Application argocd/mnist.team-a.gpu" in out  # what the ApplicationSets create
    assert "  added: Application argocd/other.team-a.gpu" in out
    assert "  added: Kustomization flux-system/other.team-a.gpu" in out
    report = plan_json(repo, "--base", "HEAD~1", "--head", "HEAD")
    assert actions(report) == {
        "mnist/team-a/cpu": "removed",
        "mnist/team-a/gpu": "removed",
        "other/team-a/cpu": "created",
        "other/team-a/gpu": "created",
    }


def test_a_new_namespace_creates_its_experiments_and_its_demand(repo: Path) -> None:
    write(repo, **{"mnist.yaml": spec(namespaces="team-a, team-b")})
    report = plan_json(repo)
    assert actions(report) == {
        "mnist/team-a/cpu": "unchanged",
        "mnist/team-a/gpu": "unchanged",
        "mnist/team-b/cpu": "created",
        "mnist/team-b/gpu": "created",
    }
    rows = {r["group"]: r for r in report["demand"]["namespaces"]}  # type: ignore[index]
    assert rows["team-b"]["before"]["limits"] == {} and rows["team-b"]["after"]["limits"]["nvidia.com/gpu"] == "4"


def test_a_label_edit_updates_metadata_in_place(repo: Path) -> None:
    labelled = spec().replace("metadata: {name: mnist}", "metadata: {name: mnist, labels: {team: a}}")
    write(repo, **{"mnist.yaml": labelled})
    assert set(actions(plan_json(repo)).values()) == {"metadata"}


# ------------------------------------------------------------------ quotas


def test_a_quota_the_change_exceeds_fails_the_plan(repo: Path) -> None:
    quotas = "  quotas:\n    team-a: {requests.nvidia.com/gpu: 6}\n"
    write(repo, **{"targets.yaml": TARGETS + quotas})
    assert plan(repo)[0] == 0  # 4 GPUs at full parallelism: within 6
    write(repo, **{"mnist.yaml": spec(workers=3)})  # 2 trials x 4 pods x 1 GPU: 8
    code, out = plan(repo)
    assert code == 1
    assert "error: team-a: requests.nvidia.com/gpu 8 at full parallelism, quota 6 (Targets quotas)" in out


def test_a_quota_exceeded_only_while_old_experiments_run_is_a_warning(repo: Path) -> None:
    write(repo, **{"targets.yaml": TARGETS + "  quotas:\n    team-a: {requests.nvidia.com/gpu: 6}\n"})
    git(repo, "commit", "-qam", "quota")
    write(repo, **{"mnist.yaml": spec(high="0.3")})  # renamed: 4 new + 4 left running
    code, out = plan(repo, "--base", "HEAD")
    assert code == 0
    assert "warning: team-a: requests.nvidia.com/gpu 8 while the Experiments left running still run, quota 6" in out


def test_resourcequota_manifests_replace_the_targets_quotas(repo: Path, tmp_path: Path) -> None:
    quota = tmp_path / "quota.yaml"
    quota.write_text(
        "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: gpus, namespace: team-a}\n"
        "spec:\n  hard: {requests.nvidia.com/gpu: '2', pods: '50'}\n"
    )
    code, out = plan(repo, "--quota", str(quota))
    assert code == 1
    assert "error: team-a: requests.nvidia.com/gpu 4 at full parallelism, quota 2 (--quota)" in out
    quota.write_text(quota.read_text().replace("'2'", "oops"))
    code, out = plan(repo, "--quota", str(quota))
    assert code == 2 and "quota.yaml:5:35: 'oops' is not a quantity" in out, out


# ------------------------------------------------------------------ formats and errors


def test_markdown_is_a_pull_request_comment(repo: Path) -> None:
    write(repo, **{"mnist.yaml": spec(high="0.2")})
    code, out = plan(repo, "--format", "markdown")
    assert code == 0
    assert out.startswith("### katib-gitops plan: `")
    assert "| `mnist/team-a/gpu` | Rolled out under a new name (the old Experiment is left running) | `mnist-" in out
    assert "| `team-a` | nvidia.com/gpu 4 | nvidia.com/gpu 4 | nvidia.com/gpu 8 | none |" in out


def test_the_default_base_is_the_merge_base_with_main(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, **{"mnist.yaml": spec(high="0.2")})
    git(repo, "commit", "-qam", "edit")
    code, out = plan(repo, "--head", "HEAD")
    assert code == 0 and "(merge base with main) -> " in out and "2 rolled-out" in out


def test_a_specs_folder_added_by_the_change_is_all_created(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README").write_text("x")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "empty")
    write(root, **{"targets.yaml": TARGETS, "mnist.yaml": spec()})
    assert set(actions(plan_json(root)).values()) == {"created"}


def test_outside_a_repository_or_with_a_bad_revision_is_a_usage_error(tmp_path: Path, repo: Path) -> None:
    (tmp_path / "alone" / "specs").mkdir(parents=True)
    code, out = plan(tmp_path / "alone")
    assert code == 2 and "git rev-parse" in out
    code, out = plan(repo, "--base", "no-such-rev")
    assert code == 2 and "--base no-such-rev: no such commit in " in out, out
    code, out = plan(repo, "--head", "HEAD~5")
    assert code == 2 and "--head HEAD~5: no such commit" in out, out


def test_errors_in_the_changed_specs_are_findings(repo: Path) -> None:
    write(repo, **{"mnist.yaml": spec().replace("maxTrials: 12", "maxTrials: 0")})
    code, out = plan(repo)
    assert code == 1 and "specs/mnist.yaml:" in out, out


# ------------------------------------------------------------------ demand, as the scheduler counts it


def test_a_pod_asks_for_its_containers_and_sidecars_or_its_largest_init_container() -> None:
    template = {
        "spec": {
            "initContainers": [
                {"name": "fetch", "resources": {"requests": {"cpu": "3"}}},
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
            ],
            "containers": [{"name": "main", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": 1}}}],
        }
    }
    got = demand.pod(template)
    # Requests default to limits; the sidecar runs beside the container; the 3-CPU init container runs alone.
    assert got.requests == {"cpu": Fraction(3), "nvidia.com/gpu": Fraction(1)}
    assert got.limits == {"cpu": Fraction(1), "nvidia.com/gpu": Fraction(1)}


def test_extended_resources_are_the_domain_qualified_names_outside_kubernetes_io() -> None:
    assert quantity.is_extended("nvidia.com/gpu") and quantity.is_extended("amd.com/gpu")
    assert not quantity.is_extended("cpu") and not quantity.is_extended("kubernetes.io/batch-cpu")
    assert not quantity.is_extended("requests.nvidia.com/gpu")  # a quota's name for it


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Fraction(1, 2)), ("2Gi", Fraction(2 * 1024**3)), ("1e3", Fraction(1000)), ("1.5", Fraction(3, 2))],
)
def test_quantities_are_read_as_the_api_server_reads_them(text: str, value: Fraction) -> None:
    assert quantity.parse(text) == value
    assert quantity.parse(quantity.text(value)) == value


# ------------------------------------------------------------------ the CI recipe of docs/gitops.md


def test_the_pull_request_recipe_parses_and_its_plan_step_works(repo: Path) -> None:
    import re
    import shlex

    import yaml

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "gitops.md").read_text()
    (recipe,) = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL) if "katib-gitops plan" in b]
    workflow = yaml.safe_load(recipe)
    steps = workflow["jobs"]["plan"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0  # the merge base needs the history
    assert workflow["permissions"]["pull-requests"] == "write"
    (step,) = [s for s in steps if s.get("id") == "plan"]
    # As on a pull request from branch `feature` into main, where checkout has fetched origin/main.
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, **{"mnist.yaml": spec(high="0.2")})
    git(repo, "commit", "-qam", "edit")
    command, _, target = step["run"].replace("${{ github.base_ref }}", "main").partition(" > ")
    code, out = plan(repo, *shlex.split(command)[2:])
    assert code == 0 and target == "plan.md"
    assert out.startswith("### katib-gitops plan: `") and "Rolled out under a new name" in out


# ------------------------------------------------------------------ clusters (gitops.clusters)

CLUSTERS = """\
    clusters:
      prod-eu: {destinationName: prod-eu, kubeConfigSecret: prod-eu-kubeconfig}
      prod-us: {destinationName: prod-us, kubeConfigSecret: prod-us-kubeconfig}
"""


def clustered(clusters: str) -> str:
    return spec().replace("    profiles: [gpu, cpu]\n", f"    profiles: [gpu, cpu]\n    clusters: [{clusters}]\n")


def test_a_cluster_added_to_a_spec_creates_its_experiments_there_and_its_gitops_objects(tmp_path: Path) -> None:
    """A target is cluster x namespace x profile: the same overlay, a new Application and Kustomization on the new
    cluster, whose namespaces get the demand (each cluster has its own quota of the namespace)."""
    quotas = "  quotas:\n    team-a: {requests.nvidia.com/gpu: 4}\n"
    repo = repository(
        tmp_path / "repo", **{"targets.yaml": TARGETS + CLUSTERS + quotas, "mnist.yaml": clustered("prod-eu")}
    )
    write(repo, **{"mnist.yaml": clustered("prod-eu, prod-us")})
    report = plan_json(repo)
    assert actions(report) == {
        "mnist/team-a/cpu@prod-eu": "unchanged",
        "mnist/team-a/gpu@prod-eu": "unchanged",
        "mnist/team-a/cpu@prod-us": "created",
        "mnist/team-a/gpu@prod-us": "created",
    }
    objects = {(o["action"], o["kind"], o["name"], o["cluster"]) for o in report["gitopsObjects"]}  # type: ignore[attr-defined]
    assert objects == {
        ("updated", "ApplicationSet", "katib-gitops-hpo-6ccb1a.mnist", ""),
        ("added", "Application", "mnist.team-a.cpu.prod-us", "prod-us"),
        ("added", "Application", "mnist.team-a.gpu.prod-us", "prod-us"),
        ("added", "Kustomization", "mnist.team-a.cpu.prod-us", "prod-us"),
        ("added", "Kustomization", "mnist.team-a.gpu.prod-us", "prod-us"),
    }
    rows = {r["group"]: r for r in report["demand"]["namespaces"]}  # type: ignore[index]
    assert sorted(rows) == ["prod-eu/team-a", "prod-us/team-a"]
    eu, us = rows["prod-eu/team-a"], rows["prod-us/team-a"]
    assert eu["before"] == eu["after"] and eu["after"]["limits"] == {"nvidia.com/gpu": "4"}
    assert us["before"]["limits"] == {} and us["after"]["limits"] == {"nvidia.com/gpu": "4"}
    assert report["quota"] == [] and report["quotaExceeded"] is False  # 4 of 4 on each cluster
    code, out = plan(repo)
    assert code == 0
    assert "  mnist/team-a/gpu@prod-us: Experiment mnist-" in out
    assert "  added: Kustomization flux-system/mnist.team-a.gpu.prod-us (cluster prod-us)" in out
    assert "  namespace prod-us/team-a: none -> nvidia.com/gpu 4; quota requests.nvidia.com/gpu 4" in out


def test_a_quota_is_held_on_each_cluster_and_a_removed_cluster_leaves_its_experiments(tmp_path: Path) -> None:
    quotas = "  quotas:\n    team-a: {requests.nvidia.com/gpu: 3}\n"
    repo = repository(
        tmp_path / "repo", **{"targets.yaml": TARGETS + CLUSTERS, "mnist.yaml": clustered("prod-eu, prod-us")}
    )
    write(repo, **{"targets.yaml": TARGETS + CLUSTERS + quotas, "mnist.yaml": clustered("prod-eu")})
    code, out = plan(repo)
    assert code == 1, out
    assert "error: prod-eu/team-a: requests.nvidia.com/gpu 4 at full parallelism, quota 3 (Targets quotas)" in out
    # nothing is deployed to prod-us any more, but what is left running there still counts against its quota
    assert "error: prod-us" not in out
    assert "warning: prod-us/team-a: requests.nvidia.com/gpu 4 while the Experiments left running still run" in out
    assert "  mnist/team-a/gpu@prod-us: Experiment mnist-" in out and "retire it on cluster prod-us: kubectl" in out
