"""ALGO and service RUNTIME rules (katib-rules.md §5.2-5.10, §6).

Each rule fails at its boundary and passes just inside.
"""

from __future__ import annotations

import math
import re
from pathlib import Path as FilePath
from typing import Any

import pytest
import yaml

from katib_gitops.core.registry import RULES
from katib_gitops.rules import algorithms
from katib_gitops.rules.algorithms import go_atoi, go_parse_float, grid_combinations, hyperband_min_parallel
from katib_gitops.rules.framework import context_for
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from tests.validate.helpers import VALID, experiment, findings, paths

SETTINGS = ("spec", "algorithm", "algorithmSettings")
EARLY = ("spec", "earlyStopping", "algorithmSettings")
OPS = ("spec", "nasConfig", "operations")
TRIAL_PARAMETERS = ("spec", "trialTemplate", "trialParameters")
MINE = {r.id: r for r in RULES.values() if r.module == algorithms.__name__}


def value(index: int = 0) -> tuple[str | int, ...]:
    return SETTINGS + (index, "value")


def name(index: int = 0) -> tuple[str | int, ...]:
    return SETTINGS + (index, "name")


def bound(index: int, key: str) -> tuple[str | int, ...]:
    return ("spec", "parameters", index, "feasibleSpace", key)


def serving(**services: str) -> KatibConfig:
    """The standalone katib-config with some algorithms sent to other services."""
    return STANDALONE._replace(suggestions={**STANDALONE.suggestions, **services})


def hp(
    algorithm: str, *settings: tuple[str, str], parameters: list[dict[str, Any]] | None = None, **spec: Any
) -> dict[str, Any]:
    """VALID with another algorithm, its settings (name, value) in order, and optionally other parameters."""
    block: dict[str, Any] = {"algorithmName": algorithm}
    if settings:
        block["algorithmSettings"] = [{"name": n, "value": v} for n, v in settings]
    if parameters is not None:
        spec["parameters"] = parameters
    return experiment(algorithm=block, **spec)


def param(name_: str, kind: str, **space: Any) -> dict[str, Any]:
    return {"name": name_, "parameterType": kind, "feasibleSpace": space}


def check(rule_id: str, data: dict[str, Any], expected: list[tuple[str | int, ...]], **kwargs: Any) -> None:
    assert paths(rule_id, data, **kwargs) == expected


# ------------------------------------------------------------------ catalogue coverage


ALGO_IDS = (
    [f"HO-0{i}" for i in range(1, 9)]
    + [f"OP-0{i}" for i in range(1, 6)]
    + ["GO-01", "GO-02", "GO-03"]
    + [f"SK-0{i}" for i in range(1, 8)]
    + [f"HB-0{i}" for i in range(1, 6)]
    + [f"PBT-0{i}" for i in range(1, 5)]
    + [f"ENAS-0{i}" for i in range(1, 7)]
    + ["DARTS-01", "DARTS-02"]
    + [f"NASOP-0{i}" for i in range(1, 8)]
    + ["ES-04", "ES-05", "ES-06", "ES-07"]
)
RUNTIME_IDS = ["HO-09", "OP-06", "GO-04", "SK-09", "HB-07", "PBT-06", "ENAS-08", "DARTS-04"] + [
    f"RT-0{i}" for i in range(1, 6)
]


def test_every_algo_rule_and_service_runtime_rule_is_registered_at_its_level() -> None:
    assert {i: MINE[i].level for i in ALGO_IDS} == dict.fromkeys(ALGO_IDS, "ALGO")
    assert {i: MINE[i].level for i in RUNTIME_IDS} == dict.fromkeys(RUNTIME_IDS, "RUNTIME")
    assert set(MINE) == set(ALGO_IDS) | set(RUNTIME_IDS)
    assert {r.severity.name for r in MINE.values()} == {"ERROR"}


def test_the_catalogue_lists_exactly_these_algo_rules_in_sections_5_and_6(shared: FilePath) -> None:
    text = (shared / "research" / "katib-rules.md").read_text()
    sections = text.split("\n## 5. Algorithm")[1].split("\n## 7. ")[0]
    catalogued = set(re.findall(r"\*\*([A-Z]+-\d+) ALGO\b", sections))
    assert catalogued == set(ALGO_IDS)


# ------------------------------------------------------------------ service dispatch


def test_settings_are_judged_by_the_service_the_katib_config_names() -> None:
    data = hp("tpe", ("n_EI_candidates", "3"))
    check("HO-02", data, [])
    check("OP-02", data, [])
    to_optuna = serving(tpe="optuna")
    check("HO-02", data, [], config=to_optuna)
    check("OP-02", data, [name(0)], config=to_optuna)


def test_an_algorithm_without_a_known_service_gets_no_algo_rule() -> None:
    unknown = serving(tpe="")
    data = hp("tpe", ("nonsense", "x"))
    assert [i for i in MINE if findings(i, data, config=unknown)] == []


# ------------------------------------------------------------------ hyperopt


