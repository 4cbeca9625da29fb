"""Tests find the reference corpora through KATIB_GITOPS_SHARED, and say so when they are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SHARED_ENV

# One test that needs the corpora, run on its own in a child pytest.
PROBE = "tests/validate/test_runtime.py::test_upstream_mpijob_horovod_gets_the_tt_r4_error_of_up_08"


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in (SHARED_ENV, "KATIB_GITOPS_REQUIRE_TOOLS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=300,
    )


def test_a_missing_corpus_skips_with_the_setting_named(tmp_path: Path) -> None:
    result = _pytest(tmp_path, **{SHARED_ENV: str(tmp_path / "nowhere")})
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert f"no upstream corpora in {tmp_path / 'nowhere'}: set {SHARED_ENV}" in result.stdout


def test_ci_turns_that_skip_into_a_failure(tmp_path: Path) -> None:
    result = _pytest(tmp_path, **{SHARED_ENV: str(tmp_path / "nowhere"), "KATIB_GITOPS_REQUIRE_TOOLS": "1"})
    assert result.returncode == 1
    assert "1 error" in result.stdout and SHARED_ENV in result.stdout  # a failing fixture: an error, not a pass


def test_the_setting_points_anywhere(tmp_path: Path) -> None:
    from tests.conftest import SHARED

    if not (SHARED / "upstream").is_dir():
        return  # the default layout is absent: the fixture's own skip covers this case
    (tmp_path / "corpora").symlink_to(SHARED)
    result = _pytest(tmp_path, **{SHARED_ENV: str(tmp_path / "corpora")})
    assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout
