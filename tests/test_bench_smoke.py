"""The benchmark suite still runs and prints every figure (a smoke size: this times nothing)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIGURES = (
    "validate core corpus",
    "parse only",
    "katib-gitops / parse-only",
    "validate Katib Experiments",
    "start-up: --version",
    "start-up: validate one Experiment",
    "generate 20 specs x 10 targets",
    "generate again, nothing changed",
    "render one overlay in process",
    "findings = injected mistakes (file:line:column)",
    "peak memory, validate core corpus --jobs 1",
)


def test_benchmarks_run_at_smoke_size_and_print_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--size", "smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for figure in FIGURES:
        assert f"| {figure}" in result.stdout, figure
    findings = next(line for line in result.stdout.splitlines() if line.startswith("| findings ="))
    assert findings.endswith("| yes |"), findings  # the corpus' injected mistakes are found where they are
