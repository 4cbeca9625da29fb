"""ADVISORY rules: not Katib rules, but what keeps an admitted Experiment doing what it says (katib-rules.md).

Warnings. Where another rule already reports the same condition with its real
consequence (an ADMIT rule, or a service's ALGO/RUNTIME rule such as HO-09,
OP-06, SK-09 or HB-07), the advisory rule defers to it instead of repeating it.
Not implemented here: G-05 (implemented elsewhere) and UPD-05
(needs the previously deployed object).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from katib_gitops.core.kinds import COUNT_FIELDS
from katib_gitops.core.registry import Finding, rule
from katib_gitops.rules.admission import (
    COLLECTOR,
    NAME_PREFIX,
    TEMPLATE,
    _collector,
    _file_path,
    _parameters,
    _template,
    _trial_parameters,
    is_meta_reference,
)
from katib_gitops.rules.framework import Context, Path, get, hashable, is_blank

SPEC: Path = ("spec",)
OBJECTIVE: Path = ("spec", "objective")
DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
METRIC_NAME = re.compile(r"[A-Za-z0-9_|-]+\Z")  # what the default filter's ([\w|-]+) captures (Go: ASCII \w)
INT_LITERAL = re.compile(r"[+-]?[0-9]+\Z")
FLOAT_LITERAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
STRATEGIES = ("min", "max", "latest")
SIDECAR_COLLECTORS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric")
FILTERED_COLLECTORS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom")
# Compiled at first use, like GROUP_FLAGS and QUANTIFIER_BRACES: only an Experiment with a metrics filter
# needs them, and each compile costs a one-file run (a pre-commit hook's) about 0.1 ms.
TWO_GROUPS = functools.cache(lambda: re.compile(r".*\(.*\).*\(.*\).*", re.DOTALL))
NAS_SERVICES = ("enas", "darts")
NO_STOP_RULES = ("TensorFlowEvent", "PrometheusMetric", "Custom", "Push", "None")
IGNORING_DISTRIBUTION = {
    "goptuna": "samples uniformly",
    "hyperband": "samples uniformly",
    "pbt": "samples an evenly spaced grid",
}


def _space(index: int, *rest: str | int) -> Path:
    return SPEC + ("parameters", index, "feasibleSpace", *rest)


def _number(value: Any, kind: Any) -> float | None:
    """The value of a well-formed int/double bound (PARAM-12/13), else None."""
    pattern = INT_LITERAL if kind == "int" else FLOAT_LITERAL
    return float(value) if isinstance(value, str) and pattern.match(value) else None


def _numeric(ctx: Context) -> Iterator[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    """The int and double parameters: (index, parameter, feasibleSpace)."""
    return ((i, p, s) for i, p, s in _parameters(ctx) if p.get("parameterType") in ("int", "double"))


# --------------------------------------------------------------- name and objective (§1, §4)


@rule(
    "NAME-03",
    "ADVISORY",
    "metadata.name is a DNS-1035 label of at most 40 characters: Katib derives Deployment, Service and PV names from "
    "it.",
)
def name_dns_label(ctx: Context) -> Iterator[Finding]:
    name = get(ctx.experiment, "metadata", "name")
    if not isinstance(name, str) or not NAME_PREFIX.match(name):
        return  # NAME-01
    where = ("metadata", "name")
    if not DNS_LABEL.match(name):
        yield Finding(
            where,
            f"Experiment name {name!r} must consist of lower-case letters, digits and '-', and end with a letter or "
            "digit",
            "Katib's check has no end anchor, but the suggestion Deployment and Service named after it need a DNS "
            "label",
        )
    elif len(name) > 40:
        if ctx.version < (0, 18):  # from 0.18 on, NAME-02 refuses it
            yield Finding(
                where, f"Experiment name is {len(name)} characters, more than 40", "Katib >= 0.18 refuses it (NAME-02)"
            )
    elif len(name) + 1 + len(ctx.algorithm_name) > 63:
        yield Finding(
            where,
            f"'{name}-{ctx.algorithm_name}' is longer than 63 characters",
            "Katib names the suggestion Deployment and Service so",
        )


@rule(
    "OBJ-06",
    "ADVISORY",
    "metricStrategies values are min, max or latest, and each names a distinct objective or additional metric.",
)
def metric_strategies(ctx: Context) -> Iterator[Finding]:
    objective = ctx.spec.get("objective")
    strategies = objective.get("metricStrategies") if isinstance(objective, dict) else None
    if not isinstance(objective, dict) or not isinstance(strategies, list):
        return
    extra = objective.get("additionalMetricNames")
    named = (objective.get("objectiveMetricName"), *(extra if isinstance(extra, list) else []))
    known = {name for name in named if hashable(name)}
    seen: set[Any] = set()
    for index, strategy in enumerate(strategies):
        if not isinstance(strategy, dict):
            continue
        where = OBJECTIVE + ("metricStrategies", index)
        name, value = strategy.get("name"), strategy.get("value")
        if not isinstance(name, str) or not isinstance(value, (str, type(None))):
            continue  # a wrong type is G-03's error
        if value not in STRATEGIES:
            yield Finding(
                where + ("value",),
                f"metric strategy {value!r} for {name!r} is not min, max or latest: every trial's metric is treated "
                "as unavailable",
            )
        if name not in known:
            yield Finding(
                where + ("name",),
                f"metric strategy for {name!r}, which is neither the objective nor an additional metric",
            )
        elif name in seen:
            yield Finding(where + ("name",), f"second metric strategy for {name!r}")
        seen.add(name)


def _metric_names(ctx: Context) -> Iterator[tuple[Path, Any]]:
    objective = ctx.spec.get("objective")
    if not isinstance(objective, dict):
        return
    yield OBJECTIVE + ("objectiveMetricName",), objective.get("objectiveMetricName")
    extra = objective.get("additionalMetricNames")
    for index, name in enumerate(extra if isinstance(extra, list) else []):
        yield OBJECTIVE + ("additionalMetricNames", index), name


def _default_filter(ctx: Context) -> bool:
    """StdOut or a TEXT File collector without metricsFormat: Katib's default `name=value` filter."""
    kind, source = _collector(ctx)
    custom = get(source, "filter", "metricsFormat")
    text = kind == "StdOut" or (kind == "File" and _file_path(source).get("format") == "TEXT")
    return text and (not isinstance(custom, list) or not custom)


