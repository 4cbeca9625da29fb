"""GitOps settings for platform teams and scale (issue 14, items 2 and 5).

Every setting is checked in the objects it writes, and every object against its upstream CRD (Argo CD's
Application, ApplicationSet and AppProject; Flux's GitRepository and Kustomization): what a cluster accepts.
Settings that contradict each other are TS-GITOPS findings at the position the user wrote.
"""

from __future__ import annotations

import copy
import posixpath
import re
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.generate import planning
from katib_gitops.expand import gitops, overlays
from katib_gitops.expand.overlays import Expansion
from katib_gitops.schema import crd
from katib_gitops.spec.model import SpecSet
from tests.helpers import TARGETS, spec, write_specs
from tests.test_upstream_schemas import applications, assert_valid
from tests.test_upstream_schemas import crds as crds  # the fixture

REPO = "https://git.example.com/ml/hpo.git"
Crds = dict[crd.CrdKey, dict[str, Any]]


def targets(**gitops_settings: Any) -> dict[str, Any]:
    out = copy.deepcopy(TARGETS)
    out["spec"]["gitops"] = {"repoURL": REPO, **copy.deepcopy(gitops_settings)}
    return out


def load(root: Path, target_file: dict[str, Any], *specs: dict[str, Any]) -> tuple[SpecSet, list[Expansion]]:
    spec_set = planning.load(write_specs(root, *specs, targets=target_file))
    return spec_set, overlays.expand(spec_set)


