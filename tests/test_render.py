"""In-process render equals `kubectl kustomize` for every overlay katib-gitops writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml as pyyaml

from katib_gitops.kustomize import render
from tests.conftest import ROOT

OVERLAY_DIRS = sorted(p.parent for p in (ROOT / "overlays").rglob("kustomization.yaml") if "_base" not in p.parts)


def _key(resource: dict) -> tuple[str, ...]:
    meta = resource.get("metadata", {})
    return (resource.get("apiVersion", ""), resource.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def test_there_are_overlays_to_compare() -> None:
    assert len(OVERLAY_DIRS) == 12  # 3 bundled specs x 2 namespaces x 2 profiles


@pytest.mark.parametrize("overlay", OVERLAY_DIRS, ids=lambda p: p.relative_to(ROOT / "overlays").as_posix())
def test_in_process_render_equals_kubectl_kustomize(overlay: Path, kubectl: str) -> None:
    built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=True).stdout
    theirs = sorted(pyyaml.safe_load_all(built), key=_key)
    ours = sorted(render.render(render.DiskFiles(ROOT), overlay.relative_to(ROOT).as_posix()), key=_key)
    assert ours == theirs


def test_render_refuses_kustomization_features_it_does_not_implement(tmp_path: Path) -> None:
    from katib_gitops.core.diagnostics import FindingsError

    (tmp_path / "kustomization.yaml").write_text("resources: []\nnamePrefix: x-\n")
    with pytest.raises(FindingsError) as caught:
        render.render(render.DiskFiles(tmp_path), ".")
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.column) == (2, 1) and "namePrefix" in problem.message


def test_render_reports_a_patch_that_does_not_apply(tmp_path: Path) -> None:
    from katib_gitops.core.diagnostics import FindingsError

    (tmp_path / "r.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [r.yaml]\npatches:\n"
        "  - target: {kind: ConfigMap}\n    patch: '[{op: add, path: /data/x, value: 1}]'\n"
    )
    with pytest.raises(FindingsError) as caught:
        render.render(render.DiskFiles(tmp_path), ".")
    assert "missing path /data" in caught.value.diagnostics[0].message
    assert caught.value.diagnostics[0].line == 3


def test_the_renderer_knows_the_manifest_generate_writes() -> None:
    # OwnFiles recognises katib-gitops' trees by the manifest generate writes and the header of its files.
    from katib_gitops.commands.generate import on_disk

    assert render.MANIFEST == on_disk.MANIFEST
    assert (ROOT / "overlays" / "mnist-tfjob" / "_base" / "experiment.yaml").read_text().startswith(render.HEADER)


@pytest.mark.parametrize("overlay", OVERLAY_DIRS, ids=lambda p: p.relative_to(ROOT / "overlays").as_posix())
def test_our_overlays_are_recognised_as_ours(overlay: Path) -> None:
    # validate and render serve them in process (proven equal to kubectl above), no kustomize needed
    ours = render.render_traced(render.OwnFiles(ROOT), overlay.relative_to(ROOT).as_posix())[0]
    assert ours == render.render(render.DiskFiles(ROOT), overlay.relative_to(ROOT).as_posix())