@rule(
    "OBJ-08",
    "ADVISORY",
    "Metric names contain no ';', and only [A-Za-z0-9_|-] when Katib's default filter parses them.",
)
def metric_name_characters(ctx: Context) -> Iterator[Finding]:
    kind, _ = _collector(ctx)
    default = _default_filter(ctx)
    for where, name in _metric_names(ctx):
        if not isinstance(name, str) or not name:
            continue
        if ";" in name and kind in SIDECAR_COLLECTORS:
            yield Finding(
                where, f"metric name {name!r} contains ';', which separates metric names for the collector sidecar"
            )
        elif default and not METRIC_NAME.match(name):
            yield Finding(
                where,
                f"metric name {name!r} cannot be read by the default filter, which takes names of [A-Za-z0-9_|-]",
                "rename the metric, or give metricsCollectorSpec.source.filter.metricsFormat",
            )


# --------------------------------------------------------------- algorithm, early stopping (§5, §6)


@rule(
    "PBT-07",
    "ADVISORY",
    "pbt runs with resumePolicy FromVolume and a non-empty suggestion_trial_dir, so trial pods get the checkpoint "
    "volume.",
)
def pbt_from_volume(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "pbt":
        return
    if ctx.spec.get("resumePolicy") != "FromVolume":
        yield Finding(
            SPEC + ("resumePolicy",),
            f"pbt with resumePolicy {ctx.spec.get('resumePolicy')!r}: the suggestion PVC the trial pods mount is only "
            "created with FromVolume",
            "set resumePolicy: FromVolume",
        )
    for index, name, value in ctx.settings("algorithm"):
        if name == "suggestion_trial_dir" and (value is None or not str(value).strip()):
            yield Finding(
                SPEC + ("algorithm", "algorithmSettings", index, "value"),
                "an empty suggestion_trial_dir disables the checkpoint volume of trial pods",
            )


@rule("ES-09", "ADVISORY", "Early stopping is used with a StdOut or File collector: only they enforce stop rules.")
def early_stopping_collector(ctx: Context) -> Iterator[Finding]:
    kind, _ = _collector(ctx)
    if isinstance(ctx.spec.get("earlyStopping"), dict) and kind in NO_STOP_RULES:
        yield Finding(
            SPEC + ("earlyStopping",),
            f"early stopping with a {kind} collector: trials are never stopped early",
            "use a StdOut or File metrics collector",
        )


# --------------------------------------------------------------- parameters (§8)


@rule(
    "PARAM-11",
    "ADVISORY",
    "Parameter names are set and unique (goptuna rejects duplicates, hyperband crashes on them).",
)
def parameter_names(ctx: Context) -> Iterator[Finding]:
    seen: set[Any] = set()
    for index, parameter, _ in _parameters(ctx):
        name = parameter.get("name")
        where = SPEC + ("parameters", index, "name")
        if is_blank(name):
            yield Finding(where, "parameter name is empty")
        elif hashable(name) and name in seen:
            yield Finding(where, f"parameter name {name!r} is duplicated")
        if hashable(name):
            seen.add(name)


def _bound_problems(ctx: Context, kind: str, pattern: re.Pattern[str], wanted: str) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") != kind:
            continue
        for key in ("min", "max", "step"):
            value = space.get(key)  # non-strings are G-03's: Katib cannot even decode them
            if isinstance(value, str) and value and not pattern.match(value):
                yield Finding(_space(index, key), f"{kind} {key} {value!r} is not {wanted}")


@rule(
    "PARAM-12",
    "ADVISORY",
    "int min/max/step are base-10 integer literals, read alike by Python int() and Go strconv.Atoi.",
)
def int_bounds(ctx: Context) -> Iterator[Finding]:
    yield from _bound_problems(ctx, "int", INT_LITERAL, "a base-10 integer literal (digits, optional sign)")


@rule(
    "PARAM-13",
    "ADVISORY",
    "double min/max/step are finite decimal or scientific literals (no inf, nan, hex or underscores).",
)
def double_bounds(ctx: Context) -> Iterator[Finding]:
    yield from _bound_problems(ctx, "double", FLOAT_LITERAL, "a finite decimal literal")


@rule(
    "PARAM-14", "ADVISORY", "min <= max (for bayesianoptimization SK-09 reports min >= max as a runtime error instead)."
)
def bounds_ordered(ctx: Context) -> Iterator[Finding]:
    if ctx.service == "skopt":
        return
    for index, parameter, space in _numeric(ctx):
        low, high = (
            _number(space.get("min"), parameter.get("parameterType")),
            _number(space.get("max"), parameter.get("parameterType")),
        )
        if low is not None and high is not None and low > high:
            yield Finding(_space(index, "min"), f"min {space['min']} is greater than max {space['max']}")


@rule(
    "PARAM-15",
    "ADVISORY",
    "step, when set, is greater than 0 (a zero step under grid or pbt is OP-05's or PBT-06's error).",
)
def step_positive(ctx: Context) -> Iterator[Finding]:
    enumerated = ctx.service == "pbt" or (ctx.service, ctx.algorithm_name) == ("optuna", "grid")
    for index, parameter, space in _numeric(ctx):
        step = _number(space.get("step"), parameter.get("parameterType"))
        if step is not None and (step < 0 or (step == 0 and not enumerated)):
            yield Finding(_space(index, "step"), f"step {space['step']} must be greater than 0")


def _list_problems(values: list[Any], numeric: bool) -> Iterator[tuple[int, str]]:
    seen: set[str] = set()
    for item, value in enumerate(values):
        if repr(value) in seen:
            yield item, f"list item {value!r} is duplicated"
        elif numeric and _number(value, "double") is None:
            yield item, f"discrete list item {value!r} is not a number"
        seen.add(repr(value))


@rule(
    "PARAM-16",
    "ADVISORY",
    "categorical/discrete lists are non-empty with unique items; discrete items are numbers (under hyperband, HB-07 "
    "checks discrete lists).",
)
def parameter_lists(ctx: Context) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        kind = parameter.get("parameterType")
        if kind not in ("categorical", "discrete"):
            continue
        values, hyperband = space.get("list"), kind == "discrete" and ctx.service == "hyperband"
        if not isinstance(values, list) or not values:
            if not hyperband:
                yield Finding(
                    _space(index, "list"), f"{kind} parameter has no list values: every suggestion service fails on it"
                )
            continue
        for item, message in _list_problems(values, kind == "discrete" and not hyperband):
            yield Finding(_space(index, "list", item), message)


@rule(
    "PARAM-17",
    "ADVISORY",
    "logUniform/logNormal bounds are > 0. Deferred: hyperopt (HO-09), skopt (SK-09), optuna logNormal (OP-06); "
    "ignored distributions: PARAM-18.",
)
def log_bounds_positive(ctx: Context) -> Iterator[Finding]:
    if ctx.service in ("hyperopt", "skopt", *IGNORING_DISTRIBUTION):
        return
    for index, parameter, space in _numeric(ctx):
        distribution, kind = space.get("distribution"), parameter.get("parameterType")
        if distribution not in ("logUniform", "logNormal") or (ctx.service == "optuna" and distribution == "logNormal"):
            continue
        for key in ("min", "max"):
            value = _number(space.get(key), kind)
            if value is not None and value <= 0:
                clamp = (
                    f" (optuna raises it to {'1' if kind == 'int' else '1e-10'})"
                    if ctx.service == "optuna" and key == "min"
                    else ""
                )
                yield Finding(_space(index, key), f"{distribution} needs {key} > 0, not {space[key]}{clamp}")
                break


def _distribution_note(service: str, kind: Any, distribution: Any) -> str | None:
    """Why `service` does not honour `distribution` for a `kind` parameter, or None (PARAM-18 table)."""
    if distribution in (None, "", "unknown") or service in ("", "hyperopt", "enas", "darts"):
        return None
    if kind in ("categorical", "discrete"):
        return None if distribution == "uniform" else "chooses among the list items"
    if service == "skopt":
        wanted = "logUniform" if kind == "double" else "uniform"
        return (
            None
            if distribution == wanted
            else f"samples {kind} parameters {'log-uniformly' if kind == 'double' else 'uniformly'}"
        )
    if service in IGNORING_DISTRIBUTION and distribution != "uniform":
        return IGNORING_DISTRIBUTION[service]
    return None  # optuna: logUniform honoured, normal/logNormal are OP-06's runtime error


def _written(ctx: Context, index: int) -> bool:
    parameters = (ctx.raw.get("spec") or {}).get("parameters") if isinstance(ctx.raw.get("spec"), dict) else None
    if not isinstance(parameters, list) or index >= len(parameters) or not isinstance(parameters[index], dict):
        return False
    space = parameters[index].get("feasibleSpace")
    return isinstance(space, dict) and not is_blank(space.get("distribution"))


def _step_ignored(service: str, kind: Any, distribution: Any) -> bool:
    if kind not in ("int", "double"):
        return False
    return service in ("skopt", "hyperband") or (service == "optuna" and distribution == "logUniform")


@rule(
    "PARAM-18",
    "ADVISORY",
    "The algorithm's service honours each parameter's distribution and step (distribution table of katib-rules.md "
    "8.18).",
)
def distribution_supported(ctx: Context) -> Iterator[Finding]:
    service, algorithm = ctx.service, ctx.algorithm_name
    for index, parameter, space in _parameters(ctx):
        kind, distribution = parameter.get("parameterType"), space.get("distribution")
        # Only a distribution the author wrote: one Katib filled in (DEF-13) expresses no intent.
        note = _distribution_note(service, kind, distribution) if _written(ctx, index) else None
        if note is not None:
            yield Finding(
                _space(index, "distribution"), f"{algorithm} ({service}) ignores distribution {distribution}: it {note}"
            )
        if not is_blank(space.get("step")) and _step_ignored(service, kind, distribution):
            yield Finding(_space(index, "step"), f"{algorithm} ({service}) ignores step for this {kind} parameter")


@rule(
    "PARAM-19",
    "ADVISORY",
    "No parameterType or distribution 'unknown': admitted, but no suggestion service supports it.",
)
def nothing_unknown(ctx: Context) -> Iterator[Finding]:
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") == "unknown":
            yield Finding(
                SPEC + ("parameters", index, "parameterType"),
                "parameterType 'unknown' is not supported by any suggestion service",
            )
        if space.get("distribution") == "unknown":
            yield Finding(
                _space(index, "distribution"), "distribution 'unknown' is not supported by any suggestion service"
            )


@rule(
    "PARAM-20",
    "ADVISORY",
    "Each parameter is referenced by at most one trialParameter, counting every written entry. A parameter "
    "referenced by none "
    "is TT-R1's runtime error, not repeated here.",
)
def parameter_referenced_once(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    if template is None:
        return
    referencing: dict[str, list[str]] = {}
    for _, entry, _ in _trial_parameters(ctx):
        reference = entry.get("reference")
        if isinstance(reference, str) and reference and not is_meta_reference(reference):
            referencing.setdefault(reference, []).append(str(entry.get("name")))
    for index, parameter, _ in _parameters(ctx):
        names = referencing.get(str(parameter.get("name")), [])
        if len(names) > 1:
            yield Finding(
                SPEC + ("parameters", index, "name"),
                f"parameter {parameter['name']!r} is referenced by {len(names)} trialParameters ({', '.join(names)})",
                "Katib keeps the first and rejects the others (TT-11/TT-12): reference each parameter once",
            )


# --------------------------------------------------------------- NAS (§9)


@rule("NAS-02", "ADVISORY", "nasConfig goes with enas/darts, parameters with the hyperparameter algorithms.")
def nas_matches_algorithm(ctx: Context) -> Iterator[Finding]:
    has_parameters, has_nas = not is_blank(ctx.spec.get("parameters")), ctx.spec.get("nasConfig") is not None
    if not ctx.service or has_parameters == has_nas:
        return  # unknown algorithm: ALG-03; both or neither: PARAM-01/02
    if ctx.service in NAS_SERVICES and has_parameters:
        yield Finding(
            SPEC + ("parameters",),
            f"{ctx.algorithm_name} is a NAS algorithm: it reads spec.nasConfig, not spec.parameters",
        )
    elif ctx.service not in NAS_SERVICES and has_nas:
        yield Finding(
            SPEC + ("nasConfig",),
            f"{ctx.algorithm_name} ({ctx.service}) reads spec.parameters, not spec.nasConfig: its search space is "
            "empty",
        )


# --------------------------------------------------------------- trial template (§10)


@functools.lru_cache(maxsize=1024)
def gjson_problem(expression: str) -> str | None:
    """Why `expression` is not a plausible GJSON path, or None.

    Plausible: non-empty, with balanced #(...) queries, brackets and quotes. Cached: most
    Experiments have the conditions Katib fills in for their trial kind.
    """
    if not expression.strip():
        return "it is blank"
    closing = {"(": ")", "[": "]", "{": "}"}
    stack: list[str] = []
    quoted, escaped = False, False
    for index, char in enumerate(expression):
        if escaped or char == "\\":
            escaped = not escaped
        elif char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(" and expression[index - 1 : index] != "#":
            return "'(' outside a #(...) query"
        elif char == "(" and expression[index + 1 : index + 2] == ")":
            return "empty #() query"
        elif char in closing:
            stack.append(closing[char])
        elif char in ")]}" and (not stack or stack.pop() != char):
            return f"unbalanced {char!r}"
    if quoted:
        return "unterminated string"
    return f"unclosed {stack[-1]!r}" if stack else None


@rule(
    "TT-R7",
    "ADVISORY",
    "successCondition and failureCondition are plausible GJSON paths (balanced #(...) queries, brackets and quotes).",
)
def conditions_plausible(ctx: Context) -> Iterator[Finding]:
    template = _template(ctx)
    for key in ("successCondition", "failureCondition"):
        value = template.get(key) if template is not None else None
        problem = gjson_problem(value) if isinstance(value, str) and value else None  # "" is TT-03
        if problem is not None:
            yield Finding(
                TEMPLATE + (key,),
                f"{key} {value!r} is not a plausible GJSON path: {problem}",
                "the trial would never be seen as finished",
            )


# --------------------------------------------------------------- metrics collector (§11)

PYTHON_ONLY_GROUPS = (
    ("<=", "lookbehind"),
    ("<!", "negative lookbehind"),
    ("=", "lookahead"),
    ("!", "negative lookahead"),
    (">", "atomic group"),
    ("P=", "named backreference"),
    ("(", "conditional group"),
    ("#", "comment group"),
)
PYTHON_ONLY_ESCAPES = {"Z": "\\Z (RE2 spells it \\z)", "u": "\\u escape", "U": "\\U escape", "N": "\\N escape"}
GROUP_FLAGS = functools.cache(lambda: re.compile(r"\(\?([A-Za-z-]+)[:)]"))
QUANTIFIER_BRACES = functools.cache(lambda: re.compile(r"\{(\d+)(,(\d*))?\}\Z"))


def _group_problem(pattern: str, index: int) -> str | None:
    rest = pattern[index + 2 :]
    for prefix, what in PYTHON_ONLY_GROUPS:
        if rest.startswith(prefix):
            return f"{what} '(?{prefix}'"
    flags = GROUP_FLAGS().match(pattern, index)
    if flags and set(flags.group(1)) - set("imsU-"):
        return f"flag group '(?{flags.group(1)}' (RE2 knows only i, m, s, U)"
    return None


def _quantifier_problem(pattern: str, index: int) -> str | None:
    char = pattern[index]
    braces = QUANTIFIER_BRACES().search(pattern[: index + 1]) if char == "}" else None
    if braces and max(int(braces.group(1)), int(braces.group(3) or 0)) > 1000:
        return f"repeat count above 1000 '{braces.group(0)}'"
    if (char in "*+?" or braces) and pattern[index + 1 : index + 2] == "+":
        return f"possessive quantifier '{char}+'"
    return None


def re2_problems(pattern: str) -> list[str]:
    """Constructs Python's `re` accepts but Go's RE2 rejects.

    Lookarounds, backreferences, possessive/atomic groups, ...
    """
    problems: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            following = pattern[index + 1 : index + 2]
            if following.isdigit() and following != "0" and not in_class:
                problems.append(f"backreference '\\{following}'")
            elif following in PYTHON_ONLY_ESCAPES:
                problems.append(PYTHON_ONLY_ESCAPES[following])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class, index = True, index + 1
            index += 1 if pattern[index : index + 1] == "^" else 0
            index += 1 if pattern[index : index + 1] == "]" else 0  # a leading ']' is literal
            continue
        elif char == "(" and pattern[index + 1 : index + 2] == "?":
            problems.append(_group_problem(pattern, index) or "")
        elif char in "*+?}":
            problems.append(_quantifier_problem(pattern, index) or "")
        index += 1
    return [p for p in problems if p]


def _python_problem(pattern: str) -> str | None:
    """MC-14's checks, for StdOut filters Katib does not check at admission."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid filter: {exc}"
    return None if TWO_GROUPS().fullmatch(pattern) else "two top subexpressions are required: metric name, then value"


@rule(
    "MC-15",
    "ADVISORY",
    "Filters are valid Go RE2 (no lookarounds, backreferences, possessive or atomic groups); StdOut filters are "
    "checked too.",
)
def filters_re2(ctx: Context) -> Iterator[Finding]:
    kind, source = _collector(ctx)
    formats = get(source, "filter", "metricsFormat")
    if (
        kind not in FILTERED_COLLECTORS
        or not isinstance(formats, list)
        or (kind == "File" and _file_path(source).get("format") == "JSON")
    ):
        return  # JSON files take no filter: MC-07
    for index, pattern in enumerate(formats):
        where: Path = (*COLLECTOR, "source", "filter", "metricsFormat", index)
        text = str(pattern)
        problems = re2_problems(text)
        if kind == "StdOut" and (python := _python_problem(text)):
            yield Finding(where, python, "Katib does not check StdOut filters; the collector sidecar fails on them")
        if problems:
            yield Finding(
                where,
                f"filter {text!r} is not valid RE2: {', '.join(problems)}",
                "the collector is written in Go; rewrite without these constructs",
            )


@rule(
    "UPD-05",
    "ADVISORY",
    "An Experiment already deployed (validate --previous) changes nothing but its three trial counts: Katib refuses "
    "any other change (UPD-01).",
)
def immutable_update(ctx: Context) -> Iterator[Finding]:
    if ctx.previous is None:
        return
    old_spec = ctx.previous.experiment.get("spec")
    old = dict(old_spec) if isinstance(old_spec, dict) else {}
    for count in COUNT_FIELDS:  # UPD-01: the new counts are copied into the old spec before comparing
        if count in ctx.spec:
            old[count] = ctx.spec[count]
        else:
            old.pop(count, None)
    where = _first_difference(old, ctx.spec, ("spec",))
    if where is not None:
        yield Finding(
            where,
            f"changed since the Experiment deployed as {ctx.previous.location}: Katib refuses any change to a "
            "created Experiment but parallelTrialCount, maxTrialCount and maxFailedTrialCount (UPD-01)",
            "delete and re-create the Experiment (its trials and results go with it) or deploy it under a new name; "
            "katib-gitops generate names Experiments after a hash of the fields that cannot change",
        )


def _first_difference(old: Any, new: Any, path: Path) -> Path | None:
    """The path of the first node where `new` differs from `old` (list order matters, as in Katib's deep-equal)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            if key not in old or key not in new:
                return (*path, key)
            found = _first_difference(old[key], new[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            found = _first_difference(a, b, (*path, index))
            if found is not None:
                return found
        return None if len(old) == len(new) else (*path, min(len(old), len(new)))
    return None if old == new and type(old) is type(new) else path
