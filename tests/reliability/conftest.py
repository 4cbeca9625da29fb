"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from katib_gitops.yamlio.reader import LIMITS


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    """--max-file-size sets a process-wide limit: put the default back after each test."""
    saved = LIMITS.max_file_bytes
    yield
    LIMITS.max_file_bytes = saved
