"""Turns a validation outcome into a Report, writes it in the chosen format, returns the exit code."""

from __future__ import annotations

import os
from typing import TextIO

from katib_gitops.commands.report import Report, rules_info, use_color, write_report
from katib_gitops.rules.validator import Outcome

# Formats that describe the rules that fired (the others only need the findings).
DESCRIBE_RULES = ("json", "sarif")


def to_report(outcome: Outcome, *, describe_rules: bool = True) -> Report:
    if not describe_rules:
        return Report(outcome.diagnostics, outcome.files, outcome.documents)
    from katib_gitops.core import registry
    from katib_gitops.rules import catalog  # noqa: F401  registers every rule validate reports: only when needed

    fired = sorted({d.rule_id for d in outcome.diagnostics})
    known = [rule for rule in map(registry.lookup, fired) if rule is not None]
    return Report(outcome.diagnostics, outcome.files, outcome.documents, rules_info(known))


def emit(outcome: Outcome, output_format: str, stream: TextIO, *, strict_warnings: bool) -> int:
    report = to_report(outcome, describe_rules=output_format in DESCRIBE_RULES)
    color = output_format == "text" and use_color(stream, os.environ)
    write_report(report, stream, output_format, color=color)
    return report.exit_code(strict_warnings)
