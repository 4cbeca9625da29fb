"""RT-01..RT-05: settings the services' validation accepts that fail at the first GetSuggestions (katib-rules.md §5.12).

Each rule fails at its boundary and passes just inside it, with its ID and position; the findings of every
algorithm rule are compared as a whole, so a value the ALGO rules already refuse gets no second finding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path as FilePath
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.rules import algorithms
from katib_gitops.rules.framework import context_for
from katib_gitops.spec.katib_config import KatibConfig
from katib_gitops.yamlio.writer import dump
from tests.validate.helpers import findings
from tests.validate.test_algorithms import EPOCHS, MINE, SETTINGS, hp, hyperband, param, serving, value

RT_IDS = ["RT-01", "RT-02", "RT-03", "RT-04", "RT-05"]
PARAMETERS = ("spec", "parameters")
TO_OPTUNA = serving(tpe="optuna", random="optuna", cmaes="optuna")


def fired(data: dict[str, Any], config: KatibConfig | None = None) -> set[tuple[str, tuple[str | int, ...]]]:
    """(rule ID, path) of every finding of every algorithm rule (ALGO and the services' RUNTIME rules)."""
    context = context_for(data, config) if config is not None else context_for(data)
    return {(rule_id, f.path) for rule_id, item in MINE.items() if item.check for f in item.check(context)}


def hint(rule_id: str, data: dict[str, Any], config: KatibConfig | None = None) -> str:
    context = context_for(data, config) if config is not None else context_for(data)
    check = MINE[rule_id].check
    assert check is not None
    (finding,) = check(context)
    return finding.hint


def test_the_five_are_registered_as_runtime_errors_with_the_algorithm_rules() -> None:
    assert {i: (MINE[i].level, MINE[i].severity.name, MINE[i].module) for i in RT_IDS} == dict.fromkeys(
        RT_IDS, ("RUNTIME", "ERROR", algorithms.__name__)
    )


def test_the_catalogue_lists_exactly_these_in_section_5_12(shared: FilePath) -> None:
    text = (shared / "research" / "katib-rules.md").read_text()
    section = text.split("\n### 5.12 ")[1].split("\n## ")[0]
    assert re.findall(r"\*\*(RT-\d+) (\w+)\*\*", section) == [(i, "RUNTIME") for i in RT_IDS]


# ------------------------------------------------------------------ RT-01 random_state


SEEDED = [
    pytest.param("tpe", None, id="hyperopt-tpe"),
    pytest.param("random", None, id="hyperopt-random"),
    pytest.param("tpe", TO_OPTUNA, id="optuna-tpe"),
    pytest.param("multivariate-tpe", None, id="optuna-multivariate-tpe"),
    pytest.param("cmaes", TO_OPTUNA, id="optuna-cmaes"),
    pytest.param("random", TO_OPTUNA, id="optuna-random"),
    pytest.param("grid", None, id="optuna-grid"),
    pytest.param("bayesianoptimization", None, id="skopt"),
]
GRIDDABLE = [param("lr", "int", min="1", max="5"), param("momentum", "int", min="1", max="5")]


@pytest.mark.parametrize(("algorithm", "config"), SEEDED)
def test_random_state_fails_at_2_to_the_32_and_passes_just_below(algorithm: str, config: KatibConfig | None) -> None:
    def seeded(seed: str) -> dict[str, Any]:
        return hp(algorithm, ("random_state", seed), parameters=GRIDDABLE)

    assert fired(seeded("4294967296"), config) == {("RT-01", value(0))}
    assert fired(seeded("4294967295"), config) == set()
    assert fired(seeded("0"), config) == set()
    assert "Seed must be between 0 and 2**32 - 1" in hint("RT-01", seeded("4294967296"), config)


def test_random_state_below_0_or_not_an_integer_stays_the_validation_rules() -> None:
    assert fired(hp("tpe", ("random_state", "-1"))) == {("HO-06", value(0))}
    assert fired(hp("bayesianoptimization", ("random_state", "-1"))) == {("SK-06", value(0))}
    assert fired(hp("tpe", ("random_state", "4294967296.0"))) == {("HO-08", value(0))}


def test_the_last_random_state_is_the_seed() -> None:
    big, fine = ("random_state", "4294967296"), ("random_state", "7")
    assert fired(hp("random", big, fine)) == set()
    assert fired(hp("random", fine, big)) == {("RT-01", value(1))}


def test_goptuna_seeds_are_go_integers_without_that_limit() -> None:
    data = hp("cmaes", ("random_state", "4294967296"))
    assert findings("RT-01", data) == [] and fired(data) == set()


# ------------------------------------------------------------------ RT-02 n_initial_points


def test_skopt_n_initial_points_fails_at_0_and_passes_at_1() -> None:
    def initial(*values: str) -> dict[str, Any]:
        return hp("bayesianoptimization", *(("n_initial_points", v) for v in values))

    assert fired(initial("0")) == {("RT-02", value(0))}
    assert fired(initial("1")) == set()
    assert fired(initial("-1")) == {("SK-03", value(0))}  # the service's validation refuses it: no RT-02
    assert fired(initial("5", "0")) == {("RT-02", value(1))}  # the last one counts
    assert fired(initial("0", "5")) == set()
    assert "Random evaluations exhausted and no model has been fit." in hint("RT-02", initial("0"))


# ------------------------------------------------------------------ RT-03 s_max below 0


def with_r_l(r_l: str, *more: tuple[str, str]) -> dict[str, Any]:
    return hyperband(("resource_name", "epochs"), ("r_l", r_l), *more)


@pytest.mark.parametrize(
    ("r_l", "eta", "fails"),
    [
        pytest.param("0.5", "2", True, id="r_l-1/eta-s_max--1"),
        pytest.param("0.5000001", "2", False, id="just-above-1/eta-s_max-0"),
        pytest.param("0.2500001", "2", True, id="just-above-1/eta**2-s_max--1"),
        pytest.param("0.25", "2", True, id="1/eta**2-s_max--2"),
        pytest.param("1", "2", False, id="r_l-1-s_max-0"),
        pytest.param("0.3333333", None, True, id="default-eta-3-below-1/3"),
        pytest.param("0.3333334", None, False, id="default-eta-3-above-1/3"),
        pytest.param("0.3333334", "0", False, id="eta-0-means-3"),
        pytest.param("0.45", "2.5", False, id="runtime-reads-eta-2.5-as-a-float"),
        pytest.param("0.39", "2.5", True, id="below-1/2.5"),
        pytest.param("9", "0.5", True, id="runtime-keeps-eta-0.5"),
        pytest.param("0.9", "0.5", False, id="eta-0.5-r_l-0.9-s_max-0"),
    ],
)
def test_hyperband_s_max_is_at_least_0_as_the_runtime_computes_it(r_l: str, eta: str | None, fails: bool) -> None:
    data = with_r_l(r_l, *([("eta", eta)] if eta is not None else []))
    assert fired(data) == ({("RT-03", value(1))} if fails else set())


def test_hyperband_s_max_hints_name_the_failure() -> None:
    assert '"ZeroDivisionError: float division by zero"' in hint("RT-03", with_r_l("0.5", ("eta", "2")))
    assert "The response contains unexpected trials" in hint("RT-03", with_r_l("0.25", ("eta", "2")))


def test_hyperband_r_l_and_eta_the_validation_refuses_stay_hb_02_and_hb_03() -> None:
    assert fired(with_r_l("0")) == {("HB-02", value(1))}
    assert fired(with_r_l("-0.5")) == {("HB-02", value(1))}
    assert fired(with_r_l("0.5", ("eta", "1"))) == {("HB-03", value(2))}


def test_a_user_s_max_of_at_least_0_replaces_the_computed_one() -> None:
    assert fired(with_r_l("0.5", ("eta", "2"), ("s_max", "0"))) == set()
    assert fired(with_r_l("0.5", ("eta", "2"), ("s_max", "-1"))) == {("RT-03", value(1))}


# ------------------------------------------------------------------ RT-04 settings parsed in order


@pytest.mark.parametrize(
    ("settings", "expected", "message"),
    [
        pytest.param(
            [("r_l", "abc"), ("r_l", "2")], {("RT-04", value(1))}, "could not convert string to float: 'abc'", id="dup"
        ),
        pytest.param([("r_l", "2"), ("r_l", "abc")], {("HB-02", value(2))}, None, id="last-r_l-is-hb-02"),
        pytest.param([("r_l", "inf"), ("r_l", "2")], set(), None, id="float-takes-inf"),
        pytest.param([("eta", "x"), ("r_l", "2"), ("eta", "3")], {("RT-04", value(1))}, "'x'", id="dup-eta"),
        pytest.param([("r_l", "2"), ("eta", "3"), ("eta", "x")], {("HB-03", value(3))}, None, id="last-eta-is-hb-03"),
        pytest.param([("r_l", "2"), ("s_max", "abc")], {("RT-04", value(2))}, "ValueError", id="s_max-abc"),
        pytest.param([("r_l", "2"), ("s_max", "1")], set(), None, id="s_max-1"),
        pytest.param([("r_l", "2"), ("current_i", "1.5")], set(), None, id="int-of-float"),
        pytest.param([("r_l", "2"), ("n", "inf")], {("RT-04", value(2))}, "cannot convert float infinity", id="n-inf"),
        pytest.param([("r_l", "2"), ("b_l", "")], {("RT-04", value(2))}, "to float: ''", id="b_l-empty"),
        pytest.param([("r_l", "2"), ("s_max", "a"), ("n", "b")], {("RT-04", value(2))}, "'a'", id="first-only"),
        pytest.param([("r_l", "2"), ("sharpness", "abc")], set(), None, id="unknown-names-are-ignored"),
    ],
)
def test_hyperband_runtime_parses_every_setting_in_order(
    settings: list[tuple[str, str]], expected: set[Any], message: str | None
) -> None:
    data = hyperband(("resource_name", "epochs"), *settings)
    assert fired(data) == expected
    if message is not None:
        assert message in hint("RT-04", data)


def test_a_duplicate_r_l_that_validation_refuses_hides_no_runtime_failure() -> None:
    """The last r_l is HB-02's; the runtime's next failure is still reported."""
    data = hyperband(("resource_name", "epochs"), ("r_l", "x"), ("s_max", "y"))
    assert fired(data) == {("HB-02", value(1)), ("RT-04", value(2))}


# ------------------------------------------------------------------ RT-05 grid size


def grid(*parameters: dict[str, Any]) -> dict[str, Any]:
    return hp("grid", parameters=list(parameters), maxTrialCount=1)


def ints(name: str, count: int) -> dict[str, Any]:
    return param(name, "int", min="1", max=str(count))


def test_a_grid_fails_just_over_10_million_combinations_and_passes_at_10_million() -> None:
    assert fired(grid(ints("a", 1000), ints("b", 10_000))) == set()
    assert fired(grid(ints("a", 1000), ints("b", 10_001))) == {("RT-05", PARAMETERS)}
    assert fired(grid(ints("a", 10), ints("b", 10), param("c", "categorical", list=["x"] * 100_001))) == {
        ("RT-05", PARAMETERS)
    }


def test_one_parameter_fails_just_over_10_million_values_and_passes_at_10_million() -> None:
    assert fired(grid(ints("a", 10_000_000))) == set()
    assert fired(grid(ints("a", 10_000_001))) == {("RT-05", PARAMETERS + (0,))}
    assert fired(grid(ints("a", 10_000_001), param("b", "categorical", list=[]))) == {
        ("RT-05", PARAMETERS + (0,)),  # tuple()d even when another parameter has no value
        ("OP-05", ("spec", "maxTrialCount")),
    }


def test_a_range_over_2_to_the_63_fails_with_the_services_overflow() -> None:
    data = grid(param("a", "int", min="0", max=str(2**63)))
    assert fired(data) == {("RT-05", PARAMETERS + (0,))}
    assert "Python int too large to convert to C ssize_t" in hint("RT-05", data)
    assert "ssize_t" not in hint("RT-05", grid(param("a", "int", min="0", max=str(2**63 - 2))))


def test_a_double_with_a_tiny_step_fails_and_numpys_own_limit_stays_op_05() -> None:
    tiny = grid(param("a", "double", min="0", max="2", step="1e-12"))
    assert fired(tiny) == {("RT-05", PARAMETERS + (0,))}
    assert "numpy's arange needs 14.6 TiB" in hint("RT-05", tiny)
    too_long = grid(param("a", "double", min="0", max="2", step="1e-300"), ints("b", 10_000_001))
    assert fired(too_long) == {
        ("OP-05", ("spec", "parameters", 0, "feasibleSpace", "step")),
        ("RT-05", PARAMETERS + (1,)),
    }


def test_grid_limits_apply_to_optuna_grid_only() -> None:
    huge = [ints("a", 10_000_001), EPOCHS[0]]
    assert findings("RT-05", hp("random", parameters=huge)) == []
    assert findings("RT-05", hp("grid", parameters=huge), config=serving(grid="")) == []


# ------------------------------------------------------------------ end to end: ID, line and column


def located(data: dict[str, Any], tmp_path: FilePath) -> tuple[list[tuple[str, int, int, str]], list[str]]:
    text = dump(data)
    path = tmp_path / "e.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 1, result.stdout
    found = json.loads(result.stdout)["diagnostics"]
    return [(d["rule_id"], d["line"], d["column"], d["path"]) for d in found], text.splitlines()


def valid_hyperband(*settings: tuple[str, str]) -> dict[str, Any]:
    """A hyperband Experiment that passes every rule but the one under test (its parameters reach the trial)."""
    return hp("hyperband", ("resource_name", "momentum"), *settings, parallelTrialCount=9)


@pytest.mark.parametrize(
    ("rule_id", "data", "line", "at"),
    [
        pytest.param("RT-01", hp("random", ("random_state", "4294967296")), "value: '4294967296'", value(0), id="01"),
        pytest.param("RT-02", hp("bayesianoptimization", ("n_initial_points", "0")), "value: '0'", value(0), id="02"),
        pytest.param("RT-03", valid_hyperband(("r_l", "0.5"), ("eta", "2")), "value: '0.5'", value(1), id="03"),
        pytest.param("RT-04", valid_hyperband(("r_l", "2"), ("s_max", "abc")), "value: abc", value(2), id="04"),
    ],
)
def test_each_setting_rule_reports_at_its_setting(
    rule_id: str, data: dict[str, Any], line: str, at: tuple[str | int, ...], tmp_path: FilePath
) -> None:
    found, lines = located(data, tmp_path)
    [number] = [i + 1 for i, text in enumerate(lines) if text.strip() == line]
    dotted = ".".join(SETTINGS[:2]) + f".algorithmSettings[{at[3]}].value"
    assert found == [(rule_id, number, lines[number - 1].index(line.split()[1]) + 1, dotted)]


def test_the_grid_rule_reports_at_the_parameter_and_at_the_parameters(tmp_path: FilePath) -> None:
    found, lines = located(hp("grid", parameters=[ints("lr", 1000), ints("momentum", 10_001)]), tmp_path)
    number = lines.index("  parameters:") + 1
    assert found == [("RT-05", number, 3, "spec.parameters")]
    found, lines = located(hp("grid", parameters=[ints("lr", 10), ints("momentum", 10_000_001)]), tmp_path)
    number = next(i + 1 for i, text in enumerate(lines) if text.strip() == "- name: momentum")
    assert found == [("RT-05", number, 7, "spec.parameters[1]")]
