"""Every check katib-gitops runs, in one list: for `katib-gitops rules` and report metadata."""

from __future__ import annotations

import dataclasses

from generator import checks
from generator.validate import registry
from generator.validate.core import TOOL_RULES


@dataclasses.dataclass(frozen=True)
class RuleInfo:
    id: str
    level: str  # TOOL, SPEC, or a Katib level (ADMIT, ADMIT-CFG, ALGO, RUNTIME, ADVISORY)
    severity: str
    doc: str


def all_rules() -> list[RuleInfo]:
    registry._load_rule_modules()
    tool = [RuleInfo(rule_id, "TOOL", "error", doc) for rule_id, doc in TOOL_RULES.items()]
    spec = [RuleInfo(r.id, "SPEC", r.severity.value, r.doc) for r in checks.RULES.values()]
    katib = [RuleInfo(r.id, r.level, r.severity.value, r.doc) for r in registry.RULES.values()]
    return tool + spec + katib


def by_id() -> dict[str, RuleInfo]:
    return {r.id: r for r in all_rules()}