@pytest.mark.parametrize(
    ("rule_id", "algorithm", "settings", "expected"),
    [
        pytest.param("HO-02", "tpe", [("seed", "1")], [name(0)], id="tpe-unknown-name"),
        pytest.param("HO-02", "tpe", [("n_ei_candidates", "1")], [name(0)], id="tpe-name-is-case-sensitive"),
        pytest.param("HO-02", "tpe", [("n_EI_candidates", "1")], [], id="tpe-n_EI_candidates-known"),
        pytest.param("HO-03", "tpe", [("gamma", "0")], [value(0)], id="gamma-0"),
        pytest.param("HO-03", "tpe", [("gamma", "0.0001")], [], id="gamma-0.0001"),
        pytest.param("HO-03", "tpe", [("gamma", "0.9999")], [], id="gamma-0.9999"),
        pytest.param("HO-03", "tpe", [("gamma", "1")], [value(0)], id="gamma-1"),
        pytest.param("HO-03", "tpe", [("gamma", "nan")], [value(0)], id="gamma-nan"),
        pytest.param("HO-04", "tpe", [("prior_weight", "0")], [value(0)], id="prior_weight-0"),
        pytest.param("HO-04", "tpe", [("prior_weight", "1e-4")], [], id="prior_weight-1e-4"),
        pytest.param("HO-05", "tpe", [("n_EI_candidates", "0")], [value(0)], id="n_EI_candidates-0"),
        pytest.param("HO-05", "tpe", [("n_EI_candidates", "1")], [], id="n_EI_candidates-1"),
        pytest.param("HO-06", "tpe", [("random_state", "-1")], [value(0)], id="tpe-random_state--1"),
        pytest.param("HO-06", "random", [("random_state", "-1")], [value(0)], id="random-random_state--1"),
        pytest.param("HO-06", "random", [("random_state", "0")], [], id="random-random_state-0"),
        pytest.param("HO-07", "random", [("gamma", "0.5")], [name(0)], id="random-takes-no-gamma"),
        pytest.param("HO-07", "random", [("random_state", "3")], [], id="random-random_state-known"),
        pytest.param("HO-08", "tpe", [("n_EI_candidates", "2.5")], [value(0)], id="int-2.5-unparsable"),
        pytest.param("HO-05", "tpe", [("n_EI_candidates", "2.5")], [], id="unparsable-is-not-a-range-error"),
        pytest.param("HO-08", "tpe", [("gamma", "abc")], [value(0)], id="float-abc-unparsable"),
        pytest.param("HO-08", "tpe", [("gamma", "1e-1")], [], id="float-accepts-exponent"),
        pytest.param("HO-08", "random", [("random_state", " 7 ")], [], id="int-accepts-whitespace"),
        pytest.param("HO-08", "random", [("random_state", "1_000")], [], id="int-accepts-underscores"),
        pytest.param("HO-08", "random", [("random_state", "")], [value(0)], id="empty-value"),
    ],
)
def test_hyperopt_settings(rule_id: str, algorithm: str, settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check(rule_id, hp(algorithm, *settings), expected)


@pytest.mark.parametrize(
    ("settings", "reported"),
    [
        ([("gamma", "2"), ("prior_weight", "-1")], ("HO-03", 0)),
        ([("seed", "1"), ("gamma", "2")], ("HO-02", 0)),
        ([("gamma", "0.5"), ("n_EI_candidates", "x"), ("random_state", "-1")], ("HO-08", 1)),
    ],
)
def test_hyperopt_reports_only_the_first_failing_setting(
    settings: list[tuple[str, str]], reported: tuple[str, int]
) -> None:
    data = hp("tpe", *settings)
    fired = {i: paths(i, data) for i in ("HO-02", "HO-03", "HO-04", "HO-05", "HO-06", "HO-08") if paths(i, data)}
    rule_id, index = reported
    assert fired == {rule_id: [name(index) if rule_id == "HO-02" else value(index)]}


def test_hyperopt_serves_only_tpe_and_random() -> None:
    check("HO-01", hp("grid"), [("spec", "algorithm", "algorithmName")], config=serving(grid="hyperopt"))
    check("HO-01", hp("random"), [])


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        pytest.param(
            param("lr", "double", min="0", max="1", distribution="logUniform"), [bound(0, "min")], id="logUniform-min-0"
        ),
        pytest.param(
            param("lr", "double", min="0.0001", max="1", distribution="logUniform"), [], id="logUniform-min-0.0001"
        ),
        pytest.param(
            param("bs", "int", min="-1", max="8", distribution="logNormal"), [bound(0, "min")], id="logNormal-negative"
        ),
        pytest.param(
            param("lr", "double", min="-1", max="-0.5", distribution="logNormal"),
            [bound(0, "min")],
            id="first-bad-bound-only",
        ),
        pytest.param(param("lr", "double", min="0", max="1", distribution="normal"), [], id="normal-allows-0"),
        pytest.param(param("lr", "double", min="abc", max="1"), [bound(0, "min")], id="unparsable-min"),
        pytest.param(param("lr", "double", min="0.1", max="1", step="x"), [bound(0, "step")], id="unparsable-step"),
    ],
)
def test_hyperopt_search_space(parameter: dict[str, Any], expected: list[Any]) -> None:
    check("HO-09", hp("random", parameters=[parameter]), expected)


def test_hyperopt_log_bounds_matter_only_since_distributions_exist() -> None:
    data = hp("random", parameters=[param("lr", "double", min="0", max="1", distribution="logUniform")])
    check("HO-09", data, [], version=(0, 17))


# ------------------------------------------------------------------ optuna


