"""ALGO rules: what the suggestion and early-stopping services refuse (katib-rules.md §5.2-5.10, §6).

Katib does not look at algorithm settings at admission. After the Suggestion's
service starts, the controller calls its ValidateAlgorithmSettings (or the
early-stopping service's ValidateEarlyStoppingSettings); a refusal fails the
Suggestion and then the Experiment (ALG-05). Each rule here applies only when the
katib-config sends the algorithm to the service the rule describes (ALG-04), so a
katib-config that routes `tpe` to optuna switches from the HO rules to the OP rules.

Values are parsed the way the service parses them: Python services with `int()` and
`float()` themselves (so `int("2.5")` fails and `float("1e3")` passes), the Go
service (goptuna) with emulations of `strconv.Atoi` and `strconv.ParseFloat`.
Python services that walk the settings in order stop at the first failure and report
only that one; the rules of such a service share one walk and report that setting.

Also here: the RUNTIME rules of the same services about parameter values, which no
validation catches but which break the Experiment at GetSuggestions or trial creation,
and RT-01..RT-05 (§5.12): settings the services' validation accepts that fail or stall
at the first GetSuggestions, found by running the services.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from katib_gitops.core.kinds import NAS_ASSIGNMENTS
from katib_gitops.core.registry import Finding, rule
from katib_gitops.rules.admission import META_REFERENCE, _parameters
from katib_gitops.rules.framework import Context, Path, get, hashable, is_blank, shared

ALGORITHM: Path = ("spec", "algorithm")
SETTINGS: Path = ALGORITHM + ("algorithmSettings",)
EARLY_SETTINGS: Path = ("spec", "earlyStopping", "algorithmSettings")
PARAMETERS: Path = ("spec", "parameters")
NAS: Path = ("spec", "nasConfig")
TRIAL_PARAMETERS: Path = ("spec", "trialTemplate", "trialParameters")
FIRST_ONLY = "the service checks the settings in order and reports only the first failure"
NUMERIC_TYPES = ("int", "double")


# ------------------------------------------------------------------ parsing


def text_of(value: Any) -> str:
    """The string the service receives: settings and bounds are strings; absent is ''."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def py_int(text: str) -> int | None:
    """Python's int(): ' 7', '+7', '1_000' pass; '2.5', '1e3', '' fail."""
    try:
        return int(text)
    except ValueError:
        return None


def py_float(text: str) -> float | None:
    """Python's float(): '1e3', ' .5', 'nan', 'inf', '1_0' pass; '' and '0x1p0' fail."""
    try:
        return float(text)
    except ValueError:
        return None


_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_SPECIAL = re.compile(r"[+-]?(inf|infinity)|nan", re.IGNORECASE)
_GO_DECIMAL = re.compile(r"[+-]?(?P<m>[0-9_]*(\.[0-9_]*)?)([eE][+-]?[0-9][0-9_]*)?")
_GO_HEX = re.compile(r"[+-]?0[xX](?P<m>[0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?)[pP][+-]?[0-9][0-9_]*")


def go_atoi(text: str) -> int | None:
    """Go strconv.Atoi (64-bit): optional sign and ASCII digits only, within int64."""
    if not _GO_INT.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def go_parse_float(text: str) -> float | None:
    """Go strconv.ParseFloat(s, 64): decimal or hex (with p exponent), Inf/NaN, Go's underscore rule."""
    if _GO_SPECIAL.fullmatch(text):
        return float(text.lower().replace("infinity", "inf"))
    for pattern, convert in ((_GO_HEX, float.fromhex), (_GO_DECIMAL, float)):
        match = pattern.fullmatch(text)
        if match and re.search("[0-9a-fA-F]" if pattern is _GO_HEX else "[0-9]", match["m"]):
            if "_" in text and not _go_underscores_ok(text):
                return None
            try:
                value = convert(text.replace("_", ""))
            except OverflowError:
                return None
            return None if math.isinf(value) else value  # out of range is an error in Go
    return None


def _go_underscores_ok(text: str) -> bool:
    """Go's rule: an underscore sits between digits, or between a base prefix and a digit."""
    body = text[1:] if text[:1] in "+-" else text
    hexadecimal = body[:2].lower() == "0x"
    saw, rest = ("0", body[2:]) if hexadecimal else ("^", body)
    for char in rest:
        if char.isdigit() or (hexadecimal and char.lower() in "abcdef"):
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


# ------------------------------------------------------------------ settings walks


class Setting(NamedTuple):
    """How a service checks one setting: parse the text, then test the value."""

    rule: str
    parse: Callable[[str], Any]
    ok: Callable[[Any], bool]
    expect: str
    none_ok: bool = False  # the literal 'None' is accepted as is


Failure = tuple[str, Finding]
KIND: dict[Callable[[str], Any], str] = {int: "an integer", float: "a number", str: "a string"}


def first_failure(
    settings: Iterable[tuple[int, str, Any]],
    path: Path,
    table: Mapping[str, Setting],
    *,
    owner: str,
    unknown: str | None,
    unparsable: str | None = None,
) -> Failure | None:
    """The first setting the service refuses, with the rule it breaks (None if all pass)."""
    for index, name, value in settings:
        text = text_of(value)
        spec = table.get(name)
        if spec is None:
            if unknown is not None:
                known = ", ".join(table) or "none"
                return unknown, Finding(
                    path + (index, "name"), f"{owner} has no setting {name!r}", f"known settings: {known}; {FIRST_ONLY}"
                )
            continue
        if spec.none_ok and text == "None":
            continue
        try:
            parsed = spec.parse(text)
        except (ValueError, TypeError, OverflowError):
            return unparsable or spec.rule, Finding(
                path + (index, "value"),
                f"{name}: {text!r} is not {KIND[spec.parse]} (Python {spec.parse.__name__}() refuses it)",
                FIRST_ONLY,
            )
        if not spec.ok(parsed):
            return spec.rule, Finding(
                path + (index, "value"), f"{name} is {text!r}; it must be {spec.expect}", FIRST_ONLY
            )
    return None


def _register_first_failure_rules(walk: Callable[[Context], Failure | None], rules: Iterable[tuple[str, str]]) -> None:
    """One registered rule per ID; each reports the shared walk's failure when it is its own."""
    walk = shared(walk)  # walked once per Experiment, not once per rule
    for rule_id, doc in rules:

        def check(ctx: Context, rule_id: str = rule_id) -> Iterator[Finding]:
            yield from _own(rule_id, walk(ctx))

        check.__name__ = check.__qualname__ = rule_id.lower().replace("-", "_")
        rule(rule_id, "ALGO", doc)(check)


def _own(rule_id: str, failure: Failure | None) -> Iterator[Finding]:
    if failure is not None and failure[0] == rule_id:
        yield failure[1]


def _last_settings(ctx: Context) -> dict[str, tuple[int, str]]:
    """name -> (index, text) where the service builds a dict: the last duplicate wins (ALG-06)."""
    return {name: (index, text_of(value)) for index, name, value in ctx.settings("algorithm")}


def _unknown_algorithm(ctx: Context, service: str, known: tuple[str, ...]) -> Iterator[Finding]:
    if ctx.service == service and ctx.algorithm_name not in known:
        yield Finding(
            ALGORITHM + ("algorithmName",),
            f"the {service} service does not implement algorithm {ctx.algorithm_name!r}",
            f"it implements {', '.join(known)}; check the katib-config",
        )


