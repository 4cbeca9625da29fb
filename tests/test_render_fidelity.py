"""validate renders every kustomization as `kubectl kustomize` does, or refuses where it refuses (issue 12, item 3).

Ordinary kustomizations, written here, each built by katib-gitops' pipeline (`kustomize.inputs`, what
`validate DIR` reads) and by the real `kubectl kustomize`: the objects are identical, or both refuse.
The in-process renderer served such kustomizations before and got them wrong: RoleBinding subjects,
cluster-scoped kinds, Namespace objects, `kind: List`, duplicate IDs, a JSON6902 patch without a target,
`patch` and `path` together, two kustomization files, a non-Kustomization kind, unnamed documents,
labelSelector targets. It now serves only katib-gitops' own trees (manifest digest and header).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml as pyyaml

from katib_gitops.core.diagnostics import FindingsError, UsageError
from katib_gitops.kustomize import external, inputs, render
from tests.conftest import ROOT
from tests.reliability.helpers import assert_clean_exit, cli

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
DEPLOY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n"
    "  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
    "    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n"
)
ROLEBINDING = (
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, namespace: old}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\n"
    "subjects:\n- {kind: ServiceAccount, name: sa, namespace: old}\n- {kind: User, name: alice}\n"
)
EXPERIMENT = (ROOT / "overlays" / "mnist-tfjob" / "_base" / "experiment.yaml").read_text()
JSON_PATCH = "[{op: add, path: /data/x, value: '1'}]"  # a patch file's text
# kustomize parses an inline `patch` as JSON or as a YAML document: a block list (a flow one is refused)
INLINE = "  patch: |\n    - op: add\n      path: /data/x\n      value: '1'\n"

# name: (kustomization.yaml, other files)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "namespace": (
        "namespace: team-a\nresources: [d.yaml, c.yaml]\n",
        {"d.yaml": DEPLOY, "c.yaml": CM.format(name="c")},
    ),
    "rolebinding-subjects": ("namespace: team-a\nresources: [rb.yaml]\n", {"rb.yaml": ROLEBINDING}),
    "cluster-scoped-kinds": (
        "namespace: team-a\nresources: [k.yaml]\n",
        {
            "k.yaml": "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: ClusterTrainingRuntime\nmetadata: {name: t}\n"
            "spec: {}\n---\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: gvisor}\nhandler: runsc\n"
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr}\nrules: []\n"
        },
    ),
    "namespace-object": (
        "namespace: team-a\nresources: [ns.yaml, c.yaml]\n",
        {"ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n", "c.yaml": CM.format(name="c")},
    ),
    "kind-list": (
        "resources: [list.yaml]\n",
        {"list.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + CM.format(name="a").replace("\n", "\n  ")},
    ),
    "duplicate-ids": ("resources: [a.yaml, b.yaml]\n", {"a.yaml": CM.format(name="a"), "b.yaml": CM.format(name="a")}),
    "json6902-without-target": (
        "resources: [a.yaml]\npatches:\n-" + INLINE[1:],
        {"a.yaml": CM.format(name="a") + "---\n" + CM.format(name="b")},
    ),
    "patch-and-path": (
        "resources: [a.yaml]\npatches:\n- path: p.yaml\n  target: {kind: ConfigMap}\n" + INLINE,
        {"a.yaml": CM.format(name="a"), "p.yaml": JSON_PATCH + "\n"},
    ),
    "non-kustomization-kind": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Deployment\nresources: [a.yaml]\n",
        {"a.yaml": CM.format(name="a")},
    ),
    "document-without-name": ("resources: [a.yaml]\n", {"a.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: {k: v}\n"}),
    "label-selector-target": (
        "resources: [a.yaml]\npatches:\n- target: {labelSelector: app=x}\n" + INLINE,
        {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {app: x}}\ndata: {}\n"},
    ),
    "annotation-selector-target": (
        "resources: [a.yaml]\npatches:\n- target: {annotationSelector: team=a}\n" + INLINE,
        {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {team: a}}\ndata: {}\n"},
    ),
    "regex-name-target": (
        "resources: [a.yaml]\npatches:\n- target: {kind: ConfigMap, name: a.*}\n" + INLINE,
        {"a.yaml": CM.format(name="abc") + "---\n" + CM.format(name="b")},
    ),
    "target-matches-nothing": (
        "resources: [a.yaml]\npatches:\n- target: {kind: Secret}\n" + INLINE,
        {"a.yaml": CM.format(name="a")},
    ),
    "name-prefix-suffix": ("namePrefix: p-\nnameSuffix: -s\nresources: [a.yaml]\n", {"a.yaml": CM.format(name="a")}),
    "labels": (
        "labels:\n- pairs: {team: a}\n  includeSelectors: true\nresources: [d.yaml]\n",
        {"d.yaml": DEPLOY},
    ),
    "common-labels": ("commonLabels: {team: a}\nresources: [d.yaml]\n", {"d.yaml": DEPLOY}),
    "common-annotations": ("commonAnnotations: {note: x}\nresources: [a.yaml]\n", {"a.yaml": CM.format(name="a")}),
    "configmap-generator": ("configMapGenerator:\n- name: g\n  literals: [a=b]\n", {}),
    "secret-generator": ("secretGenerator:\n- name: s\n  literals: [a=b]\n", {}),
    "images": ("images:\n- name: nginx\n  newTag: '1.27'\nresources: [d.yaml]\n", {"d.yaml": DEPLOY}),
    "replicas": ("replicas:\n- name: web\n  count: 3\nresources: [d.yaml]\n", {"d.yaml": DEPLOY}),
    "strategic-merge-patch": (
        "resources: [d.yaml]\npatches:\n- patch: |\n    apiVersion: apps/v1\n    kind: Deployment\n"
        "    metadata: {name: web}\n    spec: {replicas: 5}\n",
        {"d.yaml": DEPLOY},
    ),
    "patches-json6902-field": (
        "resources: [a.yaml]\npatchesJson6902:\n- target: {version: v1, kind: ConfigMap, name: a}\n  path: p.yaml\n",
        {"a.yaml": CM.format(name="a"), "p.yaml": "- op: add\n  path: /data/x\n  value: '1'\n"},
    ),
    "bases-field": (
        "bases: [base]\nnamespace: nb\n",
        {"base/kustomization.yaml": "resources: [a.yaml]\n", "base/a.yaml": CM.format(name="a")},
    ),
    "nested-base-namespace": (
        "resources: [base]\nnamespace: outer\n",
        {"base/kustomization.yaml": "resources: [a.yaml]\nnamespace: inner\n", "base/a.yaml": CM.format(name="a")},
    ),
    "component": (
        "resources: [a.yaml]\ncomponents: [comp]\n",
        {
            "a.yaml": CM.format(name="a"),
            "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
            "commonAnnotations: {from: component}\n",
        },
    ),
    "component-as-resource": (
        "resources: [comp]\n",
        {"comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"},
    ),
    "experiment-namespace": ("namespace: team-a\nresources: [experiment.yaml]\n", {"experiment.yaml": EXPERIMENT}),
    "crd-cluster-scoped": (
        "namespace: team-a\nresources: [crd.yaml]\n",
        {
            "crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            "metadata: {name: things.example.com}\nspec:\n  group: example.com\n"
            "  names: {kind: Thing, plural: things}\n  scope: Namespaced\n  versions: []\n"
        },
    ),
    "clusterrolebinding-subjects": (
        "namespace: team-a\nresources: [crb.yaml]\n",
        {
            "crb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: crb}\n"
            "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}\n"
            "subjects:\n- {kind: ServiceAccount, name: sa, namespace: old}\n"
        },
    ),
    "missing-resource": ("resources: [nope.yaml]\n", {}),
    "patch-does-not-apply": (
        "resources: [a.yaml]\npatches:\n- target: {kind: ConfigMap}\n"
        "  patch: |\n    - {op: replace, path: /nope/x, value: 1}\n",
        {"a.yaml": CM.format(name="a")},
    ),
    "generated-header-not-in-a-manifest": (
        "# Generated by katib-gitops from specs/x.yaml.\nnamespace: team-a\nnamePrefix: x-\nresources: [a.yaml]\n",
        {"a.yaml": CM.format(name="a")},
    ),
    "flow-list-inline-patch": (
        f'resources: [a.yaml]\npatches:\n- target: {{kind: ConfigMap}}\n  patch: "{JSON_PATCH}"\n',
        {"a.yaml": CM.format(name="a")},
    ),
    "unknown-field": ("resources: [a.yaml]\nnotAField: 1\n", {"a.yaml": CM.format(name="a")}),
}
TWO_FILES = "two-kustomization-files"


def _write(root: Path, kustomization: str, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    (root / "kustomization.yaml").write_text(kustomization)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_there_are_enough_cases() -> None:
    assert len(CASES) + 1 >= 34


def _kubectl_verdict(kubectl: str, folder: Path) -> list[object] | None:
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=False)
    return None if done.returncode else [d for d in pyyaml.safe_load_all(done.stdout) if d is not None]


def _ours(folder: Path, kubectl: str) -> tuple[list[object], list[str]]:
    collected = inputs.collect(
        [folder.name], render_kustomizations=True, stdin=io.StringIO(), kustomize_command=kubectl
    )
    # the folder itself; its subfolders (bases, components) are walked as inputs of their own
    documents = [d.data for s in collected.sources if s.display == folder.name for d in s.documents]
    return documents, [p.format() for p in collected.problems if p.file.startswith(f"{folder.name}/kustomization")]


@pytest.mark.parametrize("case", [*CASES, TWO_FILES])
def test_pipeline_renders_what_kubectl_kustomize_renders(
    case: str, tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "k"
    if case == TWO_FILES:
        # kustomize refuses a folder holding more than one of kustomization.yaml/.yml/Kustomization
        _write(folder, "resources: [a.yaml]\n", {"a.yaml": CM.format(name="a"), "kustomization.yml": "resources: []\n"})
    else:
        _write(folder, *CASES[case])
    monkeypatch.chdir(tmp_path)
    theirs = _kubectl_verdict(kubectl, folder)
    ours, problems = _ours(folder, kubectl)
    if theirs is None:  # kustomize refuses it: so do we, as a `render` finding at the kustomization
        assert ours == [] and len(problems) == 1 and "[render]" in problems[0], problems
        assert "k/kustomization.y" in problems[0] and "kustomize refuses this kustomization" in problems[0]
    else:
        assert problems == [] and ours == theirs


def test_katib_gitops_overlays_are_rendered_in_process_and_equal_kubectl(
    tmp_path: Path, kubectl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recognised by the manifest and the headers: no process is started, and the result is kustomize's.
    shutil.copytree(ROOT / "overlays", tmp_path / "overlays")
    monkeypatch.chdir(tmp_path)
    overlay = "overlays/mnist-tfjob/team-nlp/gpu"
    resources, _ = render.render_traced(render.OwnFiles(tmp_path), overlay)
    assert resources == _kubectl_verdict(kubectl, tmp_path / overlay)
    monkeypatch.setattr(external, "build", lambda *a: pytest.fail("the real kustomize was run on our own overlay"))
    assert inputs.build(overlay)[0] == resources


def test_an_edited_overlay_is_no_longer_ours_and_goes_to_kustomize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "overlays", tmp_path / "overlays")
    kustomization = tmp_path / "overlays/mnist-tfjob/team-nlp/gpu/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "namePrefix: x-\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(render.NotOwn):
        render.render_traced(render.OwnFiles(tmp_path), "overlays/mnist-tfjob/team-nlp/gpu")
    # the unchanged base is still ours; without the manifest it is not
    render.render_traced(render.OwnFiles(tmp_path), "overlays/mnist-tfjob/_base")
    (tmp_path / "overlays" / render.MANIFEST).unlink()
    with pytest.raises(render.NotOwn):
        render.render_traced(render.OwnFiles(tmp_path), "overlays/mnist-tfjob/_base")


def test_without_kustomize_or_kubectl_a_foreign_kustomization_is_refused_naming_no_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    _write(tmp_path / "k", header + "resources: [a.yaml]\n", {"a.yaml": CM.format(name="a")})
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(UsageError, match="--no-render"):
        external.command()
    text = assert_clean_exit(cli(tmp_path, "validate", "k"), 2)
    assert "neither `kustomize` nor `kubectl` is on PATH" in text and "--no-render" in text
    assert "0 errors" in assert_clean_exit(cli(tmp_path, "validate", "--no-render", "k"), 0)


def test_kustomize_command_names_a_program(tmp_path: Path, kubectl: str) -> None:
    assert external.command(kubectl) == [kubectl, "kustomize"]
    assert external.command(f"{kubectl} kustomize") == [kubectl, "kustomize"]
    _write(tmp_path / "k", "resources: [a.yaml]\n", {"a.yaml": CM.format(name="a")})
    text = assert_clean_exit(cli(tmp_path, "validate", "--kustomize-command", "no-such-kustomize", "k"), 2)
    assert "no-such-kustomize: no such program" in text


def _redigest(root: Path, *changed: str) -> None:
    manifest = json.loads((root / render.MANIFEST).read_text())
    for path in changed:
        manifest["files"][path] = hashlib.sha256((root / path).read_bytes()).hexdigest()
    (root / render.MANIFEST).write_text(json.dumps(manifest))


def test_findings_in_our_overlays_point_at_the_patch_operation_or_the_base_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if generate had written a parallelTrialCount of 20 (manifest updated): COUNT-05 (Katib's
    # validateTrialCounts: parallelTrialCount <= maxTrialCount) belongs to the patch op that sets it.
    shutil.copytree(ROOT / "overlays", tmp_path / "overlays")
    gpu = "mnist-tfjob/team-nlp/gpu/kustomization.yaml"
    path = tmp_path / "overlays" / gpu
    path.write_text(path.read_text().replace("value: 2\n", "value: 20\n"))
    _redigest(tmp_path / "overlays", gpu)
    text = assert_clean_exit(cli(tmp_path, "validate", "--format", "github", "overlays"), 1)
    assert f"::error file=overlays/{gpu},line=21,col=9,title=COUNT-05::parallelTrialCount (20)" in text
    assert "(in overlays/mnist-tfjob/team-nlp/gpu, rendered)" in text and "(rendered)," not in text
    junit = assert_clean_exit(cli(tmp_path, "validate", "--format", "junit", "overlays"), 1)
    assert f'file="overlays/{gpu}"' in junit and 'file="overlays/mnist-tfjob/team-nlp/gpu (rendered)"' not in junit
    # maxFailedTrialCount is the base's own line: overlays/mnist-tfjob/_base/experiment.yaml
    base = "mnist-tfjob/_base/experiment.yaml"
    (tmp_path / "overlays" / base).write_text(
        (tmp_path / "overlays" / base).read_text().replace("maxTrialCount: 12", "maxTrialCount: 2")
    )
    _redigest(tmp_path / "overlays", base)
    text = assert_clean_exit(cli(tmp_path, "validate", "overlays/mnist-tfjob/team-vision"), 1)
    assert f"overlays/{base}:19:24: error: maxFailedTrialCount (3) is greater than maxTrialCount (2)" in text
    assert "(rendered):" not in text


def test_findings_in_kustomize_output_point_at_the_unchanged_field_or_the_kustomization(
    tmp_path: Path, kubectl: str
) -> None:
    # Not ours (no manifest): kubectl builds it. maxFailedTrialCount is unchanged in experiment.yaml (line 19);
    # parallelTrialCount was changed by the kustomization's patch, so the finding names the kustomization.
    experiment = EXPERIMENT.replace("maxTrialCount: 12", "maxTrialCount: 2")
    _write(
        tmp_path / "k",
        "namespace: team-a\nresources: [experiment.yaml]\npatches:\n- target: {kind: Experiment}\n"
        "  patch: |\n    - {op: replace, path: /spec/parallelTrialCount, value: 9}\n",
        {"experiment.yaml": experiment},
    )
    text = assert_clean_exit(cli(tmp_path, "validate", "--kustomize-command", kubectl, "--format", "sarif", "k"), 1)
    results = json.loads(text)["runs"][0]["results"]
    where = {
        r["ruleId"]: (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in results
    }
    assert where["COUNT-04"] == ("k/experiment.yaml", 19)
    assert where["COUNT-05"] == ("k/kustomization.yaml", 1)
    assert all("(rendered)" not in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    assert os.path.isfile(tmp_path / "k" / "experiment.yaml")


def test_a_yes_kustomize_reads_as_a_string_is_reported_where_it_was_written(tmp_path: Path, kubectl: str) -> None:
    # kubectl reads `paused: yes` as true (YAML 1.1); kustomize (kyaml, YAML 1.2) as the string "yes" and
    # writes it quoted, so the API server refuses the rendered Deployment. The value differs in the output,
    # but not because the kustomization changed it: the finding stays at the line it was written on.
    _write(tmp_path / "k", "resources: [d.yaml]\n", {"d.yaml": DEPLOY.replace("  replicas: 1\n", "  paused: yes\n")})
    built = subprocess.run([kubectl, "kustomize", str(tmp_path / "k")], capture_output=True, text=True, check=True)
    assert pyyaml.safe_load(built.stdout)["spec"]["paused"] == "yes"  # what kyaml makes of it
    text = assert_clean_exit(cli(tmp_path, "validate", "--kustomize-command", kubectl, "k"), 1)
    assert "k/d.yaml:7:11: error: 'yes' is not of type 'boolean'" in text, text


def test_a_second_kustomization_file_in_our_overlay_makes_it_foreign(tmp_path: Path) -> None:
    # kustomize refuses a folder with two kustomization files; the in-process renderer must not render it
    shutil.copytree(ROOT / "overlays", tmp_path / "overlays")
    (tmp_path / "overlays/mnist-tfjob/_base/kustomization.yml").write_text("resources: []\n")
    with pytest.raises(render.NotOwn):
        render.render_traced(render.OwnFiles(tmp_path), "overlays/mnist-tfjob/_base")
    with pytest.raises(FindingsError) as caught:
        render.render(render.DiskFiles(tmp_path), "overlays/mnist-tfjob/_base")
    assert "holds both kustomization.yaml and kustomization.yml" in caught.value.diagnostics[0].message