@pytest.mark.parametrize(
    ("rule_id", "algorithm", "settings", "expected"),
    [
        pytest.param("OP-02", "multivariate-tpe", [("n_startup_trials", "-1")], [value(0)], id="n_startup_trials--1"),
        pytest.param("OP-02", "multivariate-tpe", [("n_startup_trials", "0")], [], id="n_startup_trials-0"),
        pytest.param(
            "OP-02", "multivariate-tpe", [("n_EI_candidates", "5")], [name(0)], id="hyperopt-spelling-refused"
        ),
        pytest.param("OP-02", "multivariate-tpe", [("gamma", "0.5")], [name(0)], id="gamma-refused"),
        pytest.param("OP-02", "multivariate-tpe", [("n_ei_candidates", "2.5")], [value(0)], id="unparsable"),
        pytest.param("OP-02", "multivariate-tpe", [("random_state", "1"), ("seed", "1")], [name(1)], id="seed-refused"),
        pytest.param("OP-05", "grid", [("random_state", "-1")], [value(0)], id="grid-random_state--1"),
        pytest.param("OP-05", "grid", [("random_state", "0")], [], id="grid-random_state-0"),
        pytest.param("OP-05", "grid", [("seed", "0")], [name(0)], id="grid-unknown-name"),
    ],
)
def test_optuna_settings(rule_id: str, algorithm: str, settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check(
        rule_id,
        hp(algorithm, *settings, parameters=[param("lr", "double", min="0.1", max="0.5", step="0.1")], maxTrialCount=3),
        expected,
    )


OPTUNA_EVERYTHING = serving(tpe="optuna", random="optuna", cmaes="optuna")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param([("restart_strategy", "None")], [], id="restart-None"),
        pytest.param([("restart_strategy", "none")], [], id="restart-none"),
        pytest.param([("restart_strategy", "bipop")], [value(0)], id="restart-bipop-is-goptuna-only"),
        pytest.param([("sigma", "-0.1")], [value(0)], id="sigma-negative"),
        pytest.param([("sigma", "0")], [], id="sigma-0"),
        pytest.param([("random_state", "-1")], [value(0)], id="random_state--1"),
        pytest.param([("popsize", "4")], [name(0)], id="unknown-name"),
    ],
)
def test_optuna_cmaes_settings(settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check("OP-03", hp("cmaes", *settings), expected, config=OPTUNA_EVERYTHING)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param([param("lr", "double", min="0.1", max="0.5")], [("spec", "parameters")], id="one-double"),
        pytest.param(
            [param("lr", "double", min="0.1", max="0.5"), param("opt", "categorical", list=["a", "b"])],
            [("spec", "parameters")],
            id="categorical-does-not-count",
        ),
        pytest.param(
            [param("lr", "double", min="0.1", max="0.5"), param("n", "int", min="1", max="3")], [], id="double-and-int"
        ),
    ],
)
def test_cmaes_needs_two_continuous_dimensions(parameters: list[dict[str, Any]], expected: list[Any]) -> None:
    check("OP-03", hp("cmaes", parameters=parameters), expected, config=OPTUNA_EVERYTHING)
    check("GO-02", hp("cmaes", parameters=parameters), expected)


def test_optuna_random_refuses_a_negative_random_state_with_an_empty_message() -> None:
    context = context_for(hp("random", ("random_state", "-1")), OPTUNA_EVERYTHING)
    [finding] = MINE["OP-04"].check(context)
    assert finding.path == value(0) and "empty message" in finding.hint
    check("OP-04", hp("random", ("random_state", "0")), [], config=OPTUNA_EVERYTHING)
    check("OP-04", hp("random", ("seed", "0")), [name(0)], config=OPTUNA_EVERYTHING)


def test_optuna_serves_only_its_five_algorithms() -> None:
    check(
        "OP-01",
        hp("bayesianoptimization"),
        [("spec", "algorithm", "algorithmName")],
        config=serving(bayesianoptimization="optuna"),
    )
    check("OP-01", hp("grid"), [])


@pytest.mark.parametrize(
    ("parameters", "combinations"),
    [
        pytest.param([param("n", "int", min="1", max="4")], 4, id="int-default-step-1"),
        pytest.param([param("n", "int", min="1", max="10", step="3")], 4, id="int-step-3"),
        pytest.param([param("n", "int", min="5", max="1")], 0, id="int-min-above-max"),
        pytest.param([param("x", "double", min="0.1", max="0.5", step="0.1")], 5, id="double-0.1-to-0.5"),
        pytest.param([param("x", "double", min="0", max="1", step="0.1")], 11, id="double-0-to-1"),
        pytest.param([param("x", "double", min="0.01", max="0.05", step="0.005")], 9, id="double-last-value-dropped"),
        pytest.param([param("x", "double", min="0.5", max="0.5", step="0.1")], 1, id="double-min-equals-max"),
        pytest.param([param("x", "double", min="1", max="0.95", step="0.1")], 0, id="double-only-value-above-max"),
        pytest.param(
            [param("c", "categorical", list=["a", "b", "c"]), param("n", "int", min="1", max="2")], 6, id="product"
        ),
        pytest.param([param("c", "discrete", list=[])], 0, id="empty-list"),
    ],
)
def test_grid_combinations_count_like_optuna(parameters: list[dict[str, Any]], combinations: int) -> None:
    assert grid_combinations(parameters) == combinations


@pytest.mark.parametrize("combinations", [4, 6, 9])
def test_grid_max_trial_count_is_at_most_the_combinations(combinations: int) -> None:
    grids = {
        4: [param("n", "int", min="1", max="4")],
        6: [param("c", "categorical", list=["a", "b", "c"]), param("n", "int", min="1", max="2")],
        9: [param("x", "double", min="0.01", max="0.05", step="0.005")],
    }
    check("OP-05", hp("grid", parameters=grids[combinations], maxTrialCount=combinations), [])
    check(
        "OP-05", hp("grid", parameters=grids[combinations], maxTrialCount=combinations + 1), [("spec", "maxTrialCount")]
    )


def test_grid_counts_an_unset_max_trial_count_as_0() -> None:
    empty = [param("c", "categorical", list=[])]
    check("OP-05", hp("grid", parameters=empty, maxTrialCount=None), [])
    check("OP-05", hp("grid", parameters=empty, maxTrialCount=1), [("spec", "maxTrialCount")])


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param([param("x", "double", min="0.1", max="0.5")], [bound(0, "step")], id="double-needs-step"),
        pytest.param([param("n", "int", min="1", max="2.5")], [bound(0, "max")], id="int-2.5"),
        pytest.param([param("n", "int", min="1", max="4", step="0")], [bound(0, "step")], id="int-step-0"),
        pytest.param([param("x", "double", min="0.1", max="0.5", step="0")], [bound(0, "step")], id="double-step-0"),
        pytest.param(
            [param("x", "double", min="0.5", max="0.1", step="0.1")], [bound(0, "max")], id="double-empty-range"
        ),
        pytest.param(
            [param("x", "double", min="0.1", max="0.5"), param("n", "int", min="a", max="2")],
            [bound(0, "step")],
            id="first-error-only",
        ),
        pytest.param([param("x", "double", min="1e-1", max="5e-1", step="1e-1")], [], id="double-exponent-literals"),
    ],
)
def test_grid_enumeration_errors(parameters: list[dict[str, Any]], expected: list[Any]) -> None:
    check("OP-05", hp("grid", parameters=parameters, maxTrialCount=1), expected)


