"""Every rule katib-gitops reports, in one registry: one record per ID, registered where the ID is emitted.

Two ways to register, one record (`Rule`):

* `@rule(ID, LEVEL, doc, ...)` over a check: a function that yields `Finding`s (Katib's rules
  take a `rules.framework.Context`, the spec rules a TuningSpec and its SpecSet). The runner
  turns each finding into a positioned Diagnostic carrying the rule's ID and severity.
* `NAME = declare(ID, LEVEL, doc, ...)` for an ID a stage emits itself: the YAML reader, the
  schema checks, the validator's dispatch, `migrate` (MIG-*) and `import` (import-*).

`run` calls checks. A check that raises is a bug: it becomes one `internal-error` finding that
names the rule, never a silent pass; with KATIB_GITOPS_RAISE_RULE_ERRORS set (the test suite
sets it) the exception propagates instead, so a test fails.

Light on purpose (NamedTuples, no imports beyond the standard library's smallest): every
command that reports anything imports it, `validate FILE` included (docs/performance.md).
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from katib_gitops.core.diagnostics import Severity

# Lowest first; the order `katib-gitops rules` lists them in.
LEVELS = ("TOOL", "SPEC", "ADMIT", "ADMIT-CFG", "ALGO", "RUNTIME", "ADVISORY", "MIGRATE", "IMPORT")
KATIB_LEVELS = ("ADMIT", "ADMIT-CFG", "ALGO", "RUNTIME", "ADVISORY")  # Katib's own rules (katib-rules.md)
RAISE_ENV = "KATIB_GITOPS_RAISE_RULE_ERRORS"

Version = tuple[int, int]
JsonPath = Sequence[str | int]

_KATIB_ID = r"[A-Z]+(-[A-Z0-9]+)*-R?\d+[a-z]?"
_TOOL_ID = r"[a-z][a-z0-9]*(-[a-z0-9]+)*"
_ID_PATTERNS = {
    "TOOL": re.compile(f"({_TOOL_ID}|{_KATIB_ID})\\Z"),  # our own names, and the Katib rules of the schema stage
    "SPEC": re.compile(r"TS(-[A-Z]+)+\Z"),
    "MIGRATE": re.compile(r"MIG-\d\d\Z"),
    "IMPORT": re.compile(r"import(-[a-z]+)+\Z"),
    **{level: re.compile(f"{_KATIB_ID}\\Z") for level in KATIB_LEVELS},
}


class Finding(NamedTuple):
    """What a check found: where (a JSON path into the object it judged) and what; the runner adds the rest."""

    path: JsonPath
    message: str
    hint: str = ""
    severity: Severity | None = None  # overrides the rule's, e.g. for unverified consequences (UP-08)
    at_key: bool = False  # report a mapping's key rather than its value
    # The document `path` is in (a yamlio Document), when not the judged object's own: a spec rule
    # reports a profile's value at its line in the Targets file.
    document: Any = None


Check = Callable[..., Iterable[Finding]]
C = TypeVar("C", bound=Check)


class Rule(NamedTuple):
    """One registered rule ID."""

    id: str
    level: str  # one of LEVELS
    severity: Severity  # the findings' severity, unless a finding overrides it
    doc: str  # one line: what the rule checks
    remediation: str = ""  # how to fix it; empty where each finding's message or hint says it
    since: Version = (0, 0)  # first Katib version the rule applies to (VER-01..07)
    until: Version | None = None  # first Katib version it no longer applies to; None: every later one
    check: Check | None = None  # None for IDs a stage emits itself
    module: str = ""  # where it is registered (the catalogue lists rules in module order)

    def applies(self, version: Version) -> bool:
        return self.since <= version and (self.until is None or version < self.until)


RULES: dict[str, Rule] = {}  # by ID, in registration order


def _register(item: Rule) -> Rule:
    pattern = _ID_PATTERNS.get(item.level)
    if pattern is None or not pattern.match(item.id):
        raise ValueError(f"bad rule registration {item.id!r} ({item.level})")
    if item.id in RULES:
        raise ValueError(f"duplicate rule id {item.id} (in {RULES[item.id].module} and {item.module})")
    if not item.doc.endswith("."):
        raise ValueError(f"the doc of rule {item.id} is not a sentence: {item.doc!r}")
    RULES[item.id] = item
    return item


def _default_severity(level: str) -> Severity:
    return Severity.WARNING if level == "ADVISORY" else Severity.ERROR


def rule(
    rule_id: str,
    level: str,
    doc: str,
    *,
    severity: Severity | None = None,
    remediation: str = "",
    since: Version = (0, 0),
    until: Version | None = None,
) -> Callable[[C], C]:
    """Register the decorated check as rule `rule_id`; ADVISORY rules are warnings unless told otherwise."""
    chosen = severity or _default_severity(level)

    def register(check: C) -> C:
        _register(Rule(rule_id, level, chosen, doc, remediation, since, until, check, check.__module__))
        return check

    return register


def declare(
    rule_id: str,
    level: str,
    doc: str,
    *,
    severity: Severity | None = None,
    remediation: str = "",
    since: Version = (0, 0),
    until: Version | None = None,
) -> Rule:
    """Register an ID that the calling module emits itself (no check); returns its record."""
    module = str(sys._getframe(1).f_globals.get("__name__", ""))
    return _register(
        Rule(rule_id, level, severity or _default_severity(level), doc, remediation, since, until, None, module)
    )


def checks(*levels: str) -> list[Rule]:
    """The registered rules with a check at these levels, in registration order."""
    return [r for r in RULES.values() if r.check is not None and r.level in levels]


def lookup(rule_id: str) -> Rule | None:
    return RULES.get(rule_id)


INTERNAL_ERROR = declare(
    "internal-error",
    "TOOL",
    "Every check runs to its end: one that raises is a bug of katib-gitops, reported instead of passing silently.",
    remediation="Report it, with the input that triggers it; `validate --skip RULE` skips the failing rule meanwhile.",
)


def run(rules: Iterable[Rule], *args: Any) -> Iterator[tuple[Rule, Finding]]:
    """(rule, finding) for every finding of every rule's check on `args`, in the order given.

    A check that raises gives one INTERNAL_ERROR finding at the root of what it judged,
    naming the rule; with RAISE_ENV set, the exception propagates (tests fail on it).
    """
    for item in rules:
        if item.check is None:
            continue
        try:
            found = list(item.check(*args))
        except Exception as exc:
            if os.environ.get(RAISE_ENV):
                raise
            yield INTERNAL_ERROR, internal_error(item, exc)
            continue
        for finding in found:
            yield item, finding


def internal_error(item: Rule, exc: BaseException) -> Finding:
    return Finding((), f"rule {item.id} failed: {type(exc).__name__}: {exc}; please report it")
