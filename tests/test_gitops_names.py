"""GitOps names fit: Application and Kustomization names within 63 characters, stable (issue 11, item 6)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml as pyyaml

from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.core.diagnostics import UsageError
from katib_gitops.expand import gitops
from katib_gitops.expand.overlays import gitops_name
from katib_gitops.schema import crd
from tests.helpers import TARGETS, spec, write_specs
from tests.test_upstream_schemas import applications, assert_valid
from tests.test_upstream_schemas import crds as crds  # the fixture

LONG_SPEC = "s" * 31
LONG_NAMESPACE = "team-" + "n" * 58
LONG_PROFILE = "gpu-" + "p" * 16


def _long_targets() -> dict[str, Any]:
    targets = copy.deepcopy(TARGETS)
    targets["spec"]["namespaces"] = [LONG_NAMESPACE, "team-a", "team-b"]
    targets["spec"]["profiles"][LONG_PROFILE] = {"resources": {"requests": {"cpu": "1"}}}
    return targets


def _generate(root: Path, targets: dict[str, Any], *specs: dict[str, Any]) -> Path:
    folder = write_specs(root, *specs, targets=targets)
    out = root / "overlays"
    generate(GenerateOptions(specs_dir=folder, out_dir=out))
    return out


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in pyyaml.safe_load_all(path.read_text()) if d]


def test_a_short_target_keeps_its_readable_name() -> None:
    assert gitops_name("demo", "team-a", "gpu") == "demo.team-a.gpu"
    assert gitops_name("a" * 21, "b" * 20, "c" * 20) == f"{'a' * 21}.{'b' * 20}.{'c' * 20}"  # 63: fits


def test_a_long_target_is_shortened_with_a_stable_hash() -> None:
    name = gitops_name(LONG_SPEC, LONG_NAMESPACE, LONG_PROFILE)
    assert len(name) <= 63 and re.fullmatch(r"s+\.team-n+-[0-9a-f]{8}", name), name
    assert name == gitops_name(LONG_SPEC, LONG_NAMESPACE, LONG_PROFILE)  # a pure function of the target
    assert gitops_name(LONG_SPEC, LONG_NAMESPACE, LONG_PROFILE + "x") != name  # same prefix, other hash
    assert gitops_name("a" * 21, "b" * 20, "c" * 21) != f"{'a' * 21}.{'b' * 20}.{'c' * 21}"  # 64: shortened


def test_a_shortened_name_never_ends_in_a_separator_before_its_hash() -> None:
    for cut in range(1, 60):
        name = gitops_name("a" * cut, "b" * 62, "c")
        assert len(name) <= 63 and gitops.DNS_SUBDOMAIN.match(name) and gitops.LABEL_VALUE.match(name), name
        assert ".-" not in name and "--" not in name[:-9]


def test_long_names_fit_in_flux_and_in_the_applications_argo_cd_builds(
    tmp_path: Path, crds: dict[crd.CrdKey, dict[str, Any]]
) -> None:
    long_spec = spec(
        name=LONG_SPEC, targets={"namespaces": [LONG_NAMESPACE, "team-a"], "profiles": [LONG_PROFILE, "cpu"]}
    )
    out = _generate(tmp_path, _long_targets(), long_spec, spec())
    kustomizations = _load(out / f"_gitops/flux/{LONG_SPEC}.kustomizations.yaml")
    assert len(kustomizations) == 4
    for kustomization in kustomizations:
        name, target = (
            kustomization["metadata"]["name"],
            kustomization["metadata"]["annotations"][gitops.ANNOTATION_TARGET],
        )
        assert len(name) <= 63 and kustomization["spec"]["path"] == f"./overlays/{target}"
        assert name == gitops_name(*target.split("/"))
        assert_valid(kustomization, crds)
    appset = _load(out / f"_gitops/argocd/{LONG_SPEC}.applicationset.yaml")[0]
    apps = applications(appset)  # as Argo CD's list generator and goTemplate (missingkey=error) build them
    assert sorted(a["metadata"]["name"] for a in apps) == sorted(k["metadata"]["name"] for k in kustomizations)
    for app in apps:
        target = app["metadata"]["annotations"][gitops.ANNOTATION_TARGET]
        assert app["spec"]["source"]["path"] == f"overlays/{target}"
        assert app["spec"]["destination"]["namespace"] == target.split("/")[1]
        assert_valid(app, crds)
    assert_valid(appset, crds)
    short = _load(out / "_gitops/argocd/demo.applicationset.yaml")[0]
    assert "matrix" in short["spec"]["generators"][0]  # names that fit: the ApplicationSet is as before
    assert sorted(a["metadata"]["name"] for a in applications(short)) == [
        "demo.team-a.cpu",
        "demo.team-a.gpu",
        "demo.team-b.cpu",
        "demo.team-b.gpu",
    ]


def test_shortened_names_are_the_same_whatever_the_input_order(tmp_path: Path) -> None:
    long_spec = spec(
        name=LONG_SPEC, targets={"namespaces": [LONG_NAMESPACE, "team-a"], "profiles": [LONG_PROFILE, "cpu"]}
    )
    first = _generate(tmp_path / "a", _long_targets(), long_spec)
    reordered = copy.deepcopy(long_spec)
    reordered["spec"]["targets"] = {"namespaces": ["team-a", LONG_NAMESPACE], "profiles": ["cpu", LONG_PROFILE]}
    targets = _long_targets()
    targets["spec"]["namespaces"].reverse()
    targets["spec"]["profiles"] = dict(reversed(list(targets["spec"]["profiles"].items())))
    second = _generate(tmp_path / "b", targets, reordered)
    for path in ("argocd/" + LONG_SPEC + ".applicationset.yaml", "flux/" + LONG_SPEC + ".kustomizations.yaml"):
        assert (first / "_gitops" / path).read_text() == (second / "_gitops" / path).read_text()


@pytest.mark.parametrize(
    ("name", "label", "problem"),
    [
        ("a" * 64, True, "not a label value"),
        ("Demo.team-a.gpu", False, "not a DNS subdomain"),
        ("demo..gpu", False, "not a DNS subdomain"),
        ("a" * 254, False, "not a DNS subdomain"),
    ],
)
def test_a_name_that_breaks_its_fields_rules_is_refused(name: str, label: bool, problem: str) -> None:
    with pytest.raises(UsageError, match=f"specs/x.yaml: the Flux Kustomization name '{name}' is {problem}"):
        gitops.check_name(name, "Flux Kustomization", "specs/x.yaml", label=label)
    gitops.check_name("a" * 63, "Flux Kustomization", "specs/x.yaml", label=True)