@pytest.mark.parametrize(
    ("distribution", "version", "expected", "effect"),
    [
        ("normal", (0, 20), [bound(0, "distribution")], "raises"),
        ("logNormal", (0, 19), [bound(0, "distribution")], "silently"),
        ("logUniform", (0, 20), [], ""),
        ("uniform", (0, 20), [], ""),
        ("normal", (0, 17), [], ""),
    ],
)
def test_optuna_supports_only_uniform_and_log_uniform(
    distribution: str, version: tuple[int, int], expected: list[Any], effect: str
) -> None:
    data = hp("tpe", parameters=[param("lr", "double", min="0.1", max="0.5", distribution=distribution)])
    found = findings("OP-06", data, config=serving(tpe="optuna"), version=version)
    assert [p for p, _ in found] == expected
    assert all(effect in message for _, message in found)


# ------------------------------------------------------------------ goptuna


def test_goptuna_serves_only_random_cmaes_tpe_sobol() -> None:
    check("GO-01", hp("grid"), [("spec", "algorithm", "algorithmName")], config=serving(grid="goptuna"))
    check("GO-01", hp("sobol"), [])


def test_goptuna_refuses_duplicate_parameter_names() -> None:
    twice = [param("lr", "double", min="0.1", max="0.5"), param("lr", "double", min="0.1", max="0.5")]
    check("GO-03", hp("sobol", parameters=twice), [("spec", "parameters", 1, "name")])
    check("GO-03", hp("sobol"), [])


@pytest.mark.parametrize(
    ("algorithm", "settings", "parameters", "expected"),
    [
        pytest.param("cmaes", [("restart_strategy", "None")], None, [value(0)], id="restart-None-is-optuna-only"),
        pytest.param("cmaes", [("restart_strategy", "bipop")], None, [], id="restart-bipop"),
        pytest.param("cmaes", [("restart_strategy", "none")], None, [], id="restart-none"),
        pytest.param("cmaes", [("random_state", "1.0")], None, [value(0)], id="atoi-refuses-decimal-point"),
        pytest.param("cmaes", [("random_state", "+1")], None, [], id="atoi-accepts-sign"),
        pytest.param("cmaes", [("sigma", " 0.5")], None, [value(0)], id="parsefloat-refuses-whitespace"),
        pytest.param("cmaes", [("sigma", "0x1p-2")], None, [], id="parsefloat-accepts-hex"),
        pytest.param("sobol", [("random_state", "x")], None, [], id="sobol-reads-no-settings"),
        pytest.param("random", [("random_state", "1_0")], None, [value(0)], id="atoi-refuses-underscores"),
        pytest.param("sobol", [], [param("n", "int", min="1", max="1e3")], [bound(0, "max")], id="int-max-1e3"),
        pytest.param("sobol", [], [param("n", "int", min="1", max="1000")], [], id="int-max-1000"),
        pytest.param(
            "sobol", [], [param("x", "double", min="0.1", max="1e400")], [bound(0, "max")], id="double-out-of-range"
        ),
        pytest.param("sobol", [], [param("x", "double", min="0.1", max="0.5", step="0.1")], [], id="double-with-step"),
        pytest.param(
            "sobol",
            [],
            [param("x", "unknown", min="0.1", max="0.5")],
            [("spec", "parameters", 0, "parameterType")],
            id="unknown-type",
        ),
        pytest.param(
            "cmaes",
            [("random_state", "x")],
            [param("n", "int", min="a", max="1"), param("m", "int", min="1", max="2")],
            [value(0)],
            id="sampler-error-first",
        ),
    ],
)
def test_goptuna_parse_errors(
    algorithm: str, settings: list[tuple[str, str]], parameters: list[dict[str, Any]] | None, expected: list[Any]
) -> None:
    check("GO-04", hp(algorithm, *settings, parameters=parameters), expected, config=serving(random="goptuna"))


def test_goptuna_tpe_settings_when_the_katib_config_sends_tpe_there() -> None:
    check("GO-04", hp("tpe", ("n_startup_trials", "2.5")), [value(0)], config=serving(tpe="goptuna"))
    check("GO-04", hp("tpe", ("n_startup_trials", "2")), [], config=serving(tpe="goptuna"))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12),
        ("+12", 12),
        ("-0", 0),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("1.0", None),
        ("1e3", None),
        (" 1", None),
        ("1_0", None),
        ("", None),
        ("٣", None),
    ],
)
def test_go_atoi(text: str, number: int | None) -> None:
    assert go_atoi(text) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0.5", 0.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("1_000.5", 1000.5),
        ("0x1p-2", 0.25),
        ("0x_1p0", 1.0),
        ("Inf", float("inf")),
        ("-Infinity", float("-inf")),
        ("1e-400", 0.0),
        ("1e400", None),
        ("0x1", None),
        ("_1", None),
        ("1_", None),
        ("1__0", None),
        ("1e_5", None),
        ("+nan", None),
        (".", None),
        ("", None),
        (" 1", None),
    ],
)
def test_go_parse_float(text: str, number: float | None) -> None:
    assert go_parse_float(text) == number


def test_go_parse_float_accepts_nan() -> None:
    parsed = go_parse_float("NaN")
    assert parsed is not None and math.isnan(parsed)


# ------------------------------------------------------------------ skopt


