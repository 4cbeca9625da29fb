"""Katib rules as small named units, and the context they judge.

Each rule has the stable ID of ../shared/research/katib-rules.md, a level (ADMIT,
ADMIT-CFG, ALGO, RUNTIME, ADVISORY), a severity and a one-line doc, and yields
Findings: a JSON path into the Experiment and a message. Rules see the Experiment
after Katib's defaulting, exactly as Katib's validator does (G-09).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.diagnostics import Severity
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig

Path = tuple[str | int, ...]
LEVELS = ("ADMIT", "ADMIT-CFG", "ALGO", "RUNTIME", "ADVISORY")


class Finding(NamedTuple):
    path: Path
    message: str
    hint: str = ""
    severity: Severity | None = None  # overrides the rule's, e.g. for unverified consequences (UP-08)


class Previous(NamedTuple):
    """An Experiment as it is deployed now, defaulted as Katib stored it, and where it was read."""

    experiment: Mapping[str, Any]
    location: str  # file:line


class Context:
    """One Experiment as Katib's webhooks and services will see it (read-only by convention; parts are computed once)."""

    def __init__(
        self,
        raw: Mapping[str, Any],
        experiment: Mapping[str, Any],
        config: KatibConfig = STANDALONE,
        version: tuple[int, int] = KATIB_VERSION,
        previous: Previous | None = None,
        trial_templates: Mapping[tuple[str, str, str], str] = MappingProxyType({}),
    ) -> None:
        self.raw = raw
        self.experiment = experiment  # defaulted (G-09)
        self.config = config
        self.version = version
        self.previous = previous  # the same Experiment as deployed now (validate --previous)
        self.trial_templates = trial_templates  # (namespace, ConfigMap, key): text

    def trial_template_text(self, namespace: str, name: str, key: str) -> str | None:
        """A ConfigMap trial template given with --trial-templates; a ConfigMap without a namespace matches any."""
        return self.trial_templates.get((namespace, name, key), self.trial_templates.get(("", name, key)))

    @functools.cached_property
    def spec(self) -> Mapping[str, Any]:
        spec = self.experiment.get("spec")
        return spec if isinstance(spec, Mapping) else {}

    @functools.cached_property
    def algorithm_name(self) -> str:
        return str(_get(self.spec, "algorithm", "algorithmName") or "")

    @functools.cached_property
    def service(self) -> str:
        """The suggestion service serving the algorithm, per the katib-config ('' if unknown)."""
        return self.config.suggestions.get(self.algorithm_name, "")

    @functools.cached_property
    def parameters(self) -> list[Mapping[str, Any]]:
        value = self.spec.get("parameters")
        return [p for p in value if isinstance(p, Mapping)] if isinstance(value, list) else []

    def settings(self, *where: str) -> list[tuple[int, str, Any]]:
        """(index, name, value) of the algorithmSettings under `where` (e.g. 'algorithm')."""
        value = _get(self.spec, *where, "algorithmSettings")
        if not isinstance(value, list):
            return []
        return [(i, str(s.get("name", "")), s.get("value")) for i, s in enumerate(value) if isinstance(s, Mapping)]


Check = Callable[[Context], Iterable[Finding]]


class KatibRule(NamedTuple):
    id: str
    level: str
    severity: Severity
    doc: str
    check: Check
    since: tuple[int, int] = (0, 0)  # first Katib version the rule applies to (VER-01..07)

    def applies(self, context: Context) -> bool:
        return context.version >= self.since


RULES: dict[str, KatibRule] = {}
_ID = re.compile(r"[A-Z]+(-[A-Z0-9]+)*-R?\d+[a-z]?\Z")


def rule(
    rule_id: str, level: str, doc: str, *, severity: Severity | None = None, since: tuple[int, int] = (0, 0)
) -> Callable[[Check], Check]:
    """Register `check` as the rule `rule_id`; ADVISORY rules are warnings unless told otherwise."""
    if level not in LEVELS or not _ID.match(rule_id):
        raise ValueError(f"bad rule registration {rule_id!r} ({level})")
    chosen = severity or (Severity.WARNING if level == "ADVISORY" else Severity.ERROR)

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = KatibRule(rule_id, level, chosen, doc, check, since)
        return check

    return register


def context_for(
    raw: Mapping[str, Any],
    config: KatibConfig = STANDALONE,
    version: tuple[int, int] = KATIB_VERSION,
    *,
    previous: Previous | None = None,
    trial_templates: Mapping[tuple[str, str, str], str] = MappingProxyType({}),
) -> Context:
    return Context(raw, apply_katib_defaults(dict(raw), version), config, version, previous, trial_templates)


def run(context: Context, skip: Iterable[str] = ()) -> Iterator[tuple[KatibRule, Finding]]:
    """Every finding of every applicable rule, in registry order."""
    _load_rule_modules()
    skipped = set(skip)
    for item in RULES.values():
        if item.id in skipped or not item.applies(context):
            continue
        try:
            found = list(item.check(context))
        except (TypeError, AttributeError, KeyError, IndexError, ValueError):
            # Rules read the parts they judge as Katib types them; a part of another
            # type is already the schema's error (G-03), so the rule has nothing to add.
            continue
        for finding in found:
            yield item, finding


def _load_rule_modules() -> None:
    import importlib

    for name in RULE_MODULES:
        importlib.import_module(name)


RULE_MODULES = (
    "katib_gitops.rules.admission",
    "katib_gitops.rules.algorithms",
    "katib_gitops.rules.runtime",
    "katib_gitops.rules.advisory",
)


# ------------------------------------------------------------ helpers for rules


def _get(node: Any, *path: str | int) -> Any:
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
    return node


get = _get


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "") or value == [] or value == {}