def _space(parameter: Mapping[str, Any]) -> Mapping[str, Any]:
    space = parameter.get("feasibleSpace")
    return space if isinstance(space, dict) else {}


def _bound(index: int, key: str) -> Path:
    return PARAMETERS + (index, "feasibleSpace", key)


def _distribution(ctx: Context, space: Mapping[str, Any]) -> str:
    """The distribution a service sees; before 0.18 the field does not exist."""
    return str(space.get("distribution") or "uniform") if ctx.version >= (0, 18) else "uniform"


# ------------------------------------------------------------------ hyperopt (§5.2)


def _greater_than_zero(rule_id: str, parse: Callable[[str], Any]) -> Setting:
    return Setting(rule_id, parse, lambda v: v > 0, "greater than 0")


HYPEROPT_RANDOM_STATE = Setting("HO-06", int, lambda v: v >= 0, "an integer of at least 0")
HYPEROPT = {
    "tpe": {
        "gamma": Setting("HO-03", float, lambda v: 1 > v > 0, "between 0 and 1, both excluded"),
        "prior_weight": _greater_than_zero("HO-04", float),
        "n_EI_candidates": _greater_than_zero("HO-05", int),
        "random_state": HYPEROPT_RANDOM_STATE,
    },
    "random": {"random_state": HYPEROPT_RANDOM_STATE},
}


def _hyperopt_failure(ctx: Context) -> Failure | None:
    table = HYPEROPT.get(ctx.algorithm_name)
    if ctx.service != "hyperopt" or table is None:
        return None
    unknown = "HO-02" if ctx.algorithm_name == "tpe" else "HO-07"
    return first_failure(
        ctx.settings("algorithm"),
        SETTINGS,
        table,
        owner=f"algorithm {ctx.algorithm_name} (hyperopt)",
        unknown=unknown,
        unparsable="HO-08",
    )


@rule("HO-01", "ALGO", "The hyperopt service implements only tpe and random.")
def hyperopt_algorithm(ctx: Context) -> Iterator[Finding]:
    yield from _unknown_algorithm(ctx, "hyperopt", tuple(HYPEROPT))


_register_first_failure_rules(
    _hyperopt_failure,
    (
        ("HO-02", "tpe (hyperopt) takes only gamma, prior_weight, n_EI_candidates and random_state."),
        ("HO-03", "tpe (hyperopt) gamma is a number strictly between 0 and 1."),
        ("HO-04", "tpe (hyperopt) prior_weight is a number greater than 0."),
        ("HO-05", "tpe (hyperopt) n_EI_candidates is an integer greater than 0."),
        ("HO-06", "hyperopt random_state is an integer of at least 0."),
        ("HO-07", "random (hyperopt) takes only random_state."),
        ("HO-08", "hyperopt setting values parse with Python int()/float(); the first failing setting is reported."),
    ),
)