@pytest.mark.parametrize(
    ("rule_id", "settings", "expected"),
    [
        pytest.param("SK-02", [("base_estimator", "gp")], [value(0)], id="base_estimator-case"),
        pytest.param("SK-02", [("base_estimator", "GBRT")], [], id="base_estimator-GBRT"),
        pytest.param("SK-03", [("n_initial_points", "-1")], [value(0)], id="n_initial_points--1"),
        pytest.param("SK-03", [("n_initial_points", "0")], [], id="n_initial_points-0"),
        pytest.param("SK-04", [("acq_func", "ei")], [value(0)], id="acq_func-case"),
        pytest.param("SK-04", [("acq_func", "EIps")], [], id="acq_func-EIps"),
        pytest.param("SK-05", [("acq_optimizer", "adam")], [value(0)], id="acq_optimizer-adam"),
        pytest.param("SK-05", [("acq_optimizer", "lbfgs")], [], id="acq_optimizer-lbfgs"),
        pytest.param("SK-06", [("random_state", "-1")], [value(0)], id="random_state--1"),
        pytest.param("SK-06", [("random_state", "0")], [], id="random_state-0"),
        pytest.param("SK-07", [("n_calls", "10")], [name(0)], id="unknown-name"),
        pytest.param("SK-07", [("n_initial_points", "1e1")], [value(0)], id="unparsable"),
        pytest.param("SK-03", [("n_initial_points", "1e1")], [], id="unparsable-is-not-a-range-error"),
        pytest.param("SK-04", [("acq_func", "bad"), ("base_estimator", "bad")], [value(0)], id="first-failure"),
        pytest.param("SK-02", [("acq_func", "bad"), ("base_estimator", "bad")], [], id="later-failure-hidden"),
    ],
)
def test_skopt_settings(rule_id: str, settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check(rule_id, hp("bayesianoptimization", *settings), expected)


def test_skopt_serves_only_bayesianoptimization() -> None:
    check("SK-01", hp("random"), [("spec", "algorithm", "algorithmName")], config=serving(random="skopt"))
    check("SK-01", hp("bayesianoptimization"), [])


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        pytest.param(param("lr", "double", min="0", max="0.5"), [bound(0, "min")], id="double-min-0"),
        pytest.param(param("lr", "double", min="0.0001", max="0.5"), [], id="double-min-0.0001"),
        pytest.param(param("lr", "double", min="0.5", max="0.5"), [bound(0, "max")], id="double-min-equals-max"),
        pytest.param(param("n", "int", min="3", max="3"), [bound(0, "max")], id="int-min-equals-max"),
        pytest.param(param("n", "int", min="0", max="1"), [], id="int-may-start-at-0"),
        pytest.param(param("n", "int", min="1.5", max="3"), [bound(0, "min")], id="int-unparsable"),
    ],
)
def test_skopt_search_space(parameter: dict[str, Any], expected: list[Any]) -> None:
    check("SK-09", hp("bayesianoptimization", parameters=[parameter]), expected)


# ------------------------------------------------------------------ hyperband


EPOCHS = [param("lr", "double", min="0.01", max="0.05"), param("epochs", "int", min="1", max="9")]


def hyperband(
    *settings: tuple[str, str], parallel: int | None = 9, parameters: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"parallelTrialCount": parallel, "maxTrialCount": 20, "parameters": parameters or EPOCHS}
    return hp("hyperband", *settings, **spec)


def test_hyperband_needs_r_l_and_resource_name() -> None:
    check("HB-01", hyperband(("r_l", "9")), [SETTINGS])
    check("HB-01", hyperband(("r_l", "9"), ("resource_name", "epochs")), [])


@pytest.mark.parametrize(
    ("r_l", "fails"),
    [
        ("0", True),
        ("-1", True),
        ("abc", True),
        ("nan", True),
        ("inf", True),
        ("0.0001", False),
        ("1", False),
        ("9", False),
    ],
)
def test_hyperband_r_l_is_a_positive_finite_number(r_l: str, fails: bool) -> None:
    check("HB-02", hyperband(("resource_name", "epochs"), ("r_l", r_l)), [value(1)] if fails else [])


@pytest.mark.parametrize(
    ("eta", "fails"),
    [("1", True), ("1.9", True), ("x", True), ("inf", True), ("2", False), ("2.9", False), ("0", False), ("-4", False)],
)
def test_hyperband_eta_must_not_truncate_to_1(eta: str, fails: bool) -> None:
    check("HB-03", hyperband(("resource_name", "epochs"), ("r_l", "9"), ("eta", eta)), [value(2)] if fails else [])


@pytest.mark.parametrize(("r_l", "eta", "needed"), [(9, 3, 9), (27, 3, 27), (2, 2, 2), (1000, 10, 100), (0.5, 3, 1)])
def test_hyperband_parallelism_vectors(r_l: float, eta: int, needed: int) -> None:
    assert hyperband_min_parallel(r_l, eta) == needed
    settings = (("resource_name", "epochs"), ("r_l", str(r_l)), ("eta", str(eta)))
    check("HB-04", hyperband(*settings, parallel=needed), [])
    if needed > 1:
        check("HB-04", hyperband(*settings, parallel=needed - 1), [("spec", "parallelTrialCount")])


def test_hyperband_parallelism_uses_the_defaults_eta_3_and_parallel_3() -> None:
    check(
        "HB-04", hyperband(("resource_name", "epochs"), ("r_l", "9"), parallel=None), [("spec", "parallelTrialCount")]
    )
    check("HB-04", hyperband(("resource_name", "epochs"), ("r_l", "3"), parallel=None), [])
    check("HB-04", hyperband(("resource_name", "epochs"), ("r_l", "9"), ("eta", "0"), parallel=9), [])


def test_hyperband_resource_name_names_a_parameter() -> None:
    check("HB-05", hyperband(("resource_name", "steps"), ("r_l", "9")), [value(0)])
    check("HB-05", hyperband(("resource_name", "epochs"), ("r_l", "9")), [])


def test_hyperband_duplicate_settings_last_one_wins() -> None:
    check("HB-05", hyperband(("resource_name", "steps"), ("resource_name", "epochs"), ("r_l", "9")), [])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2"], []),
        (["1", "2.5"], [bound(1, "list") + (1,)]),
        (["1e3"], [bound(1, "list") + (0,)]),
        ([], [bound(1, "list")]),
    ],
)
def test_hyperband_discrete_values_are_integer_literals(values: list[str], expected: list[Any]) -> None:
    parameters = [EPOCHS[1], param("units", "discrete", list=values)]
    check("HB-07", hyperband(("resource_name", "epochs"), ("r_l", "9"), parameters=parameters), expected)


# ------------------------------------------------------------------ pbt


