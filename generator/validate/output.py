"""Writes a validation outcome in the chosen format and returns the exit code."""

from __future__ import annotations

from typing import TextIO

from generator.diagnostics import Severity
from generator.validate.core import Outcome


def exit_code(outcome: Outcome, *, strict_warnings: bool) -> int:
    if any(d.severity is Severity.ERROR for d in outcome.diagnostics):
        return 1
    if strict_warnings and outcome.diagnostics:
        return 1
    return 0


def emit(outcome: Outcome, output_format: str, stream: TextIO, *, strict_warnings: bool) -> int:
    for diagnostic in outcome.diagnostics:
        stream.write(diagnostic.format() + "\n")
    errors = sum(d.severity is Severity.ERROR for d in outcome.diagnostics)
    warnings = len(outcome.diagnostics) - errors
    stream.write(f"{errors} error(s), {warnings} warning(s) in {len(outcome.files)} file(s) ({outcome.documents} documents)\n")
    return exit_code(outcome, strict_warnings=strict_warnings)
