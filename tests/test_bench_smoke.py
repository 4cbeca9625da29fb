"""The benchmark suite still runs and prints every figure (a smoke size: this times nothing)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

FIGURES = (
    "validate core corpus --jobs 1",
    "parse only (PyYAML C loader, one process)",
    "validate --jobs 1 / parse only, CPU",
    "validate --jobs 1 / parse only, wall",
    "findings = injected mistakes (file:line:column)",
    "peak memory, validate core corpus --jobs 1",
    "validate core corpus --jobs 2",
    "validate Katib Experiments, default workers",
    "start-up: validate one Experiment",
    "  import floor of that path",
    "  validate / import floor, wall",
    "start-up: --version",
    "generate 20 specs x 10 targets, fresh",
    "generate again, nothing changed",
    "generate, one spec edited",
    "  one spec edited / fresh, CPU",
    "generate --check, no cache (CI)",
    "plan, one spec edited",
    "  plan / fresh generate, a profile edited, wall",
    "render one overlay, in process",
    "pre-commit run, validate hook, 5 files",
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
    assert "load average before" in result.stdout  # the machine's load is printed with the figures