def pbt(*settings: tuple[str, str], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    base = [
        ("suggestion_trial_dir", "/var/log/katib/checkpoints/"),
        ("n_population", "5"),
        ("truncation_threshold", "0.2"),
    ]
    return hp(
        "pbt", *base, *settings, parameters=parameters or [param("lr", "double", min="0.01", max="0.05", step="0.01")]
    )


def test_pbt_needs_its_three_settings() -> None:
    check(
        "PBT-01",
        hp("pbt", ("n_population", "5"), parameters=[param("lr", "double", min="0.01", max="0.05", step="0.01")]),
        [SETTINGS],
    )
    check("PBT-01", pbt(), [])


@pytest.mark.parametrize(
    ("n_population", "fails"), [("4", True), ("5.0", True), ("x", True), ("5", False), ("40", False)]
)
def test_pbt_population_is_at_least_5(n_population: str, fails: bool) -> None:
    check("PBT-02", pbt(("n_population", n_population)), [value(3)] if fails else [])


@pytest.mark.parametrize(
    ("threshold", "fails"),
    [("-0.0001", True), ("0", False), ("1", False), ("1.0001", True), ("nan", True), ("x", True)],
)
def test_pbt_truncation_threshold_is_within_0_and_1(threshold: str, fails: bool) -> None:
    check("PBT-03", pbt(("truncation_threshold", threshold)), [value(3)] if fails else [])


@pytest.mark.parametrize("probability", ["0.5", "0", "1", ""])
def test_pbt_refuses_any_resample_probability(probability: str) -> None:
    context = context_for(pbt(("resample_probability", probability)))
    [finding] = MINE["PBT-04"].check(context)
    assert finding.path == name(3) and "TypeError" in finding.hint
    check("PBT-04", pbt(), [])


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        pytest.param(param("lr", "double", min="0.01", max="0.05"), [bound(0, "step")], id="double-without-step"),
        pytest.param(param("lr", "double", min="0.01", max="0.05", step="0"), [bound(0, "step")], id="double-step-0"),
        pytest.param(param("lr", "double", min="0.01", max="0.05", step="0.01"), [], id="double-with-step"),
        pytest.param(param("n", "int", min="1", max="5"), [], id="int-defaults-step-1"),
    ],
)
def test_pbt_double_parameters_need_a_step(parameter: dict[str, Any], expected: list[Any]) -> None:
    check("PBT-06", pbt(parameters=[parameter]), expected)


# ------------------------------------------------------------------ NAS: enas, darts, operations


def conv(*parameters: dict[str, Any]) -> dict[str, Any]:
    """A convolution operation with these parameters (by default: a filter size list and an int stride)."""
    default = [param("filter_size", "categorical", list=["3", "5"]), param("stride", "int", min="1", max="2", step="1")]
    return {"operationType": "convolution", "parameters": list(parameters) or default}


def nas(
    algorithm: str,
    *settings: tuple[str, str],
    operations: list[dict[str, Any]] | None = None,
    graph: dict[str, Any] | None = None,
    references: list[str] | None = None,
) -> dict[str, Any]:
    """A NAS Experiment in the shape of the upstream enas/darts examples."""
    names = references if references is not None else list(algorithms.NAS_ASSIGNMENTS[algorithm])
    data = hp(
        algorithm,
        *settings,
        parameters=None,
        nasConfig={
            "graphConfig": graph
            if graph is not None
            else {"numLayers": 1, "inputSizes": [32, 32, 3], "outputSizes": [10]},
            "operations": operations if operations is not None else [conv()],
        },
    )
    del data["spec"]["parameters"]
    template = data["spec"]["trialTemplate"]
    template["trialParameters"] = [{"name": f"p{i}", "reference": r} for i, r in enumerate(names)]
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = [
        f"--{i}=${{trialParameters.p{i}}}" for i in range(len(names))
    ]
    return data


@pytest.mark.parametrize(
    ("rule_id", "field", "empty", "fine"),
    [
        ("ENAS-01", "inputSizes", [], [32]),
        ("ENAS-02", "outputSizes", [], [10]),
        ("ENAS-03", "numLayers", 0, 1),
    ],
)
def test_enas_graph_config(rule_id: str, field: str, empty: Any, fine: Any) -> None:
    graph = {"numLayers": 1, "inputSizes": [32], "outputSizes": [10]}
    check(rule_id, nas("enas", graph={**graph, field: empty}), [("spec", "nasConfig", "graphConfig", field)])
    check(rule_id, nas("enas", graph={**graph, field: fine}), [])


def test_enas_without_nas_config_misses_its_graph() -> None:
    check("ENAS-01", hp("enas"), [("spec", "nasConfig", "graphConfig", "inputSizes")])


def test_darts_does_not_check_the_graph() -> None:
    check("ENAS-01", nas("darts", graph={}), [])


@pytest.mark.parametrize(
    ("rule_id", "operation", "where"),
    [
        pytest.param(
            "NASOP-01",
            {"operationType": "", "parameters": [param("k", "categorical", list=["3"])]},
            ("operationType",),
            id="no-operationType",
        ),
        pytest.param("NASOP-02", {"operationType": "skip_connection"}, ("parameters",), id="no-parameters"),
        pytest.param("NASOP-03", conv(param("", "categorical", list=["3"])), ("parameters", 0, "name"), id="no-name"),
        pytest.param(
            "NASOP-04", conv(param("k", "unknown", list=["3"])), ("parameters", 0, "parameterType"), id="type-unknown"
        ),
        pytest.param("NASOP-04", conv(param("k", "Int", min="1")), ("parameters", 0, "parameterType"), id="type-case"),
        pytest.param(
            "NASOP-05",
            conv(param("k", "discrete", list=[])),
            ("parameters", 0, "feasibleSpace", "list"),
            id="empty-list",
        ),
        pytest.param(
            "NASOP-06", conv(param("k", "int", step="1")), ("parameters", 0, "feasibleSpace"), id="no-min-no-max"
        ),
        pytest.param(
            "NASOP-07",
            conv(param("k", "double", min="0.1", max="1")),
            ("parameters", 0, "feasibleSpace", "step"),
            id="double-no-step",
        ),
        pytest.param(
            "NASOP-07",
            conv(param("k", "double", min="0.1", max="1", step="0")),
            ("parameters", 0, "feasibleSpace", "step"),
            id="double-step-0",
        ),
        pytest.param(
            "NASOP-07",
            conv(param("k", "double", min="0.1", max="1", step="abc")),
            ("parameters", 0, "feasibleSpace", "step"),
            id="double-step-abc",
        ),
    ],
)
@pytest.mark.parametrize("service", ["enas", "darts"])
def test_nas_operations_fail(service: str, rule_id: str, operation: dict[str, Any], where: tuple[Any, ...]) -> None:
    data = nas(service, operations=[conv(), operation])
    check(rule_id, data, [OPS + (1,) + where])
    umbrella = "ENAS-04" if service == "enas" else "DARTS-01"
    [(path, message)] = findings(umbrella, data)
    assert path == OPS + (1,) and rule_id in message