def objects(root: Path, target_file: dict[str, Any], *specs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every object written under _gitops/, and every Application the ApplicationSets create."""
    spec_set, expansions = load(root, target_file, *specs)
    settings = spec_set.targets.gitops
    assert settings is not None
    found = gitops.gitops_objects(settings, expansions, spec_set.specs)
    appsets = [o for o in found if o["kind"] == "ApplicationSet"]
    created = [app for appset in appsets for app in applications(appset)]
    # gitops.applications (what plan compares) is what Argo CD builds from the template and generators
    assert sorted(created, key=_name) == sorted(
        (a for e in expansions for a in gitops.applications(settings, e)), key=_name
    )
    return found + created


def _name(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["name"])


def of_kind(found: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in found if o["kind"] == kind]


def generate(root: Path, target_file: dict[str, Any], *specs: dict[str, Any]) -> tuple[int, str]:
    folder = write_specs(root, *specs, targets=target_file)
    result = CliRunner().invoke(main, ["generate", "--specs", str(folder), "--out", str(root / "overlays")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def written(root: Path) -> dict[str, str]:
    out = root / "overlays"
    return {p.relative_to(out).as_posix(): p.read_text() for p in sorted(out.rglob("*")) if p.is_file()}


CLUSTERS = {
    "prod-eu": {"destinationName": "prod-eu", "kubeConfigSecret": "prod-eu-kubeconfig"},
    "prod-us": {"destinationName": "prod-us", "kubeConfigSecret": "prod-us-kubeconfig"},
    "local": {"destinationName": "in-cluster"},  # Flux's own cluster: no kubeConfig
}
EVERY_SETTING: dict[str, Any] = {
    "revision": "release-1",
    "tools": ["argocd", "flux"],
    "health": True,
    "names": {"prefix": "ml-hpo", "gitRepository": "ml-hpo-source"},
    "clusters": CLUSTERS,
    "argocd": {"namespace": "gitops", "destinationName": "in-cluster", "projectPerNamespace": True},
    "flux": {
        "namespace": "gitops",
        "secretRef": "hpo-deploy-key",
        "serviceAccountName": "katib-experiments",
        "retryInterval": "2m",
        "timeout": "3m",
        "targetNamespace": True,
        "dependsOn": ["katib"],
    },
}
OTHER_SETTINGS: dict[str, Any] = {
    "revision": "refs/tags/v1.2.0",
    "argocd": {"server": "https://10.0.0.1:6443", "project": "ml", "projects": {"team-b": "vision"}},
    "flux": {"sourceRef": {"name": "flux-system", "namespace": "flux-system"}},
}
CLUSTERED = spec(
    name="clustered",
    targets={
        "namespaces": ["team-a", "team-b"],
        "profiles": ["gpu"],
        "clusters": [
            "prod-eu",
            "prod-us",
        ],
    },
)


# ------------------------------------------------------------------ every object against the upstream CRDs


def test_every_object_with_every_setting_validates_upstream(tmp_path: Path, crds: Crds) -> None:
    found = objects(tmp_path, targets(**EVERY_SETTING), spec(name="plain"), CLUSTERED)
    assert {o["kind"] for o in found} == {
        "GitRepository",
        "Kustomization",
        "ApplicationSet",
        "Application",
        "AppProject",
    }
    for obj in found:
        assert_valid(obj, crds)


def test_every_object_with_the_other_settings_validates_upstream(tmp_path: Path, crds: Crds) -> None:
    found = objects(tmp_path, targets(**OTHER_SETTINGS), spec(name="plain"))
    assert {o["kind"] for o in found} == {"Kustomization", "ApplicationSet", "Application"}  # no GitRepository
    for obj in found:
        assert_valid(obj, crds)


# ------------------------------------------------------------------ Flux


def test_a_private_repository_gets_its_secret_and_a_full_reference(tmp_path: Path) -> None:
    """GitRepository spec.secretRef (source-controller v1); a revision starting with refs/ is ref.name."""
    found = objects(tmp_path, targets(flux={"secretRef": "deploy-key"}, revision="refs/heads/release"), spec())
    (repository,) = of_kind(found, "GitRepository")
    assert repository["spec"]["secretRef"] == {"name": "deploy-key"}
    assert repository["spec"]["ref"] == {"name": "refs/heads/release"}
    assert {a["spec"]["source"]["targetRevision"] for a in of_kind(found, "Application")} == {"refs/heads/release"}


def test_an_existing_source_is_reused_and_no_gitrepository_is_written(tmp_path: Path) -> None:
    code, _ = generate(tmp_path, targets(flux={"sourceRef": {"name": "flux-system", "namespace": "flux-system"}}))
    assert code == 0
    files = written(tmp_path)
    assert "_gitops/flux/gitrepository.yaml" not in files
    kustomizations = list(pyyaml.safe_load_all(files["_gitops/flux/demo.kustomizations.yaml"]))
    assert {str(k["spec"]["sourceRef"]) for k in kustomizations} == {
        str({"kind": "GitRepository", "name": "flux-system", "namespace": "flux-system"})
    }


def test_multi_tenancy_settings_reach_every_kustomization(tmp_path: Path) -> None:
    """serviceAccountName, retryInterval and timeout as given; targetNamespace is each overlay's own namespace,
    so it overrides nothing (Flux: targetNamespace sets or overrides the kustomization.yaml's namespace)."""
    settings = {"serviceAccountName": "tenant", "retryInterval": "1m", "timeout": "2m", "targetNamespace": True}
    found = of_kind(objects(tmp_path, targets(flux=settings), spec()), "Kustomization")
    assert len(found) == 4
    for kustomization in found:
        body = kustomization["spec"]
        assert (body["serviceAccountName"], body["retryInterval"], body["timeout"]) == ("tenant", "1m", "2m")
        assert (
            body["targetNamespace"] == kustomization["metadata"]["annotations"][gitops.ANNOTATION_TARGET].split("/")[1]
        )
        assert "kubeConfig" not in body


def test_a_timeout_of_ones_own_wins_over_the_health_default(tmp_path: Path) -> None:
    found = of_kind(objects(tmp_path, targets(health=True, flux={"timeout": "20m"}), spec()), "Kustomization")
    assert {k["spec"]["timeout"] for k in found} == {"20m"}


# ------------------------------------------------------------------ tools


def test_tools_argocd_writes_no_flux_objects(tmp_path: Path) -> None:
    assert generate(tmp_path, targets(tools=["argocd"]))[0] == 0
    assert sorted(written(tmp_path)) == [
        ".katib-gitops-manifest.json",
        "_gitops/argocd/demo.applicationset.yaml",
        *[f"demo/{p}" for p in ("_base/experiment.yaml", "_base/kustomization.yaml")],
        *[f"demo/{n}/{p}/kustomization.yaml" for n in ("team-a", "team-b") for p in ("cpu", "gpu")],
    ]


def test_tools_flux_writes_no_argocd_objects_not_even_the_health_patch(tmp_path: Path) -> None:
    assert generate(tmp_path, targets(tools=["flux"], health=True))[0] == 0
    gitops_files = sorted(p for p in written(tmp_path) if p.startswith("_gitops/"))
    assert gitops_files == ["_gitops/flux/demo.kustomizations.yaml", "_gitops/flux/gitrepository.yaml"]


# ------------------------------------------------------------------ names


def test_default_names_are_unique_per_repository(tmp_path: Path) -> None:
    """Two repositories in one cluster: their GitRepositories and ApplicationSets never share a name."""
    first = objects(tmp_path / "a", targets(), spec())
    second_targets = targets()
    second_targets["spec"]["gitops"]["repoURL"] = "https://git.example.com/vision/hpo.git"
    second = objects(tmp_path / "b", second_targets, spec())
    for kind in ("GitRepository", "ApplicationSet"):
        (one,), (other,) = of_kind(first, kind), of_kind(second, kind)
        assert _name(one) != _name(other)
    (repository,) = of_kind(first, "GitRepository")
    assert re.fullmatch(r"katib-gitops-hpo-[0-9a-f]{6}", _name(repository))
    assert _name(of_kind(first, "ApplicationSet")[0]) == f"{_name(repository)}.demo"
    # the Applications and Kustomizations keep their target's name: the same name is the same Experiment
    assert sorted(_name(a) for a in of_kind(first, "Application")) == sorted(
        _name(a) for a in of_kind(second, "Application")
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/ml/hpo.git",
        "https://git.example.com/ml/hpo",
        "https://user@GIT.example.com:443/ml/hpo/",
        "ssh://git@git.example.com:22/ml/hpo.git",
        "git@git.example.com:ml/hpo.git",
    ],
)
def test_the_same_repository_written_otherwise_keeps_its_names(url: str) -> None:
    """Changing https:// to ssh:// must not rename the ApplicationSets (that would orphan their Applications)."""
    assert gitops.repository_prefix(url) == gitops.repository_prefix("https://git.example.com/ml/hpo.git")


def test_the_prefix_katib_gitops_keeps_the_names_written_before(tmp_path: Path) -> None:
    """The upgrade path that renames nothing (docs/gitops.md, "Upgrading to repository-unique names")."""
    found = objects(tmp_path, targets(names={"prefix": "katib-gitops"}), spec())
    assert [_name(o) for o in of_kind(found, "GitRepository")] == ["katib-gitops"]
    assert [_name(o) for o in of_kind(found, "ApplicationSet")] == ["katib-gitops.demo"]
    assert {k["spec"]["sourceRef"]["name"] for k in of_kind(found, "Kustomization")} == {"katib-gitops"}


# ------------------------------------------------------------------ Argo CD projects and destinations


def test_an_appproject_per_namespace_allows_only_that_namespace_the_repository_and_experiments(
    tmp_path: Path, crds: Crds
) -> None:
    """AppProject.IsGroupKindNamePermitted: a namespaced whitelist admits only its kinds; an empty cluster
    whitelist admits no cluster-scoped kind."""
    found = objects(tmp_path, targets(argocd={"projectPerNamespace": True}), spec())
    projects = {_name(p): p for p in of_kind(found, "AppProject")}
    prefix = gitops.repository_prefix(REPO)
    assert sorted(projects) == [f"{prefix}.team-a", f"{prefix}.team-b"]
    team_a = projects[f"{prefix}.team-a"]
    assert team_a["metadata"]["namespace"] == "argocd"
    assert team_a["spec"]["sourceRepos"] == [REPO]
    assert team_a["spec"]["destinations"] == [{"server": "https://kubernetes.default.svc", "namespace": "team-a"}]
    assert team_a["spec"]["namespaceResourceWhitelist"] == [{"group": "kubeflow.org", "kind": "Experiment"}]
    assert "clusterResourceWhitelist" not in team_a["spec"]
    for app in of_kind(found, "Application"):
        assert app["spec"]["project"] == f"{prefix}.{app['spec']['destination']['namespace']}"
    assert_valid(team_a, crds)


def test_a_project_per_namespace_by_mapping(tmp_path: Path) -> None:
    found = objects(tmp_path, targets(argocd={"project": "ml", "projects": {"team-b": "vision"}}), spec())
    assert {(a["spec"]["destination"]["namespace"], a["spec"]["project"]) for a in of_kind(found, "Application")} == {
        ("team-a", "ml"),
        ("team-b", "vision"),
    }
    assert of_kind(found, "AppProject") == []


def test_a_destination_by_name(tmp_path: Path) -> None:
    found = objects(tmp_path, targets(argocd={"destinationName": "in-cluster"}), spec())
    assert {str(a["spec"]["destination"]) for a in of_kind(found, "Application")} == {
        str({"name": "in-cluster", "namespace": n}) for n in ("team-a", "team-b")
    }


# ------------------------------------------------------------------ clusters


def test_a_spec_naming_clusters_gets_an_application_and_a_kustomization_per_cluster(tmp_path: Path) -> None:
    found = objects(tmp_path, targets(clusters=CLUSTERS), CLUSTERED, spec(name="plain"))
    apps = {_name(a): a for a in of_kind(found, "Application")}
    clustered = sorted(n for n in apps if n.startswith("clustered."))
    assert clustered == [f"clustered.{n}.gpu.{c}" for n in ("team-a", "team-b") for c in ("prod-eu", "prod-us")]
    eu = apps["clustered.team-a.gpu.prod-eu"]
    assert eu["spec"]["destination"] == {"name": "prod-eu", "namespace": "team-a"}
    assert eu["metadata"]["annotations"][gitops.ANNOTATION_CLUSTER] == "prod-eu"
    # one overlay for every cluster: the same path, nothing duplicated
    assert {apps[n]["spec"]["source"]["path"] for n in clustered if ".team-a." in n} == {
        "overlays/clustered/team-a/gpu"
    }
    kustomizations = {_name(k): k for k in of_kind(found, "Kustomization")}
    assert kustomizations["clustered.team-b.gpu.prod-us"]["spec"]["kubeConfig"] == {
        "secretRef": {"name": "prod-us-kubeconfig"}
    }
    assert kustomizations["clustered.team-b.gpu.prod-us"]["spec"]["path"] == "./overlays/clustered/team-b/gpu"
    # a spec naming no cluster deploys as before: the default destination, Flux's own cluster
    assert apps["plain.team-a.gpu"]["spec"]["destination"] == {
        "server": "https://kubernetes.default.svc",
        "namespace": "team-a",
    }
    assert "kubeConfig" not in kustomizations["plain.team-a.gpu"]["spec"]


def test_the_applicationset_of_a_clustered_spec_nests_one_matrix(tmp_path: Path) -> None:
    """Argo CD's matrix takes two children and nests once (Generators-Matrix.md, "Restrictions")."""
    spec_set, expansions = load(tmp_path, targets(clusters=CLUSTERS), CLUSTERED)
    assert spec_set.targets.gitops is not None
    appset = gitops.application_set(spec_set.targets.gitops, expansions[0])
    (generator,) = appset["spec"]["generators"]
    clusters, crossed = generator["matrix"]["generators"]
    assert clusters["list"]["elements"] == [
        {"cluster": "prod-eu", "destination": "prod-eu"},
        {"cluster": "prod-us", "destination": "prod-us"},
    ]
    assert [len(child["list"]["elements"]) for child in crossed["matrix"]["generators"]] == [2, 1]


def test_long_clustered_names_are_shortened_unique_and_label_safe(tmp_path: Path) -> None:
    long_clusters = {f"{'c' * 50}-{n}": {"destinationName": f"c{n}"} for n in (1, 2)}
    clustered = spec(
        name="clustered", targets={"namespaces": ["team-a"], "profiles": ["gpu"], "clusters": sorted(long_clusters)}
    )
    found = objects(tmp_path, targets(clusters=long_clusters), clustered)
    names = [_name(o) for o in found if o["kind"] in ("Application", "Kustomization")]
    assert len(names) == 4 and len(set(names)) == 2
    assert all(len(n) <= overlays.MAX_GITOPS_NAME and re.fullmatch(r"[a-z0-9.-]+-[0-9a-f]{8}", n) for n in names)


def test_generation_with_clusters_is_deterministic(tmp_path: Path) -> None:
    first_targets = targets(**EVERY_SETTING)
    assert generate(tmp_path / "a", first_targets, spec(name="plain"), CLUSTERED)[0] == 0
    shuffled = copy.deepcopy(first_targets)
    shuffled["spec"]["gitops"]["clusters"] = dict(reversed(list(CLUSTERS.items())))
    reordered = copy.deepcopy(CLUSTERED)
    reordered["spec"]["targets"]["clusters"].reverse()
    assert generate(tmp_path / "b", shuffled, reordered, spec(name="plain"))[0] == 0
    assert written(tmp_path / "a") == written(tmp_path / "b")
    code, out = generate(tmp_path / "a", first_targets, spec(name="plain"), CLUSTERED)
    assert code == 0 and "nothing written" in out


# ------------------------------------------------------------------ scale (item 5)


def test_applications_regenerate_only_for_their_overlay_and_base(tmp_path: Path) -> None:
    """manifest-generate-paths, relative to the source path (high_availability.md): exactly the overlay's folder
    and its base; targetRevision refs/heads/<branch>; IncludeMutationWebhook with ServerSideDiff."""
    assert generate(tmp_path, targets())[0] == 0
    files = written(tmp_path)
    (appset,) = [o for o in objects(tmp_path / "x", targets(), spec()) if o["kind"] == "ApplicationSet"]
    for app in applications(appset):
        source = app["spec"]["source"]["path"]
        annotations = app["metadata"]["annotations"]
        paths = [posixpath.normpath(posixpath.join(source, p)) for p in annotations[gitops.MANIFEST_PATHS].split(";")]
        overlay, base = (p.removeprefix("overlays/") for p in paths)
        assert f"{overlay}/kustomization.yaml" in files and base == "demo/_base"
        assert app["spec"]["source"]["targetRevision"] == "refs/heads/main"
        assert annotations["argocd.argoproj.io/compare-options"] == "ServerSideDiff=true,IncludeMutationWebhook=true"


# ------------------------------------------------------------------ contradictions (TS-GITOPS)


def findings(root: Path, target_file: dict[str, Any], *specs: dict[str, Any]) -> tuple[int, list[str]]:
    code, out = generate(root, target_file, *specs)
    return code, [line.removeprefix(f"{root}/") for line in out.splitlines() if "[TS-GITOPS]" in line]


def test_a_spec_naming_an_unknown_cluster_is_refused_at_its_entry(tmp_path: Path) -> None:
    bad = spec(name="demo", targets={"namespaces": ["team-a"], "profiles": ["gpu"], "clusters": ["prod-eu", "prod-ue"]})
    code, found = findings(tmp_path, targets(clusters=CLUSTERS), bad)
    assert code == 1
    (line,) = found
    assert re.fullmatch(
        r".*specs/demo\.yaml:\d+:\d+: error: cluster 'prod-ue' is not declared in gitops\.clusters of .*", line
    )
    where = _position(tmp_path / "specs" / "demo.yaml", "- prod-ue")
    assert line.split("demo.yaml:")[1].startswith(f"{where[0]}:{where[1]}:")


def _position(path: Path, text: str) -> tuple[int, int]:
    """Line and column (1-based) of the value after `- ` in the line holding `text`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number, line.index(text) + 3
    raise AssertionError(f"{text!r} not in {path}")


def _key_position(path: Path, key: str, after: str = "") -> tuple[int, int]:
    """Line and column (1-based) of the mapping key `key:`, the first after the line holding `after`."""
    started = not after
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        started = started or after in line
        if started and line.strip().startswith(f"{key}:"):
            return number, line.index(key) + 1
    raise AssertionError(f"{key!r} not in {path}")


@pytest.mark.parametrize(
    ("settings", "key", "after", "message"),
    [
        # Argo CD refuses a destination with both (util/argo/argo.go, GetDestinationServer)
        (
            {"argocd": {"server": "https://x", "destinationName": "in-cluster"}},
            "destinationName",
            "argocd:",
            "argocd.destinationName and argocd.server both set",
        ),
        (
            {"clusters": {"prod-eu": {"server": "https://x", "destinationName": "prod-eu"}}},
            "destinationName",
            "prod-eu:",
            "cluster 'prod-eu' sets destinationName and server",
        ),
        (
            {"clusters": {"prod-eu": {"kubeConfigSecret": "k"}}},
            "prod-eu",
            "clusters:",
            "cluster 'prod-eu' has no Argo CD destination",
        ),
        (
            {"argocd": {"project": "ml", "projectPerNamespace": True}},
            "project",
            "argocd:",
            "argocd.project with argocd.projectPerNamespace",
        ),
        (
            {"argocd": {"projects": {"team-c": "vision"}}},
            "team-c",
            "projects:",
            "argocd.projects names namespace 'team-c', which is not declared",
        ),
        (
            {"flux": {"sourceRef": {"name": "flux-system"}, "secretRef": "key"}},
            "secretRef",
            "flux:",
            "flux.secretRef with flux.sourceRef: no GitRepository is written",
        ),
        (
            {"names": {"gitRepository": "mine"}, "flux": {"sourceRef": {"name": "flux-system"}}},
            "gitRepository",
            "names:",
            "names.gitRepository with flux.sourceRef",
        ),
    ],
)
def test_contradicting_settings_are_errors_at_the_setting(
    tmp_path: Path, settings: dict[str, Any], key: str, after: str, message: str
) -> None:
    code, found = findings(tmp_path, targets(**settings))
    assert code == 1
    line, column = _key_position(tmp_path / "specs" / "targets.yaml", key, after)
    assert [f for f in found if message in f] == [
        f for f in found if f.startswith(f"specs/targets.yaml:{line}:{column}: error: {message}")
    ]
    assert any(f.startswith(f"specs/targets.yaml:{line}:{column}: error: {message}") for f in found), found


def test_clusters_of_one_spec_mixing_destination_name_and_server_are_refused(tmp_path: Path) -> None:
    mixed = {"prod-eu": {"destinationName": "prod-eu"}, "prod-us": {"server": "https://10.0.0.2:6443"}}
    code, found = findings(tmp_path, targets(clusters=mixed), CLUSTERED)
    assert code == 1
    (line,) = found
    assert "clustered.yaml" in line and "by destinationName (prod-eu), the others by server" in line


def test_settings_for_a_tool_left_out_are_a_warning(tmp_path: Path) -> None:
    code, found = findings(tmp_path, targets(tools=["argocd"], flux={"interval": "5m"}))
    assert code == 0
    line, column = _key_position(tmp_path / "specs" / "targets.yaml", "flux")
    assert found == [
        f"specs/targets.yaml:{line}:{column}: warning: flux settings, but gitops.tools does not include flux: "
        "nothing is written for flux [TS-GITOPS]"
    ]
