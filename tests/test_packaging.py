"""The wheel: import name katib_gitops, schemas inside, and no clash with other distributions."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

from tests.conftest import ROOT
from tests.helpers import write_specs

PACKAGE = ROOT / "generator"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (built,) = dist.glob("katib_gitops-*.whl")
    return built


def run(argv: list[str], cwd: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True, env=env)


def test_the_wheel_ships_katib_gitops_with_its_schemas_license_and_types(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {
            "katib_gitops/schemas/tuningspec.schema.json",
            "katib_gitops/schemas/targets.schema.json",
            "katib_gitops/py.typed",
        } <= names
        assert not any(n.startswith("generator/") for n in names)
        assert any(n.endswith("licenses/LICENSE") for n in names)
        assert any(
            n.endswith("entry_points.txt") and b"katib-gitops = katib_gitops.cli.console:entry" in archive.read(n)
            for n in names
        )


def test_every_subpackage_of_the_folder_is_in_the_wheel() -> None:
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        "katib_gitops" + "".join(f".{p}" for p in init.parent.relative_to(PACKAGE).parts)
        for init in PACKAGE.rglob("__init__.py")
    }
    assert found | {"katib_gitops.schemas"} == declared


def test_the_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    project = tmp_path / "elsewhere"
    write_specs(project)
    result = run(["-m", "katib_gitops", "generate"], project, site)
    assert result.returncode == 0, result.stderr
    assert (project / "overlays" / "demo" / "_base" / "experiment.yaml").is_file()
    probe = run(["-c", "import katib_gitops.schema.ours as s; print(s.schema_dir())"], project, site)
    assert probe.stdout.strip() == str(site / "katib_gitops" / "schemas")


def test_a_distribution_with_a_package_named_generator_leaves_both_working(wheel: Path, tmp_path: Path) -> None:
    """Before the rename, any other distribution's top-level `generator` package shadowed ours."""
    other = tmp_path / "other"
    (other / "generator").mkdir(parents=True)
    (other / "generator" / "__init__.py").write_text("WHO = 'the other distribution'\n")
    (other / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "other-generator"\nversion = "1.0"\n[tool.setuptools]\npackages = ["generator"]\n'
    )
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel), str(other)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    project = tmp_path / "elsewhere"
    write_specs(project)
    assert run(["-m", "katib_gitops", "generate"], project, site).returncode == 0
    assert (
        run(["-c", "import generator; print(generator.WHO)"], project, site).stdout.strip() == "the other distribution"
    )
    for path in [site / "generator" / "__init__.py", *site.glob("other_generator-*.dist-info/*")]:
        path.unlink()  # what uninstalling the other distribution removes
    again = run(["-m", "katib_gitops", "validate", "overlays"], project, site)
    assert again.returncode == 0, again.stderr