@pytest.mark.parametrize(
    ("rule_id", "operation"),
    [
        pytest.param(
            "NASOP-01",
            {"operationType": "max_pooling", "parameters": [param("k", "categorical", list=["3"])]},
            id="operationType",
        ),
        pytest.param("NASOP-02", conv(param("k", "categorical", list=["3"])), id="one-parameter"),
        pytest.param("NASOP-03", conv(param("k", "categorical", list=["3"])), id="named"),
        pytest.param("NASOP-04", conv(param("k", "discrete", list=["3"])), id="type-discrete"),
        pytest.param("NASOP-05", conv(param("k", "categorical", list=["3"])), id="one-value"),
        pytest.param("NASOP-06", conv(param("k", "int", min="1", step="1")), id="min-alone-suffices"),
        pytest.param("NASOP-06", conv(param("k", "double", max="1", step="0.1")), id="max-alone-suffices"),
        pytest.param("NASOP-07", conv(param("k", "double", min="0", max="1", step="0.1")), id="double-step-0.1"),
        pytest.param("NASOP-07", conv(param("k", "int", min="1", max="3")), id="int-needs-no-step"),
    ],
)
@pytest.mark.parametrize("service", ["enas", "darts"])
def test_nas_operations_pass(service: str, rule_id: str, operation: dict[str, Any]) -> None:
    data = nas(service, operations=[conv(), operation])
    check(rule_id, data, [])
    check("ENAS-04" if service == "enas" else "DARTS-01", data, [])


def test_nas_umbrella_rules_report_only_the_first_invalid_operation() -> None:
    data = nas("enas", operations=[{"operationType": "a"}, {"operationType": "", "parameters": []}])
    assert [p for p, _ in findings("ENAS-04", data)] == [OPS + (0,)]
    assert paths("NASOP-02", data) == [OPS + (0, "parameters"), OPS + (1, "parameters")]
    assert paths("NASOP-01", data) == [OPS + (1, "operationType")]


def test_darts_validates_operations_and_settings_only_since_katib_0_15() -> None:
    # kubeflow/katib#1926 (v0.15.0) gave the darts service its ValidateAlgorithmSettings checks; enas had them.
    data = nas("darts", ("num_epochs", "0"), operations=[{"operationType": "skip_connection"}])
    for rule_id in ("NASOP-02", "DARTS-01", "DARTS-02"):
        assert findings(rule_id, data, version=(0, 14)) == [] and findings(rule_id, data, version=(0, 15)) != []
    enas = nas("enas", operations=[{"operationType": "skip_connection"}])
    assert findings("NASOP-02", enas, version=(0, 14)) != []


def test_nas_operation_rules_need_a_nas_service() -> None:
    check("NASOP-02", nas("enas", operations=[{"operationType": "x"}]), [], config=serving(enas=""))


@pytest.mark.parametrize(
    ("settings", "rule_id", "expected"),
    [
        pytest.param([("controller_hidden_size", "0")], "ENAS-05", [value(0)], id="hidden_size-0"),
        pytest.param([("controller_hidden_size", "1")], "ENAS-05", [], id="hidden_size-1"),
        pytest.param([("controller_baseline_decay", "0")], "ENAS-05", [value(0)], id="baseline_decay-0"),
        pytest.param([("controller_baseline_decay", "1")], "ENAS-05", [], id="baseline_decay-1"),
        pytest.param([("controller_baseline_decay", "1.0001")], "ENAS-05", [value(0)], id="baseline_decay-1.0001"),
        pytest.param([("controller_skip_weight", "1000")], "ENAS-05", [], id="skip_weight-unbounded"),
        pytest.param([("controller_temperature", "None")], "ENAS-05", [], id="temperature-None"),
        pytest.param(
            [("controller_learning_rate", "None")], "ENAS-05", [value(0)], id="learning_rate-None-is-not-a-float"
        ),
        pytest.param([("controller_train_steps", "1.5")], "ENAS-05", [value(0)], id="train_steps-not-int"),
        pytest.param([("controller_tanh_const", "nan")], "ENAS-05", [], id="nan-slips-through"),
        pytest.param([("controller_foo", "1")], "ENAS-06", [name(0)], id="unknown-name"),
        pytest.param(
            [("controller_foo", "1"), ("controller_hidden_size", "0")], "ENAS-05", [], id="first-failure-only"
        ),
    ],
)
def test_enas_settings(settings: list[tuple[str, str]], rule_id: str, expected: list[Any]) -> None:
    check(rule_id, nas("enas", *settings), expected)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param([("num_epochs", "0")], [value(0)], id="num_epochs-0"),
        pytest.param([("num_epochs", "1")], [], id="num_epochs-1"),
        pytest.param([("num_epochs", "2.5")], [value(0)], id="num_epochs-2.5"),
        pytest.param([("w_lr", "-0.001")], [value(0)], id="w_lr-negative"),
        pytest.param([("w_lr", "0")], [], id="w_lr-0"),
        pytest.param([("w_grad_clip", "nan")], [value(0)], id="w_grad_clip-nan"),
        pytest.param([("batch_size", "None")], [], id="batch_size-None"),
        pytest.param([("batch_size", "0")], [value(0)], id="batch_size-0"),
        pytest.param([("num_workers", "0")], [], id="num_workers-0"),
        pytest.param([("num_workers", "-1")], [value(0)], id="num_workers--1"),
        pytest.param([("stem_multiplier", "0")], [value(0)], id="stem_multiplier-0"),
        pytest.param([("anything", "x")], [], id="unknown-names-pass"),
        pytest.param([("num_nodes", "0"), ("init_channels", "0")], [value(0)], id="first-failure-only"),
    ],
)
def test_darts_settings(settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check("DARTS-02", nas("darts", *settings), expected)


@pytest.mark.parametrize(
    ("service", "references", "expected"),
    [
        ("enas", ["architecture", "nn_config"], []),
        ("enas", ["architecture", "nn_config", "${trialSpec.Name}"], []),
        ("enas", ["architecture"], [TRIAL_PARAMETERS]),
        ("enas", ["architecture", "arch"], [TRIAL_PARAMETERS + (1, "reference")]),
        ("darts", ["algorithm-settings", "search-space", "num-layers"], []),
        ("darts", ["algorithm-settings", "search-space"], [TRIAL_PARAMETERS]),
        ("darts", ["algorithm_settings", "search-space", "num-layers"], [TRIAL_PARAMETERS + (0, "reference")]),
    ],
)
def test_nas_trial_parameters_reference_the_assignments(
    service: str, references: list[str], expected: list[Any]
) -> None:
    check("ENAS-08" if service == "enas" else "DARTS-04", nas(service, references=references), expected)


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ({"min": "1", "max": "3", "step": "1"}, []),
        ({"min": "1", "max": "3"}, [OPS + (0, "parameters", 0, "feasibleSpace", "step")]),
        ({"min": "1", "max": "3", "step": "0"}, [OPS + (0, "parameters", 0, "feasibleSpace", "step")]),
        ({"min": "1.5", "max": "3", "step": "1"}, [OPS + (0, "parameters", 0, "feasibleSpace", "min")]),
    ],
)
def test_enas_int_operation_parameters_need_integer_bounds_and_step(space: dict[str, str], expected: list[Any]) -> None:
    check(
        "ENAS-08",
        nas("enas", operations=[conv({"name": "pool_size", "parameterType": "int", "feasibleSpace": space})]),
        expected,
    )


