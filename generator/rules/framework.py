"""Katib's rules: the context they judge, the runner that calls them, and helpers for them.

Each rule (admission, algorithms, runtime, advisory) is registered with `core.registry.rule`
under the stable ID of ../shared/research/katib-rules.md, at a Katib level (ADMIT, ADMIT-CFG,
ALGO, RUNTIME, ADVISORY), and yields `core.registry.Finding`s: a JSON path into the
Experiment and a message. Rules see the Experiment after Katib's defaulting, exactly as
Katib's validator does (G-09).

The trees rules judge are plain: dicts, lists and scalars, as the YAML builder
(yamlio/builder.py) yields them and as generate builds them. So rules test
`isinstance(x, dict)` rather than against `collections.abc.Mapping`, an ABC check several
times slower, which added up to a large part of validating an Experiment.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from katib_gitops.core import registry
from katib_gitops.core.defaults import apply_katib_defaults
from katib_gitops.core.kinds import KATIB_VERSION
from katib_gitops.core.registry import Finding, Rule
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig

Path = tuple[str | int, ...]
T = TypeVar("T")


class Previous(NamedTuple):
    """An Experiment as it is deployed now, defaulted as Katib stored it, and where it was read."""

    experiment: Mapping[str, Any]
    location: str  # file:line


class Context:
    """One Experiment as Katib's webhooks and services will see it.

    Read-only by convention; its parts are computed once, and so are the helpers that
    several rules share (`shared`).
    """

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
        self.memo: dict[Callable[[Context], Any], Any] = {}  # the results of `shared` helpers
        # What nearly every rule reads, computed here (cheap) rather than as cached properties, whose
        # first read takes a lock on Python 3.11.
        spec = _get(experiment, "spec")
        self.spec: Mapping[str, Any] = spec if isinstance(spec, dict) else {}
        self.algorithm_name = str(_get(self.spec, "algorithm", "algorithmName") or "")
        # The suggestion service serving the algorithm, per the katib-config ('' if unknown).
        self.service: str = config.suggestions.get(self.algorithm_name, "")
        parameters = self.spec.get("parameters")
        self.parameters: list[Mapping[str, Any]] = (
            [p for p in parameters if isinstance(p, dict)] if isinstance(parameters, list) else []
        )

    def trial_template_text(self, namespace: str, name: str, key: str) -> str | None:
        """A ConfigMap trial template given with --trial-templates; a ConfigMap without a namespace matches any."""
        return self.trial_templates.get((namespace, name, key), self.trial_templates.get(("", name, key)))

    def settings(self, *where: str) -> list[tuple[int, str, Any]]:
        """(index, name, value) of the algorithmSettings under `where` (e.g. 'algorithm')."""
        value = _get(self.spec, *where, "algorithmSettings")
        if not isinstance(value, list):
            return []
        return [(i, str(s.get("name", "")), s.get("value")) for i, s in enumerate(value) if isinstance(s, dict)]


def context_for(
    raw: Mapping[str, Any],
    config: KatibConfig = STANDALONE,
    version: tuple[int, int] = KATIB_VERSION,
    *,
    previous: Previous | None = None,
    trial_templates: Mapping[tuple[str, str, str], str] = MappingProxyType({}),
) -> Context:
    return Context(raw, apply_katib_defaults(dict(raw), version), config, version, previous, trial_templates)


def shared(compute: Callable[[Context], T]) -> Callable[[Context], T]:
    """`compute`, run once per Context: for what several rules derive alike from one Experiment.

    Every rule then gets the same result, so none may change it.
    """

    @functools.wraps(compute)
    def once(ctx: Context) -> T:
        memo = ctx.memo
        if compute not in memo:
            memo[compute] = compute(ctx)
        result: T = memo[compute]
        return result

    return once


def rules() -> list[Rule]:
    """Katib's rules, every level, in registration order (the imports register them)."""
    from katib_gitops.rules import admission, advisory, algorithms, runtime  # noqa: F401

    return registry.checks(*registry.KATIB_LEVELS)


# (version, skipped) -> (the registry's records when chosen, the rules chosen)
_CHOSEN: dict[tuple[tuple[int, int], frozenset[str]], tuple[tuple[Rule, ...], list[Rule]]] = {}


def chosen(version: tuple[int, int], skipped: frozenset[str]) -> list[Rule]:
    """rules() that apply to Katib `version`, less `skipped`: chosen once, again only if the registry changed."""
    records = tuple(registry.RULES.values())  # compared item by item, by identity first: cheap when unchanged
    cached = _CHOSEN.get((version, skipped))
    if cached is None or cached[0] != records:
        picked = [r for r in rules() if r.id not in skipped and r.applies(version)]
        cached = _CHOSEN[(version, skipped)] = (tuple(registry.RULES.values()), picked)
    return cached[1]


def run(context: Context, skip: Iterable[str] = ()) -> Iterator[tuple[Rule, Finding]]:
    """Every finding of every applicable rule, in registry order; a rule that raises is an internal-error finding."""
    return registry.run(chosen(context.version, frozenset(skip)), context)


# ------------------------------------------------------------ helpers for rules


def _get(node: Any, *path: str | int) -> Any:
    """The value at `path` (keys and list indexes) under `node`, or None where the path leads nowhere."""
    for part in path:
        if isinstance(node, dict):
            node = None if isinstance(part, int) else node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


get = _get


def hashable(value: Any) -> bool:
    """False for a list or mapping where Katib wants a string or number.

    G-03 reports the wrong type; rules skip such a value and judge the rest. (In a plain
    tree only these two are unhashable.)
    """
    return not isinstance(value, (dict, list))


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "") or value == [] or value == {}
