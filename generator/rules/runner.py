"""Findings of registered checks as positioned diagnostics: the rule's ID, the finding's place in its document."""

from __future__ import annotations

from collections.abc import Iterable

from katib_gitops.core.diagnostics import Diagnostic
from katib_gitops.core.registry import Finding, Rule
from katib_gitops.yamlio.documents import Document


def diagnostic(document: Document, rule: Rule, finding: Finding) -> Diagnostic:
    """`finding` of `rule` at its path in `document`, with the finding's severity or else the rule's."""
    where: Document = finding.document or document
    found = where.diagnostic(list(finding.path), rule.id, finding.message, finding.hint, at_key=finding.at_key)
    return found._replace(severity=finding.severity or rule.severity)


def diagnostics(document: Document, found: Iterable[tuple[Rule, Finding]]) -> list[Diagnostic]:
    return [diagnostic(document, rule, finding) for rule, finding in found]
