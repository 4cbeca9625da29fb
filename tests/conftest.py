"""Shared fixtures: paths, the ../shared reference material, and tool-gated skips."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from katib_gitops.core.registry import RAISE_ENV

ROOT = Path(__file__).resolve().parent.parent
# The one setting for the reference corpora (upstream/, realworld/, research/): tests read them only through it.
SHARED_ENV = "KATIB_GITOPS_SHARED"
SHARED = Path(os.environ.get(SHARED_ENV) or ROOT.parent / "shared").resolve()
REQUIRE_TOOLS = os.environ.get("KATIB_GITOPS_REQUIRE_TOOLS") == "1"
# A rule that raises fails the test instead of becoming an internal-error finding (core/registry.py):
# set here, at import, so the processes tests start inherit it too.
os.environ[RAISE_ENV] = "1"


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail in CI, where KATIB_GITOPS_REQUIRE_TOOLS=1 says every tool is present."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{reason} (KATIB_GITOPS_REQUIRE_TOOLS=1 turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests (and the processes they start) keep katib-gitops' user cache in a folder of their own."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        skip_or_fail("kubectl is not installed: cannot compare with `kubectl kustomize`")
    return str(path)


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "upstream").is_dir():
        skip_or_fail(
            f"no upstream corpora in {SHARED}: set {SHARED_ENV} to the folder holding upstream/ (default ../shared)"
        )
    return SHARED


@pytest.fixture
def repo_specs() -> Path:
    return ROOT / "specs"


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """The test's temporary folder as the working folder, for commands that resolve paths from it."""
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)
