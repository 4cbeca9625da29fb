"""One output location: generate writes where gitops.path points the GitOps objects (issue 11, item 7)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.commands.generate.command import GenerateOptions, generate
from katib_gitops.core.diagnostics import UsageError
from katib_gitops.spec.model import repository_root
from tests.helpers import TARGETS, write_specs


def _targets(path: str | None) -> dict[str, Any]:
    targets = copy.deepcopy(TARGETS)
    if path is not None:
        targets["spec"]["gitops"]["path"] = path
    return targets


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["generate", *args])
    return result.exit_code, result.output


def test_without_out_generate_writes_to_gitops_path(in_tmp: Path) -> None:
    write_specs(in_tmp, targets=_targets("deploy/overlays"))
    code, output = _run()
    assert code == 0, output
    assert (in_tmp / "deploy/overlays/demo/team-a/gpu/kustomization.yaml").is_file()
    assert not (in_tmp / "overlays").exists()
    appset = (in_tmp / "deploy/overlays/_gitops/argocd/demo.applicationset.yaml").read_text()
    assert "path: 'deploy/overlays/demo/" in appset
    assert output.startswith("deploy/overlays: ")


def test_without_a_gitops_block_the_default_stays_overlays(in_tmp: Path) -> None:
    targets = _targets(None)
    del targets["spec"]["gitops"]
    write_specs(in_tmp, targets=targets)
    code, output = _run("--out", "elsewhere")  # nothing points at the output: any folder will do
    assert code == 0, output
    code, output = _run()
    assert code == 0, output
    assert (in_tmp / "overlays/demo").is_dir()


def test_out_equal_to_gitops_path_is_accepted_however_spelled(in_tmp: Path) -> None:
    write_specs(in_tmp, targets=_targets("/deploy/overlays/"))
    assert _run("--out", "deploy/overlays")[0] == 0
    assert _run("--out", str(in_tmp / "deploy" / "x" / ".." / "overlays"))[0] == 0


def test_out_different_from_gitops_path_is_a_usage_error_naming_both(in_tmp: Path) -> None:
    write_specs(in_tmp, targets=_targets("deploy/overlays"))
    code, output = _run("--out", "overlays")
    assert code == 2
    assert "--out overlays" in output and "gitops.path 'deploy/overlays'" in output
    assert str(in_tmp / "deploy/overlays") in output
    assert not (in_tmp / "overlays").exists() and not (in_tmp / "deploy").exists()


def test_a_gitops_block_without_path_means_overlays(in_tmp: Path) -> None:
    write_specs(in_tmp, targets=_targets(None))
    assert _run("--out", "out")[0] == 2
    assert _run()[0] == 0 and (in_tmp / "overlays/demo").is_dir()


def test_gitops_path_starts_at_the_repository_root_whatever_the_working_folder(in_tmp: Path) -> None:
    repo = in_tmp / "repo"
    (repo / ".git").mkdir(parents=True)
    specs = write_specs(repo / "hpo", targets=_targets("hpo/overlays"))
    assert repository_root(specs) == repo
    (in_tmp / "elsewhere").mkdir()
    os.chdir(in_tmp / "elsewhere")
    code, output = _run("--specs", str(specs))
    assert code == 0, output
    assert (repo / "hpo/overlays/demo").is_dir()
    assert _run("--specs", str(specs), "--out", str(repo / "overlays"))[0] == 2


def test_outside_a_repository_gitops_path_starts_at_the_specs_folders_parent(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "project", targets=_targets("deploy"))
    assert repository_root(specs) == tmp_path / "project"
    generate(GenerateOptions(specs_dir=specs, out_dir=tmp_path / "project" / "deploy"))
    with pytest.raises(UsageError, match=r"gitops\.path 'deploy'"):
        generate(GenerateOptions(specs_dir=specs, out_dir=tmp_path / "deploy"))
