"""The wheel carries the schemas, so an installed katib-gitops works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT
from tests.helpers import write_specs


def test_the_wheel_ships_the_schemas_and_works_outside_the_checkout(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp_path / "dist").glob("katib_gitops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {"generator/schemas/tuningspec.schema.json", "generator/schemas/targets.schema.json"} <= names
        assert any(n.endswith("entry_points.txt") and b"katib-gitops = generator.console:entry" in archive.read(n) for n in names)
        archive.extractall(tmp_path / "site")
    project = tmp_path / "elsewhere"
    write_specs(project)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run([sys.executable, "-m", "generator", "generate"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert (project / "overlays" / "demo" / "_base" / "experiment.yaml").is_file()
    probe = subprocess.run([sys.executable, "-c", "import generator.schema as s; print(s.schema_dir())"], cwd=project, capture_output=True, text=True, env=env)
    assert probe.stdout.strip() == str(tmp_path / "site" / "generator" / "schemas")