# ------------------------------------------------------------------ medianstop


def early(*settings: tuple[str, str], algorithm: str = "medianstop") -> dict[str, Any]:
    return experiment(
        earlyStopping={"algorithmName": algorithm, "algorithmSettings": [{"name": n, "value": v} for n, v in settings]}
    )


@pytest.mark.parametrize(
    ("rule_id", "settings", "expected"),
    [
        ("ES-05", [("min_trials_required", "0")], [EARLY + (0, "value")]),
        ("ES-05", [("min_trials_required", "1")], []),
        ("ES-06", [("start_step", "0")], [EARLY + (0, "value")]),
        ("ES-06", [("start_step", "1")], []),
        ("ES-07", [("min_trials", "3")], [EARLY + (0, "name")]),
        ("ES-07", [("start_step", "1.5")], [EARLY + (0, "value")]),
        ("ES-06", [("start_step", "1.5")], []),
        ("ES-05", [("start_step", "0"), ("min_trials_required", "0")], []),
    ],
)
def test_medianstop_settings(rule_id: str, settings: list[tuple[str, str]], expected: list[Any]) -> None:
    check(rule_id, early(*settings), expected)


def test_medianstop_serves_only_medianstop() -> None:
    config = STANDALONE._replace(early_stoppings={"medianstop": "medianstop", "median": "medianstop"})
    check("ES-04", early(algorithm="median"), [("spec", "earlyStopping", "algorithmName")], config=config)
    check("ES-04", early(), [], config=config)
    check("ES-05", early(("min_trials_required", "0"), algorithm="median"), [], config=config)


def test_unconfigured_early_stopping_gets_no_medianstop_rule() -> None:
    data = early(("nonsense", "x"), algorithm="other")
    assert [i for i in ("ES-04", "ES-05", "ES-06", "ES-07") if findings(i, data)] == []


# ------------------------------------------------------------------ upstream examples


def upstream_experiments(shared: FilePath) -> list[tuple[str, dict[str, Any]]]:
    root = shared / "upstream" / "katib" / "examples"
    files = sorted([*root.glob("hp-tuning/*.yaml"), *root.glob("early-stopping/*.yaml"), *root.glob("nas/*.yaml")])
    return [
        (f"{f.parent.name}/{f.name}", d)
        for f in files
        for d in yaml.safe_load_all(f.read_text())
        if d and d.get("kind") == "Experiment"
    ]


# Found while writing these rules (not in katib-rules.md §17): darts-gpu.yaml's skip_connection
# operation has no parameters, which the darts service refuses (NASOP-02); upstream e2e runs darts-cpu only.
BROKEN_UPSTREAM = {
    "nas/darts-gpu.yaml": {("NASOP-02", OPS + (4, "parameters")), ("DARTS-01", OPS + (4,))},
}


def test_upstream_examples_pass_every_service_rule(shared: FilePath) -> None:
    examples = upstream_experiments(shared)
    assert len(examples) == 17
    for label, data in examples:
        context = context_for(data)
        found = {(rule_id, f.path) for rule_id, item in MINE.items() for f in item.check(context)}
        assert found == BROKEN_UPSTREAM.get(label, set()), label


def test_upstream_optuna_distribution_example_also_passes_on_optuna(shared: FilePath) -> None:
    """UP-07: the example names tpe (hyperopt by default); sent to optuna it still passes."""
    [(_, data)] = [e for e in upstream_experiments(shared) if e[0] == "hp-tuning/optuna-distribution.yaml"]
    context = context_for(data, serving(tpe="optuna"), (0, 20))
    assert [(i, f.path) for i, item in MINE.items() for f in item.check(context)] == []


def test_valid_helper_experiment_passes_every_service_rule() -> None:
    context = context_for(VALID)
    assert [i for i, item in MINE.items() if list(item.check(context))] == []