@rule(
    "HO-09",
    "RUNTIME",
    "hyperopt builds its search space from float(min/max/step); logUniform and logNormal need min and max > 0.",
)
def hyperopt_search_space(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "hyperopt" or ctx.algorithm_name not in HYPEROPT:
        return
    for index, parameter, space in _parameters(ctx):
        if parameter.get("parameterType") in NUMERIC_TYPES:
            yield from _hyperopt_parameter(index, _distribution(ctx, space), space)


def _hyperopt_parameter(index: int, distribution: str, space: Mapping[str, Any]) -> Iterator[Finding]:
    logarithmic = distribution in ("logUniform", "logNormal")
    keys = ("min", "max", "step") if text_of(space.get("step")) else ("min", "max")
    for key in keys:
        text = text_of(space.get(key))
        value = py_float(text)
        if value is None:
            yield Finding(
                _bound(index, key),
                f"feasibleSpace.{key} {text!r} is not a number for Python float()",
                "hyperopt fails at the first GetSuggestions",
            )
            return
        if logarithmic and key != "step" and value <= 0:
            yield Finding(
                _bound(index, key),
                f"distribution {distribution} needs min and max greater than 0 (hyperopt takes their logarithm); "
                f"{key} is {text!r}",
                "hyperopt fails at the first GetSuggestions",
            )
            return


# ------------------------------------------------------------------ optuna (§5.3)


def _optuna_non_negative(rule_id: str, parse: Callable[[str], Any] = int) -> Setting:
    return Setting(rule_id, parse, lambda v: v >= 0, "at least 0")


OPTUNA_RULE = {"tpe": "OP-02", "multivariate-tpe": "OP-02", "cmaes": "OP-03", "random": "OP-04", "grid": "OP-05"}
OPTUNA = {
    "tpe": {name: _optuna_non_negative("OP-02") for name in ("n_startup_trials", "n_ei_candidates", "random_state")},
    "cmaes": {
        "restart_strategy": Setting("OP-03", str, lambda v: v in ("ipop", "None", "none"), "one of ipop, None, none"),
        "sigma": _optuna_non_negative("OP-03", float),
        "random_state": _optuna_non_negative("OP-03"),
    },
    "random": {"random_state": _optuna_non_negative("OP-04")},
    "grid": {"random_state": _optuna_non_negative("OP-05")},
}
OPTUNA["multivariate-tpe"] = OPTUNA["tpe"]


def _optuna_failure(ctx: Context) -> Failure | None:
    table = OPTUNA.get(ctx.algorithm_name)
    if ctx.service != "optuna" or table is None:
        return None
    failure = first_failure(
        ctx.settings("algorithm"),
        SETTINGS,
        table,
        owner=f"algorithm {ctx.algorithm_name} (optuna)",
        unknown=OPTUNA_RULE[ctx.algorithm_name],
    )
    if (
        failure is not None
        and ctx.algorithm_name in ("random", "grid")
        and failure[1].message.startswith("random_state is")
    ):
        hint = "the optuna service refuses a negative random_state with an empty message; " + FIRST_ONLY
        failure = (failure[0], failure[1]._replace(hint=hint))
    return failure


@rule("OP-01", "ALGO", "The optuna service implements only tpe, multivariate-tpe, cmaes, random and grid.")
def optuna_algorithm(ctx: Context) -> Iterator[Finding]:
    yield from _unknown_algorithm(ctx, "optuna", tuple(OPTUNA_RULE))


_register_first_failure_rules(
    _optuna_failure,
    (
        (
            "OP-02",
            "tpe/multivariate-tpe (optuna) take only n_startup_trials, n_ei_candidates, random_state: integers of at "
            "least 0.",
        ),
        ("OP-04", "random (optuna) takes only random_state, an integer of at least 0."),
    ),
)


def _continuous_count(ctx: Context) -> int:
    return sum(1 for p in ctx.parameters if p.get("parameterType") in NUMERIC_TYPES)


@rule(
    "OP-03",
    "ALGO",
    "cmaes (optuna): restart_strategy ipop/None/none, sigma >= 0, random_state >= 0, no other settings; at least 2 "
    "int/double parameters.",
)
def optuna_cmaes(ctx: Context) -> Iterator[Finding]:
    yield from _own("OP-03", _optuna_failure(ctx))
    if ctx.service == "optuna" and ctx.algorithm_name == "cmaes" and _continuous_count(ctx) < 2:
        yield Finding(
            PARAMETERS,
            f"cmaes needs at least 2 int or double parameters; there are {_continuous_count(ctx)}",
            "categorical and discrete parameters do not count",
        )


@rule(
    "OP-05",
    "ALGO",
    "grid (optuna): only random_state >= 0; every parameter enumerable (double needs step); maxTrialCount at most "
    "the number of combinations.",
)
def optuna_grid(ctx: Context) -> Iterator[Finding]:
    yield from _own("OP-05", _optuna_failure(ctx))
    if ctx.service != "optuna" or ctx.algorithm_name != "grid":
        return
    try:
        combinations = grid_combinations(ctx.spec.get("parameters"))
    except GridError as error:
        yield Finding(
            error.path, f"the grid cannot be enumerated: {error}", "the optuna service refuses the Experiment"
        )
        return
    limit = ctx.spec.get("maxTrialCount")
    limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else 0
    if limit > combinations:
        yield Finding(
            ("spec", "maxTrialCount"),
            f"maxTrialCount is {limit}, more than the {combinations} combinations of the grid",
            "lower maxTrialCount or widen the grid",
        )


class GridError(Exception):
    """A parameter the optuna grid enumeration raises on; `path` is the offending node."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


def grid_combinations(parameters: Any) -> int:
    """How many points optuna's grid has: the product of each parameter's value count."""
    return math.prod(_grid_size(i, p) for i, p in enumerate(parameters if isinstance(parameters, list) else []))


def _grid_size(index: int, parameter: Any) -> int:
    parameter = parameter if isinstance(parameter, dict) else {}
    kind, space = parameter.get("parameterType"), _space(parameter)
    if kind == "int":
        return _grid_int_size(index, space)
    if kind == "double":
        return _grid_double_size(index, space)
    if kind in ("categorical", "discrete"):
        values = space.get("list")
        return len(values) if isinstance(values, list) else 0
    raise GridError(PARAMETERS + (index, "parameterType"), f"parameter type {kind!r} has no values")


def _grid_number(index: int, space: Mapping[str, Any], key: str, parse: Callable[[str], Any], default: str = "") -> Any:
    text = text_of(space.get(key)) or default
    try:
        return parse(text)
    except ValueError:
        raise GridError(_bound(index, key), f"feasibleSpace.{key} {text!r} is not {KIND[parse]}") from None


def _grid_int_size(index: int, space: Mapping[str, Any]) -> int:
    """len(range(min, max + 1, step)), step 1 when empty."""
    low, high = _grid_number(index, space, "min", int), _grid_number(index, space, "max", int)
    step: int = _grid_number(index, space, "step", int, default="1")
    if step == 0:
        raise GridError(_bound(index, "step"), "feasibleSpace.step must not be 0")
    span: int = (high + 1 - low) if step > 0 else (low - high - 1)
    return max(0, -(-span // abs(step)))


def _grid_double_size(index: int, space: Mapping[str, Any]) -> int:
    """numpy arange(min, max + step, step), without its last value when that exceeds max."""
    if is_blank(space.get("step")):
        raise GridError(_bound(index, "step"), "a double parameter needs feasibleSpace.step for grid")
    low, high = _grid_number(index, space, "min", float), _grid_number(index, space, "max", float)
    step = _grid_number(index, space, "step", float)
    count = _arange_length(low, high + step, step, _bound(index, "step"))
    if count <= 0:
        raise GridError(_bound(index, "max"), "the range from min to max holds no value")
    return count - 1 if _arange_last(low, step, count) > high else count


def _arange_length(start: float, stop: float, step: float, path: Path) -> int:
    if step == 0:
        raise GridError(path, "feasibleSpace.step must not be 0")
    ratio = (stop - start) / step
    if not math.isfinite(ratio) or math.ceil(ratio) >= 2**63 // 8:
        raise GridError(path, "numpy cannot build a range this long")
    return math.ceil(ratio)


def _arange_last(start: float, step: float, count: int) -> float:
    """numpy fills arange as start + i * ((start + step) - start)."""
    if count == 1:
        return start
    second = start + step
    return second if count == 2 else start + (count - 1) * (second - start)


@rule(
    "OP-06",
    "RUNTIME",
    "optuna supports only uniform and logUniform for int/double parameters (normal/logNormal: dropped up to 0.19, an "
    "error after).",
    since=(0, 18),
)
def optuna_distributions(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "optuna" or ctx.algorithm_name not in OPTUNA:
        return
    raises = ctx.version >= (0, 20)
    for index, parameter, space in _parameters(ctx):
        distribution = _distribution(ctx, space)
        if parameter.get("parameterType") in NUMERIC_TYPES and distribution in ("normal", "logNormal"):
            effect = (
                "raises at the first GetSuggestions, so no trial is created"
                if raises
                else "silently leaves the parameter out of the search space, so trials get no value for it"
            )
            yield Finding(
                _bound(index, "distribution"),
                f"the optuna service {effect}: distribution {distribution} is not supported",
                "use uniform or logUniform, or an algorithm served by hyperopt",
            )


# ------------------------------------------------------------------ goptuna (§5.4)


GOPTUNA_ALGORITHMS = ("random", "cmaes", "tpe", "sobol")
_GOPTUNA_RESTART = ("ipop", "bipop", "none")
GOPTUNA_SETTINGS: dict[str, dict[str, tuple[Callable[[str], Any], str]]] = {
    "cmaes": {
        "random_state": (go_atoi, "an integer (Go strconv.Atoi)"),
        "sigma": (go_parse_float, "a number (Go strconv.ParseFloat)"),
        "restart_strategy": (lambda v: v if v in _GOPTUNA_RESTART else None, "one of ipop, bipop, none"),
    },
    "tpe": dict.fromkeys(
        ("random_state", "n_startup_trials", "n_ei_candidates"), (go_atoi, "an integer (Go strconv.Atoi)")
    ),
    "sobol": {},
    "random": {"random_state": (go_atoi, "an integer (Go strconv.Atoi)")},
}


@rule("GO-01", "ALGO", "The goptuna service implements only random, cmaes, tpe and sobol.")
def goptuna_algorithm(ctx: Context) -> Iterator[Finding]:
    yield from _unknown_algorithm(ctx, "goptuna", GOPTUNA_ALGORITHMS)


@rule("GO-02", "ALGO", "cmaes (goptuna) needs at least 2 int/double parameters.")
def goptuna_cmaes_dimensions(ctx: Context) -> Iterator[Finding]:
    if ctx.service == "goptuna" and ctx.algorithm_name == "cmaes" and _continuous_count(ctx) < 2:
        yield Finding(
            PARAMETERS,
            f"CMA-ES needs at least 2 int or double parameters; there are {_continuous_count(ctx)}",
            "categorical and discrete parameters do not count",
        )


@rule("GO-03", "ALGO", "The goptuna service refuses duplicate parameter names.")
def goptuna_duplicate_names(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "goptuna":
        return
    seen: set[str] = set()
    for index, parameter, _ in _parameters(ctx):
        name = text_of(parameter.get("name"))
        if name in seen:
            yield Finding(PARAMETERS + (index, "name"), f"parameter name {name!r} is duplicated")
        seen.add(name)


@rule(
    "GO-04",
    "RUNTIME",
    "goptuna settings and bounds parse with Go strconv (Atoi for int, ParseFloat for double); errors pass validation "
    "but stall the Experiment.",
)
def goptuna_parse_errors(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "goptuna" or ctx.algorithm_name not in GOPTUNA_ALGORITHMS:
        return
    problem = _goptuna_sampler_problem(ctx) or _goptuna_space_problem(ctx)
    if problem is not None:
        yield problem._replace(
            hint=(
                "goptuna reports this as an internal error, which Katib treats as valid; every GetSuggestions then "
                "fails"
            )
        )


def _goptuna_sampler_problem(ctx: Context) -> Finding | None:
    table = GOPTUNA_SETTINGS[ctx.algorithm_name]
    for index, name, value in ctx.settings("algorithm"):
        text = text_of(value)
        if name in table and table[name][0](text) is None:
            return Finding(
                SETTINGS + (index, "value"),
                f"{ctx.algorithm_name} (goptuna) setting {name} is {text!r}; it must be {table[name][1]}",
            )
    return None


def _goptuna_space_problem(ctx: Context) -> Finding | None:
    parsers: dict[str, tuple[Callable[[str], Any], str]] = {
        "double": (go_parse_float, "a number for Go strconv.ParseFloat"),
        "int": (go_atoi, "an integer for Go strconv.Atoi"),
    }
    for index, parameter, space in _parameters(ctx):
        kind = parameter.get("parameterType")
        if kind in ("categorical", "discrete"):
            continue
        if not hashable(kind) or kind not in parsers:
            return Finding(PARAMETERS + (index, "parameterType"), f"goptuna does not support parameter type {kind!r}")
        parse, expect = parsers[str(kind)]
        for key in ("max", "min", "step"):
            text = text_of(space.get(key))
            if (key != "step" or text) and parse(text) is None:
                return Finding(_bound(index, key), f"feasibleSpace.{key} {text!r} is not {expect}")
    return None


# ------------------------------------------------------------------ skopt (§5.5)


def _one_of(rule_id: str, choices: tuple[str, ...]) -> Setting:
    return Setting(rule_id, str, lambda v: v in choices, "one of " + ", ".join(choices))


SKOPT = {
    "base_estimator": _one_of("SK-02", ("GP", "RF", "ET", "GBRT")),
    "n_initial_points": Setting("SK-03", int, lambda v: v >= 0, "an integer of at least 0"),
    "acq_func": _one_of("SK-04", ("gp_hedge", "LCB", "EI", "PI", "EIps", "PIps")),
    "acq_optimizer": _one_of("SK-05", ("auto", "sampling", "lbfgs")),
    "random_state": Setting("SK-06", int, lambda v: v >= 0, "an integer of at least 0"),
}


def _skopt_failure(ctx: Context) -> Failure | None:
    if ctx.service != "skopt" or ctx.algorithm_name != "bayesianoptimization":
        return None
    return first_failure(
        ctx.settings("algorithm"),
        SETTINGS,
        SKOPT,
        owner="algorithm bayesianoptimization (skopt)",
        unknown="SK-07",
        unparsable="SK-07",
    )


@rule("SK-01", "ALGO", "The skopt service implements only bayesianoptimization.")
def skopt_algorithm(ctx: Context) -> Iterator[Finding]:
    yield from _unknown_algorithm(ctx, "skopt", ("bayesianoptimization",))


_register_first_failure_rules(
    _skopt_failure,
    (
        ("SK-02", "bayesianoptimization base_estimator is GP, RF, ET or GBRT."),
        ("SK-03", "bayesianoptimization n_initial_points is an integer of at least 0."),
        ("SK-04", "bayesianoptimization acq_func is gp_hedge, LCB, EI, PI, EIps or PIps."),
        ("SK-05", "bayesianoptimization acq_optimizer is auto, sampling or lbfgs."),
        ("SK-06", "bayesianoptimization random_state is an integer of at least 0."),
        (
            "SK-07",
            "bayesianoptimization takes no other settings, and values parse with Python int(); the first failing "
            "setting is reported.",
        ),
    ),
)


@rule(
    "SK-09",
    "RUNTIME",
    "skopt models int as Integer(min, max) and double as log-uniform Real(min, max): min < max, and double min > 0.",
)
def skopt_search_space(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "skopt" or ctx.algorithm_name != "bayesianoptimization":
        return
    for index, parameter, space in _parameters(ctx):
        kind = parameter.get("parameterType")
        if kind in NUMERIC_TYPES:
            yield from _skopt_parameter(index, int if kind == "int" else float, space)


def _skopt_parameter(index: int, parse: Callable[[str], Any], space: Mapping[str, Any]) -> Iterator[Finding]:
    hint = "skopt raises when it builds the optimizer, at the first GetSuggestions"
    values = {}
    for key in ("min", "max"):
        try:
            values[key] = parse(text_of(space.get(key)))
        except ValueError:
            yield Finding(
                _bound(index, key),
                f"feasibleSpace.{key} {text_of(space.get(key))!r} is not {KIND[parse]} for Python {parse.__name__}()",
                hint,
            )
            return
    if parse is float and not values["min"] > 0:
        yield Finding(
            _bound(index, "min"),
            "bayesianoptimization samples double parameters log-uniformly, so min must be greater than 0; it is "
            f"{values['min']}",
            hint,
        )
    elif not values["min"] < values["max"]:
        yield Finding(
            _bound(index, "max"),
            f"max ({values['max']}) must be greater than min ({values['min']}) for bayesianoptimization",
            hint,
        )


# ------------------------------------------------------------------ hyperband (§5.6)


def hyperband_min_parallel(r_l: float, eta: int) -> int:
    """ceil(eta ** s_max) with s_max = int(ln r_l / ln eta), in the service's floating point."""
    s_max = int(math.log(r_l) / math.log(eta))
    power: float = eta**s_max  # an exact int when s_max >= 0
    return math.ceil(power)


def _hyperband_r_l(settings: Mapping[str, tuple[int, str]]) -> float | None:
    value = py_float(settings["r_l"][1]) if "r_l" in settings else None
    return value if value is not None and math.isfinite(value) and value > 0 else None


def _hyperband_eta(settings: Mapping[str, tuple[int, str]]) -> int | None:
    """int(float(eta)); absent or <= 0 means 3; None when the service would raise."""
    if "eta" not in settings:
        return 3
    value = py_float(settings["eta"][1])
    if value is None or not math.isfinite(value) or int(value) == 1:
        return None
    return int(value) if int(value) > 0 else 3


def _hyperband(ctx: Context) -> dict[str, tuple[int, str]] | None:
    return _last_settings(ctx) if ctx.service == "hyperband" else None


@rule("HB-01", "ALGO", "hyperband needs the settings r_l and resource_name.")
def hyperband_required(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    missing = [name for name in ("r_l", "resource_name") if settings is not None and name not in settings]
    if missing:
        yield Finding(SETTINGS, f"hyperband needs the settings r_l and resource_name; missing: {', '.join(missing)}")


@rule("HB-02", "ALGO", "hyperband r_l is a finite number greater than 0 (0 passes the sign check but fails on log(0)).")
def hyperband_r_l(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is not None and "r_l" in settings and _hyperband_r_l(settings) is None:
        index, text = settings["r_l"]
        yield Finding(
            SETTINGS + (index, "value"),
            f"r_l is {text!r}; it must be a finite number greater than 0",
            "r_l 0 passes hyperband's sign check and then fails computing log(0)",
        )


@rule("HB-03", "ALGO", "hyperband eta is numeric and int(eta) is not 1 (values <= 0 mean 3).")
def hyperband_eta(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is not None and "eta" in settings and _hyperband_eta(settings) is None:
        index, text = settings["eta"]
        yield Finding(
            SETTINGS + (index, "value"),
            f"eta is {text!r}; int(float(eta)) must be at least 2 (or at most 0, meaning 3)",
            "eta 1 divides by log(1) = 0; a non-number raises",
        )


@rule("HB-04", "ALGO", "parallelTrialCount is at least ceil(eta ** int(ln r_l / ln eta)).")
def hyperband_parallelism(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is None:
        return
    r_l, eta, parallel = _hyperband_r_l(settings), _hyperband_eta(settings), ctx.spec.get("parallelTrialCount")
    if r_l is None or eta is None or not isinstance(parallel, int):
        return
    needed = hyperband_min_parallel(r_l, eta)
    if parallel < needed:
        written = "parallelTrialCount" in (ctx.raw.get("spec") or {})
        yield Finding(
            ("spec", "parallelTrialCount"),
            f"hyperband with r_l {settings['r_l'][1]} and eta {eta} needs parallelTrialCount of at least {needed}; it "
            f"is {parallel}",
            "" if written else "Katib defaults parallelTrialCount to 3",
        )


@rule("HB-05", "ALGO", "hyperband resource_name names one of spec.parameters.")
def hyperband_resource(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is None or "resource_name" not in settings:
        return
    index, text = settings["resource_name"]
    if text not in {text_of(p.get("name")) for p in ctx.parameters}:
        yield Finding(SETTINGS + (index, "value"), f"resource_name {text!r} is not the name of a parameter")


@rule("HB-07", "RUNTIME", "hyperband parses discrete lists with Python int(): items must be integer literals.")
def hyperband_discrete(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "hyperband":
        return
    for index, parameter, space in _parameters(ctx):
        values = space.get("list")
        if parameter.get("parameterType") != "discrete":
            continue
        if not isinstance(values, list) or not values:
            yield Finding(_bound(index, "list"), "hyperband needs at least one value in a discrete list")
            continue
        for item, value in enumerate(values):
            if py_int(text_of(value)) is None:
                yield Finding(
                    _bound(index, "list") + (item,),
                    f"discrete value {text_of(value)!r} is not an integer for Python int()",
                    "hyperband fails at GetSuggestions; use categorical for other values",
                )


# ------------------------------------------------------------------ pbt (§5.7)


PBT_REQUIRED = ("suggestion_trial_dir", "n_population", "truncation_threshold")


def _pbt(ctx: Context) -> dict[str, tuple[int, str]] | None:
    return _last_settings(ctx) if ctx.service == "pbt" else None


@rule("PBT-01", "ALGO", "pbt needs the settings suggestion_trial_dir, n_population and truncation_threshold.")
def pbt_required(ctx: Context) -> Iterator[Finding]:
    settings = _pbt(ctx)
    missing = [name for name in PBT_REQUIRED if settings is not None and name not in settings]
    if missing:
        yield Finding(SETTINGS, f"pbt needs the settings {', '.join(PBT_REQUIRED)}; missing: {', '.join(missing)}")


@rule("PBT-02", "ALGO", "pbt n_population is an integer (Python int()) of at least 5.")
def pbt_population(ctx: Context) -> Iterator[Finding]:
    settings = _pbt(ctx)
    if settings is not None and "n_population" in settings:
        index, text = settings["n_population"]
        value = py_int(text)
        if value is None or value < 5:
            yield Finding(SETTINGS + (index, "value"), f"n_population is {text!r}; it must be an integer of at least 5")


@rule("PBT-03", "ALGO", "pbt truncation_threshold is a number from 0 to 1, both included.")
def pbt_truncation(ctx: Context) -> Iterator[Finding]:
    settings = _pbt(ctx)
    if settings is not None and "truncation_threshold" in settings:
        index, text = settings["truncation_threshold"]
        value = py_float(text)
        if value is None or not 0 <= value <= 1:
            yield Finding(
                SETTINGS + (index, "value"), f"truncation_threshold is {text!r}; it must be a number from 0 to 1"
            )


@rule("PBT-04", "ALGO", "pbt refuses resample_probability whatever its value (upstream bug).")
def pbt_resample(ctx: Context) -> Iterator[Finding]:
    settings = _pbt(ctx)
    if settings is not None and "resample_probability" in settings:
        index, text = settings["resample_probability"]
        yield Finding(
            SETTINGS + (index, "name"),
            f"the pbt service fails on resample_probability whatever its value ({text!r})",
            "it compares the raw string with numbers, which raises a TypeError; leave the setting out (pbt then "
            "perturbs values by x0.8 or x1.2)",
        )


@rule("PBT-06", "RUNTIME", "pbt samples numeric parameters on a step grid: double parameters need a non-zero step.")
def pbt_steps(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "pbt":
        return
    for index, parameter, space in _parameters(ctx):
        kind, text = parameter.get("parameterType"), text_of(space.get("step"))
        if kind not in NUMERIC_TYPES or (kind == "int" and not text):
            continue
        if not text:
            yield Finding(
                _bound(index, "step"),
                "pbt needs feasibleSpace.step for double parameters",
                "pbt fails at GetSuggestions",
            )
        elif not py_float(text):
            yield Finding(
                _bound(index, "step"),
                f"feasibleSpace.step {text!r} must be a non-zero number for pbt",
                "pbt fails at GetSuggestions",
            )


# ------------------------------------------------------------------ NAS operations (§5.10)


def operation_problems(ctx: Context) -> Iterator[Failure]:
    """Every NASOP violation, in the order the NAS services check them (the first is what Katib reports)."""
    operations = get(ctx.spec, "nasConfig", "operations")
    for index, operation in enumerate(operations if isinstance(operations, list) else []):
        operation = operation if isinstance(operation, dict) else {}
        at = NAS + ("operations", index)
        if is_blank(operation.get("operationType")):
            yield "NASOP-01", Finding(at + ("operationType",), f"operation {index} has no operationType")
        parameters = operation.get("parameters")
        if not isinstance(parameters, list) or not parameters:
            yield "NASOP-02", Finding(at + ("parameters",), f"operation {index} has no parameters")
            continue
        for number, parameter in enumerate(parameters):
            yield from _operation_parameter(
                at + ("parameters", number), parameter if isinstance(parameter, dict) else {}
            )


def _operation_parameter(at: Path, parameter: Mapping[str, Any]) -> Iterator[Failure]:
    space = _space(parameter)
    if is_blank(parameter.get("name")):
        yield "NASOP-03", Finding(at + ("name",), "operation parameter has no name")
    kind = parameter.get("parameterType")
    if kind not in ("int", "double", "categorical", "discrete"):
        yield (
            "NASOP-04",
            Finding(
                at + ("parameterType",),
                f"operation parameter type {kind!r} is not int, double, categorical or discrete",
            ),
        )
    elif kind in ("categorical", "discrete") and is_blank(space.get("list")):
        yield (
            "NASOP-05",
            Finding(at + ("feasibleSpace", "list"), f"{kind} operation parameter has no feasibleSpace.list"),
        )
    elif kind in NUMERIC_TYPES:
        if not text_of(space.get("min")) and not text_of(space.get("max")):
            yield "NASOP-06", Finding(at + ("feasibleSpace",), f"{kind} operation parameter has neither min nor max")
        if kind == "double":
            yield from _operation_step(at, text_of(space.get("step")))


def _operation_step(at: Path, text: str) -> Iterator[Failure]:
    value = py_float(text) if text else None
    if text and value is None:
        yield (
            "NASOP-07",
            Finding(at + ("feasibleSpace", "step"), f"feasibleSpace.step {text!r} is not a number for Python float()"),
        )
    elif not text or (value is not None and value <= 0):
        yield (
            "NASOP-07",
            Finding(
                at + ("feasibleSpace", "step"),
                f"double operation parameter needs feasibleSpace.step greater than 0; it is {text!r}",
            ),
        )


# The darts service validates operations and settings since Katib v0.15 ("Implement validations for DARTS
# suggestion service", kubeflow/katib#1926, in v0.15.0's changelog): before, its ValidateAlgorithmSettings
# returned an empty reply for any Experiment. The enas service validated them before.
DARTS_VALIDATES = (0, 15)


def _register_operation_rules() -> None:
    docs = {
        "NASOP-01": "Every NAS operation has an operationType.",
        "NASOP-02": "Every NAS operation has parameters.",
        "NASOP-03": "Every operation parameter has a name.",
        "NASOP-04": "Every operation parameter has type int, double, categorical or discrete.",
        "NASOP-05": "categorical/discrete operation parameters have a non-empty list.",
        "NASOP-06": "int/double operation parameters have min or max.",
        "NASOP-07": "double operation parameters have a step that is a number greater than 0.",
    }
    for rule_id, doc in docs.items():

        def check(ctx: Context, rule_id: str = rule_id) -> Iterator[Finding]:
            if ctx.service == "enas" or (ctx.service == "darts" and ctx.version >= DARTS_VALIDATES):
                yield from (finding for owner, finding in operation_problems(ctx) if owner == rule_id)

        check.__name__ = check.__qualname__ = rule_id.lower().replace("-", "_")
        rule(rule_id, "ALGO", doc)(check)


_register_operation_rules()


def _first_operation_problem(ctx: Context, service: str) -> Iterator[Finding]:
    if ctx.service != service:
        return
    failure = next(operation_problems(ctx), None)
    if failure is not None:
        owner, finding = failure
        yield Finding(
            finding.path[:4],
            f"the {service} service refuses operation {finding.path[3]}: {finding.message} ({owner})",
            "it reports only the first invalid operation, and the Experiment fails",
        )


# ------------------------------------------------------------------ enas (§5.8)


def _enas_int(low: int) -> Setting:
    return Setting("ENAS-05", int, lambda v: v >= low, f"an integer of at least {low}")


def _enas_float(high: float | None, none_ok: bool = False) -> Setting:
    expect = "a number greater than 0" + ("" if high is None else f" and at most {high:g}")
    return Setting("ENAS-05", float, lambda v: not (v <= 0 or (high is not None and v > high)), expect, none_ok)


ENAS = {
    "controller_hidden_size": _enas_int(1),
    "controller_temperature": _enas_float(None, none_ok=True),
    "controller_tanh_const": _enas_float(None, none_ok=True),
    "controller_entropy_weight": _enas_float(None, none_ok=True),
    "controller_baseline_decay": _enas_float(1.0),
    "controller_learning_rate": _enas_float(1.0),
    "controller_skip_target": _enas_float(1.0),
    "controller_skip_weight": _enas_float(None, none_ok=True),
    "controller_train_steps": _enas_int(1),
    "controller_log_every_steps": _enas_int(1),
}


def _enas_failure(ctx: Context) -> Failure | None:
    if ctx.service != "enas":
        return None
    return first_failure(ctx.settings("algorithm"), SETTINGS, ENAS, owner="the enas service", unknown="ENAS-06")


def _graph_missing(ctx: Context, field: str, what: str) -> Iterator[Finding]:
    if ctx.service == "enas" and not get(ctx.spec, "nasConfig", "graphConfig", field):
        yield Finding(NAS + ("graphConfig", field), f"enas needs nasConfig.graphConfig.{field} ({what})")


@rule("ENAS-01", "ALGO", "enas needs nasConfig.graphConfig.inputSizes.")
def enas_input_sizes(ctx: Context) -> Iterator[Finding]:
    yield from _graph_missing(ctx, "inputSizes", "a non-empty list")


@rule("ENAS-02", "ALGO", "enas needs nasConfig.graphConfig.outputSizes.")
def enas_output_sizes(ctx: Context) -> Iterator[Finding]:
    yield from _graph_missing(ctx, "outputSizes", "a non-empty list")


@rule("ENAS-03", "ALGO", "enas needs nasConfig.graphConfig.numLayers other than 0.")
def enas_num_layers(ctx: Context) -> Iterator[Finding]:
    yield from _graph_missing(ctx, "numLayers", "other than 0")


@rule("ENAS-04", "ALGO", "enas refuses the first operation that breaks NASOP-01..07.")
def enas_operations(ctx: Context) -> Iterator[Finding]:
    yield from _first_operation_problem(ctx, "enas")


_register_first_failure_rules(
    _enas_failure,
    (
        (
            "ENAS-05",
            "enas controller_* settings parse as int/float (or None where allowed) and lie in their ranges; the "
            "first failing setting is reported.",
        ),
        ("ENAS-06", "enas takes only the controller_* settings it knows."),
    ),
)


def _assignment_problems(ctx: Context, service: str) -> Iterator[Finding]:
    """Katib's trial creation: non-meta references must be assignment names, and as many as there are names."""
    names = NAS_ASSIGNMENTS[service]
    entries = get(ctx.spec, "trialTemplate", "trialParameters")
    used = 0
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        reference = text_of(entry.get("reference")) if isinstance(entry, dict) else ""
        if META_REFERENCE.search(reference):
            continue
        if reference not in names:
            yield Finding(
                TRIAL_PARAMETERS + (index, "reference"),
                f"{service} assigns only {', '.join(names)}; reference {reference!r} is not one of them",
                "trial creation fails",
            )
            return
        used += 1
    if used != len(names):
        yield Finding(
            TRIAL_PARAMETERS,
            f"{service} assigns {len(names)} values ({', '.join(names)}) but {used} trialParameters reference them",
            "reference each assignment exactly once, or trial creation fails",
        )


@rule(
    "ENAS-08",
    "RUNTIME",
    "enas: int operation parameters have int min/max/non-zero step; trialParameters reference exactly architecture "
    "and nn_config.",
)
def enas_runtime(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "enas":
        return
    yield from _enas_int_operations(ctx)
    yield from _assignment_problems(ctx, "enas")


def _enas_int_operations(ctx: Context) -> Iterator[Finding]:
    operations = get(ctx.spec, "nasConfig", "operations")
    for index, operation in enumerate(operations if isinstance(operations, list) else []):
        parameters = operation.get("parameters") if isinstance(operation, dict) else None
        for number, parameter in enumerate(parameters if isinstance(parameters, list) else []):
            if isinstance(parameter, dict) and parameter.get("parameterType") == "int":
                yield from _enas_int_bounds(
                    NAS + ("operations", index, "parameters", number, "feasibleSpace"), _space(parameter)
                )


def _enas_int_bounds(at: Path, space: Mapping[str, Any]) -> Iterator[Finding]:
    for key in ("min", "max", "step"):
        value = py_int(text_of(space.get(key)))
        if value is None or (key == "step" and value == 0):
            wanted = "a non-zero integer" if key == "step" else "an integer"
            text = text_of(space.get(key))
            yield Finding(
                at + (key,),
                f"enas needs {key} of an int operation parameter to be {wanted}; it is {text!r}",
                "the enas service fails at GetSuggestions",
            )
            return


# ------------------------------------------------------------------ darts (§5.9)


def _darts(
    rule_id: str, parse: Callable[[str], Any], low: float, strict: bool = False, none_ok: bool = False
) -> Setting:
    ok = (lambda v: v > low) if strict else (lambda v: v >= low)
    return Setting(rule_id, parse, ok, f"{'greater than' if strict else 'at least'} {low:g}", none_ok)


DARTS = {
    "num_epochs": _darts("DARTS-02", int, 0, strict=True),
    **{
        name: _darts("DARTS-02", float, 0.0)
        for name in (
            "w_lr",
            "w_lr_min",
            "alpha_lr",
            "w_weight_decay",
            "alpha_weight_decay",
            "w_momentum",
            "w_grad_clip",
        )
    },
    "batch_size": _darts("DARTS-02", int, 1, none_ok=True),
    "num_workers": _darts("DARTS-02", int, 0),
    **{name: _darts("DARTS-02", int, 1) for name in ("init_channels", "print_step", "num_nodes", "stem_multiplier")},
}


@rule(
    "DARTS-01",
    "ALGO",
    "darts refuses the first operation that breaks NASOP-01..07 (Katib >= 0.15).",
    since=DARTS_VALIDATES,
)
def darts_operations(ctx: Context) -> Iterator[Finding]:
    yield from _first_operation_problem(ctx, "darts")


@rule(
    "DARTS-02",
    "ALGO",
    "darts settings parse with Python int()/float() and lie in their ranges; the first failing setting is reported "
    "(unknown names pass; Katib >= 0.15).",
    since=DARTS_VALIDATES,
)
def darts_settings(ctx: Context) -> Iterator[Finding]:
    if ctx.service == "darts":
        yield from _own(
            "DARTS-02",
            first_failure(ctx.settings("algorithm"), SETTINGS, DARTS, owner="the darts service", unknown=None),
        )


@rule(
    "DARTS-04", "RUNTIME", "darts: trialParameters reference exactly algorithm-settings, search-space and num-layers."
)
def darts_assignments(ctx: Context) -> Iterator[Finding]:
    if ctx.service == "darts":
        yield from _assignment_problems(ctx, "darts")


# ------------------------------------------------------------------ medianstop (§6)


MEDIANSTOP = {
    "min_trials_required": Setting("ES-05", int, lambda v: v > 0, "an integer greater than 0"),
    "start_step": Setting("ES-06", int, lambda v: v >= 1, "an integer of at least 1"),
}


def _early_name(ctx: Context) -> str | None:
    """The early-stopping algorithm when the medianstop service serves it, else None."""
    early = ctx.spec.get("earlyStopping")
    name = text_of(early.get("algorithmName")) if isinstance(early, dict) else None
    return name if name is not None and ctx.config.early_stoppings.get(name) == "medianstop" else None


def _medianstop_failure(ctx: Context) -> Failure | None:
    if _early_name(ctx) != "medianstop":
        return None
    return first_failure(
        ctx.settings("earlyStopping"),
        EARLY_SETTINGS,
        MEDIANSTOP,
        owner="early stopping medianstop",
        unknown="ES-07",
        unparsable="ES-07",
    )


@rule("ES-04", "ALGO", "The medianstop service implements only medianstop.")
def medianstop_algorithm(ctx: Context) -> Iterator[Finding]:
    name = _early_name(ctx)
    if name is not None and name != "medianstop":
        yield Finding(
            ("spec", "earlyStopping", "algorithmName"),
            f"the medianstop service does not implement early stopping {name!r}",
            "check the katib-config",
        )


_register_first_failure_rules(
    _medianstop_failure,
    (
        ("ES-05", "medianstop min_trials_required is an integer greater than 0."),
        ("ES-06", "medianstop start_step is an integer of at least 1."),
        (
            "ES-07",
            "medianstop takes no other settings, and values parse with Python int(); the first failing setting is "
            "reported.",
        ),
    ),
)


# ------------------------------------------------------------------ runtime failures of valid settings (§5.12)
#
# Found by running the services (katib-rules.md §5.12): these settings pass ValidateAlgorithmSettings, and then the
# first GetSuggestions fails or the search stalls. Each rule reports only what the ALGO rules above let through, so a
# value gets one finding: a negative random_state is HO-06's (OP-02..OP-05, SK-06), n_initial_points -1 SK-03's,
# r_l <= 0 HB-02's, the last r_l or eta that is not a number HB-02's or HB-03's, an ungriddable parameter OP-05's.
# Where the runtime reads a setting into a dict or overwrites it in order, the last one counts, as there.

SEED_MAX = 2**32 - 1  # numpy.random.RandomState takes seeds 0 .. 2**32 - 1
SEEDED = {"hyperopt": tuple(HYPEROPT), "optuna": tuple(OPTUNA), "skopt": ("bayesianoptimization",)}


@rule(
    "RT-01",
    "RUNTIME",
    "random_state is at most 2**32 - 1 for hyperopt, optuna and skopt, which seed numpy's RandomState with it.",
)
def seed_range(ctx: Context) -> Iterator[Finding]:
    if ctx.algorithm_name not in SEEDED.get(ctx.service, ()):
        return
    settings = _last_settings(ctx)  # each service keeps the last random_state
    if "random_state" not in settings:
        return
    index, text = settings["random_state"]
    seed = py_int(text)
    if seed is not None and seed > SEED_MAX:  # below 0 or not an integer: the service's own validation refuses it
        yield Finding(
            SETTINGS + (index, "value"),
            f"random_state is {text!r}; {ctx.service} seeds numpy's RandomState with it, which takes 0 to {SEED_MAX} "
            "(2**32 - 1)",
            'the first GetSuggestions fails with "ValueError: Seed must be between 0 and 2**32 - 1"; the service\'s '
            "validation checks only random_state >= 0",
        )


@rule(
    "RT-02",
    "RUNTIME",
    "bayesianoptimization n_initial_points is at least 1: with 0, skopt has no model to ask at the first suggestion.",
)
def skopt_initial_points(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "skopt" or ctx.algorithm_name != "bayesianoptimization":
        return
    settings = _last_settings(ctx)  # skopt keeps the last n_initial_points
    if "n_initial_points" in settings and py_int(settings["n_initial_points"][1]) == 0:  # < 0 is SK-03's
        index, text = settings["n_initial_points"]
        yield Finding(
            SETTINGS + (index, "value"),
            f"n_initial_points is {text!r}; skopt needs at least 1 random point before it has a model to ask",
            'the first GetSuggestions fails with "RuntimeError: Random evaluations exhausted and no model has been '
            "fit.\" (no trial has a result yet); the service's validation checks only n_initial_points >= 0",
        )


def _int_of_float(text: str) -> int:
    return int(float(text))


# How hyperband's runtime (HyperBandParam.convert) parses each setting it knows; it ignores other names.
HYPERBAND_RUNTIME: dict[str, Callable[[str], Any]] = {
    "eta": float,
    "r_l": float,
    "b_l": float,
    **dict.fromkeys(("n", "r", "current_s", "current_i", "s_max", "evaluating_trials"), _int_of_float),
}
HYPERBAND_VALIDATED = ("r_l", "eta")  # the ones ValidateAlgorithmSettings reads too (the last of each: HB-02, HB-03)


def _hyperband_runtime_eta(settings: Mapping[str, tuple[int, str]]) -> float:
    """eta as the runtime reads it: float(eta), 3 when absent or <= 0 (validation reads int(float(eta)), HB-03)."""
    eta = py_float(settings["eta"][1]) if "eta" in settings else None
    return eta if eta is not None and eta > 0 else 3.0


def _hyperband_runtime_s_max(settings: Mapping[str, tuple[int, str]], r_l: float) -> int | None:
    """s_max as the runtime sets it: the user's s_max when it is >= 0, else int(ln r_l / ln eta), in floating point.

    None when the user's s_max is not a number (RT-04's).
    """
    if "s_max" in settings:
        try:
            given = _int_of_float(settings["s_max"][1])
        except (ValueError, OverflowError):
            return None
        if given >= 0:
            return given
    return int(math.log(r_l) / math.log(_hyperband_runtime_eta(settings)))


@rule(
    "RT-03",
    "RUNTIME",
    "hyperband's s_max = int(ln r_l / ln eta), computed as the runtime does, is at least 0 (for eta >= 2: r_l > "
    "1/eta; HB-02's r_l > 0 is not enough).",
)
def hyperband_brackets(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is None:
        return
    r_l = _hyperband_r_l(settings)
    if r_l is None or _hyperband_eta(settings) is None:  # HB-02's or HB-03's
        return
    s_max = _hyperband_runtime_s_max(settings, r_l)
    if s_max is None or s_max >= 0:
        return
    index, text = settings["r_l"]
    eta = _hyperband_runtime_eta(settings)
    if "eta" not in settings:
        eta_text = "3 (the default)"
    else:
        given = settings["eta"][1]
        eta_text = repr(given) if py_float(given) == eta else f"{given!r} (read as 3)"
    bound = (
        f"r_l must be greater than 1/eta = {1 / eta:.6g}"
        if eta > 1
        else f"the runtime takes eta {eta:g} as it is (float(eta)), where validation reads int(eta) = 0 as 3; give "
        "eta >= 2"
    )
    effect = (
        'the first GetSuggestions fails with "ZeroDivisionError: float division by zero"'
        if s_max == -1
        else "the service returns no trials and Katib's controller reports \"The response contains unexpected "
        "trials\" at every attempt: the Experiment stalls (read from the service's code; only s_max = -1 was run)"
    )
    yield Finding(
        SETTINGS + (index, "value"),
        f"hyperband computes s_max = int(ln(r_l) / ln(eta)) = {s_max} from r_l {text!r} and eta {eta_text}; it must be "
        f"at least 0: {bound}",
        f"{effect}; validation checks only r_l > 0",
    )


@rule(
    "RT-04",
    "RUNTIME",
    "Every hyperband setting the runtime parses in order is a number: an earlier duplicate r_l or eta, and state "
    "settings such as s_max (HB-06); the first failing setting is reported.",
)
def hyperband_runtime_parse(ctx: Context) -> Iterator[Finding]:
    settings = _hyperband(ctx)
    if settings is None:
        return
    for index, name, value in ctx.settings("algorithm"):
        parse = HYPERBAND_RUNTIME.get(name)
        if parse is None or (name in HYPERBAND_VALIDATED and settings[name][0] == index):
            continue  # not parsed; or the value validation reads as well, which HB-02 or HB-03 judges
        text = text_of(value)
        try:
            parse(text)
        except (ValueError, OverflowError) as error:
            why = (
                f"validation reads only the last {name} setting, but the runtime parses every one in order"
                if name in HYPERBAND_VALIDATED
                else f"{name} is hyperband's own state (HB-06), which the runtime parses; set only r_l, resource_name "
                "and eta"
            )
            yield Finding(
                SETTINGS + (index, "value"),
                f"{name} {text!r} is not a number for the hyperband runtime: {why}",
                f'the first GetSuggestions fails with "{type(error).__name__}: {error}"; the runtime stops at the '
                "first such setting",
            )
            return


GRID_LIMIT = 10_000_000  # katib-gitops' limit on the values the optuna grid enumerates (RT-05)
GRID_BYTES = 79  # what one combination of the enumerated list takes, about (1e7: 790 MB, measured)
SSIZE_MAX = 2**63 - 1  # longer ranges cannot even be made a tuple
_GRID_EFFECT = (
    "the suggestion pod runs out of memory or passes Katib's 60 s timeout, which counts as valid, and the "
    "Experiment stalls (1e7 combinations take about 2 s and 790 MB)"
)


@rule(
    "RT-05",
    "RUNTIME",
    "grid (optuna) has at most 10,000,000 combinations, and no parameter more values: the service enumerates the "
    "whole grid in memory when it validates.",
)
def grid_enumeration(ctx: Context) -> Iterator[Finding]:
    if ctx.service != "optuna" or ctx.algorithm_name != "grid":
        return
    parameters = ctx.spec.get("parameters")
    sizes: list[int] = []
    enumerable, too_long = True, False
    for index, parameter in enumerate(parameters if isinstance(parameters, list) else []):
        try:
            size = _grid_size(index, parameter)
        except GridError:  # OP-05's: the service raises on it (numpy's too long ranges too), one finding
            enumerable = False
            continue
        sizes.append(size)
        if size > GRID_LIMIT:
            too_long = True
            yield _grid_too_long(index, parameter, size)
    total = math.prod(sizes)
    if enumerable and not too_long and total > GRID_LIMIT:
        yield Finding(
            PARAMETERS,
            f"the grid has {total:,} combinations ({' * '.join(map(str, sizes))}); the optuna service lists them all "
            f"when it validates (about {total * GRID_BYTES / 1e6:,.0f} MB), and katib-gitops allows at most "
            f"{GRID_LIMIT:,}",
            _GRID_EFFECT + "; coarsen a step, narrow a range or shorten a list",
        )


def _binary_size(count: float) -> str:
    """A byte count as numpy's MemoryError shows it, e.g. '14.6 TiB'."""
    units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    while count >= 1024 and len(units) > 1:
        count /= 1024
        units.pop(0)
    return f"{count:.3g} {units[0]}"


def _grid_too_long(index: int, parameter: Mapping[str, Any], size: int) -> Finding:
    """RT-05's finding for one parameter with too many values; the hint says how the service fails."""
    numeric = parameter.get("parameterType") in NUMERIC_TYPES
    if size > SSIZE_MAX:
        effect = 'the service\'s validation fails with "OverflowError: Python int too large to convert to C ssize_t"'
    elif parameter.get("parameterType") == "double":
        effect = f"numpy's arange needs {_binary_size(size * 8)} for the values alone, and {_GRID_EFFECT}"
    else:
        effect = _GRID_EFFECT
    return Finding(
        PARAMETERS + (index,),
        f"parameter {text_of(parameter.get('name'))!r} has {size:,} grid values; the optuna service enumerates them "
        f"when it validates, and katib-gitops allows at most {GRID_LIMIT:,}",
        effect + ("; coarsen the step or narrow the range" if numeric else "; shorten the list"),
    )
