"""ADVISORY rules: each warns at its boundary, at the offending field.

Each defers to the rule that owns a harder consequence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from katib_gitops.core.diagnostics import Severity
from katib_gitops.core.registry import RULES, Finding
from katib_gitops.rules import advisory, runtime  # importing them registers their rules
from katib_gitops.rules.advisory import gjson_problem, re2_problems
from katib_gitops.rules.framework import context_for
from katib_gitops.spec.katib_config import STANDALONE
from tests.validate.helpers import VALID, experiment, findings, paths
from tests.validate.test_runtime import repository_experiments

ADVISORY = (
    "NAME-03",
    "OBJ-06",
    "OBJ-08",
    "PBT-07",
    "ES-09",
    "PARAM-11",
    "PARAM-12",
    "PARAM-13",
    "PARAM-14",
    "PARAM-15",
    "PARAM-16",
    "PARAM-17",
    "PARAM-18",
    "PARAM-19",
    "PARAM-20",
    "NAS-02",
    "TT-R7",
    "MC-15",
    "UPD-05",
)
TEMPLATE = VALID["spec"]["trialTemplate"]
OBJECTIVE = ("spec", "objective")
COLLECTOR = ("spec", "metricsCollectorSpec")


def space(index: int, *rest: str | int) -> tuple[str | int, ...]:
    return ("spec", "parameters", index, "feasibleSpace", *rest)


def named(name: str, algorithm: str = "random") -> dict[str, Any]:
    data = experiment(algorithm={"algorithmName": algorithm})
    data["metadata"]["name"] = name
    return data


def param(algorithm: str = "random", kind: str = "double", **feasible: Any) -> dict[str, Any]:
    """VALID with its first parameter replaced, run by `algorithm`."""
    data = experiment(algorithm={"algorithmName": algorithm})
    data["spec"]["parameters"][0] = {"name": "lr", "parameterType": kind, "feasibleSpace": feasible}
    return data


def objective(**changes: Any) -> dict[str, Any]:
    return experiment(objective={**VALID["spec"]["objective"], **changes})


def collector(kind: str, *formats: str, **source: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"collector": {"kind": kind}}
    if formats:
        source["filter"] = {"metricsFormat": list(formats)}
    if source:
        spec["source"] = source
    return experiment(metricsCollectorSpec=spec)


def message(rule_id: str, data: dict[str, Any], **kwargs: Any) -> tuple[tuple[str | int, ...], str]:
    (found,) = findings(rule_id, data, **kwargs)
    return found


def test_the_valid_experiment_passes_every_advisory_rule() -> None:
    assert {r: findings(r, VALID) for r in ADVISORY} == {r: [] for r in ADVISORY}
    assert all(RULES[r].level == "ADVISORY" and RULES[r].severity is Severity.WARNING for r in ADVISORY)


# --------------------------------------------------------------- NAME-03, OBJ-06, OBJ-08


def test_name_03_a_dns_label() -> None:
    path, text = message("NAME-03", named("a_b"))
    assert path == ("metadata", "name") and "lower-case letters, digits and '-'" in text
    assert findings("NAME-03", named("ab-")) != [] and findings("NAME-03", named("a-b")) == []
    assert findings("NAME-03", named("1ab")) == []  # NAME-01's


def test_name_03_length_before_0_18_and_suggestion_names() -> None:
    assert paths("NAME-03", named("a" * 41), version=(0, 17)) == [("metadata", "name")]
    assert findings("NAME-03", named("a" * 41)) == []  # NAME-02's from 0.18 on
    assert "longer than 63" in message("NAME-03", named("a" * 40, "b" * 23))[1]
    assert findings("NAME-03", named("a" * 40, "b" * 22)) == []


def test_obj_06_metric_strategies() -> None:
    path, text = message("OBJ-06", objective(metricStrategies=[{"name": "accuracy", "value": "best"}]))
    assert path == OBJECTIVE + ("metricStrategies", 0, "value") and "not min, max or latest" in text
    assert findings("OBJ-06", objective(metricStrategies=[{"name": "accuracy", "value": "latest"}])) == []
    path, text = message("OBJ-06", objective(metricStrategies=[{"name": "f1", "value": "max"}]))
    assert (
        path == OBJECTIVE + ("metricStrategies", 0, "name") and "neither the objective nor an additional metric" in text
    )
    twice = [{"name": "loss", "value": "min"}, {"name": "loss", "value": "max"}]
    assert message("OBJ-06", objective(metricStrategies=twice)) == (
        OBJECTIVE + ("metricStrategies", 1, "name"),
        "second metric strategy for 'loss'",
    )


def test_obj_08_metric_names_for_the_default_filter() -> None:
    path, text = message("OBJ-08", objective(objectiveMetricName="val/acc"))
    assert path == OBJECTIVE + ("objectiveMetricName",) and "cannot be read by the default filter" in text
    assert findings("OBJ-08", objective(objectiveMetricName="Val-acc|top_1")) == []
    custom = objective(objectiveMetricName="val/acc")
    custom["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "StdOut"},
        "source": {"filter": {"metricsFormat": ["([\\w/]+)=(\\d+)"]}},
    }
    assert findings("OBJ-08", custom) == []
    tfevent = objective(additionalMetricNames=["loss;x"])
    tfevent["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "TensorFlowEvent"}}
    assert message("OBJ-08", tfevent) == (
        OBJECTIVE + ("additionalMetricNames", 0),
        "metric name 'loss;x' contains ';', which separates metric names for the collector sidecar",
    )
    tfevent["spec"]["objective"]["additionalMetricNames"] = ["val/loss"]
    assert findings("OBJ-08", tfevent) == []


# --------------------------------------------------------------- PBT-07, ES-09


def pbt(resume: str, trial_dir: str = "/var/log/katib/checkpoints/") -> dict[str, Any]:
    settings = [
        {"name": "suggestion_trial_dir", "value": trial_dir},
        {"name": "n_population", "value": "5"},
        {"name": "truncation_threshold", "value": "0.2"},
    ]
    return experiment(algorithm={"algorithmName": "pbt", "algorithmSettings": settings}, resumePolicy=resume)


def test_pbt_07_from_volume() -> None:
    path, text = message("PBT-07", pbt("LongRunning"))
    assert path == ("spec", "resumePolicy") and "only created with FromVolume" in text
    assert findings("PBT-07", pbt("FromVolume")) == []
    assert paths("PBT-07", pbt("FromVolume", " ")) == [("spec", "algorithm", "algorithmSettings", 0, "value")]
    assert findings("PBT-07", experiment(resumePolicy="Never")) == []  # not pbt


def test_es_09_early_stopping_needs_a_file_based_collector() -> None:
    def stopped(kind: str) -> dict[str, Any]:
        data = collector(kind)
        data["spec"]["earlyStopping"] = {"algorithmName": "medianstop"}
        return data

    path, text = message("ES-09", stopped("TensorFlowEvent"))
    assert path == ("spec", "earlyStopping") and "TensorFlowEvent collector: trials are never stopped early" in text
    assert findings("ES-09", stopped("StdOut")) == [] and findings("ES-09", stopped("File")) == []
    assert paths("ES-09", stopped("Push")) == [("spec", "earlyStopping")]
    assert findings("ES-09", collector("Push")) == []


# --------------------------------------------------------------- PARAM-11..20


def test_param_11_names_set_and_unique() -> None:
    data = experiment()
    data["spec"]["parameters"][1]["name"] = "lr"
    assert message("PARAM-11", data) == (("spec", "parameters", 1, "name"), "parameter name 'lr' is duplicated")
    data["spec"]["parameters"][1]["name"] = ""
    assert message("PARAM-11", data)[1] == "parameter name is empty"
    assert findings("PARAM-11", VALID) == []


@pytest.mark.parametrize(
    ("value", "bad"), [("1.0", True), ("1_000", True), (" 1", True), ("1e3", True), ("+3", False), ("-12", False)]
)
def test_param_12_int_literals(value: str, bad: bool) -> None:
    data = param(kind="int", min=value, max="20")
    assert findings("PARAM-12", data) == (
        [(space(0, "min"), f"int min {value!r} is not a base-10 integer literal (digits, optional sign)")]
        if bad
        else []
    )


@pytest.mark.parametrize(
    ("value", "bad"),
    [("inf", True), ("nan", True), ("0x1p3", True), ("1_0", True), ("1e3", False), (".5", False), ("-2.", False)],
)
def test_param_13_double_literals(value: str, bad: bool) -> None:
    data = param(min="0.1", max=value)
    assert paths("PARAM-13", data) == ([space(0, "max")] if bad else [])


def test_param_14_min_not_above_max() -> None:
    assert message("PARAM-14", param(min="0.06", max="0.05")) == (space(0, "min"), "min 0.06 is greater than max 0.05")
    assert findings("PARAM-14", param(min="0.05", max="0.05")) == []  # equal: hyperband's upstream example
    assert findings("PARAM-14", param("bayesianoptimization", min="0.06", max="0.05")) == []  # SK-09's runtime error


def test_param_15_step_positive() -> None:
    assert message("PARAM-15", param(min="0.1", max="0.5", step="0")) == (
        space(0, "step"),
        "step 0 must be greater than 0",
    )
    assert findings("PARAM-15", param(min="0.1", max="0.5", step="0.01")) == []
    assert paths("PARAM-15", param(kind="int", min="1", max="5", step="-1")) == [space(0, "step")]
    assert findings("PARAM-15", param("grid", min="0.1", max="0.5", step="0")) == []  # OP-05's
    assert findings("PARAM-15", param("pbt", min="0.1", max="0.5", step="0.0")) == []  # PBT-06's
    assert paths("PARAM-15", param("pbt", min="0.1", max="0.5", step="-0.1")) == [space(0, "step")]


def test_param_16_lists() -> None:
    path, text = message("PARAM-16", param(kind="categorical", list=[]))
    assert path == space(0, "list") and "has no list values" in text
    assert findings("PARAM-16", param(kind="categorical", list=["sgd"])) == []
    assert message("PARAM-16", param(kind="categorical", list=["sgd", "sgd"])) == (
        space(0, "list", 1),
        "list item 'sgd' is duplicated",
    )
    assert message("PARAM-16", param(kind="discrete", list=["1", "x"])) == (
        space(0, "list", 1),
        "discrete list item 'x' is not a number",
    )
    assert findings("PARAM-16", param(kind="discrete", list=["1", "2.5"])) == []
    assert findings("PARAM-16", param("hyperband", kind="discrete", list=[])) == []  # HB-07's
    assert paths("PARAM-16", param("hyperband", kind="discrete", list=["1", "x", "1"])) == [space(0, "list", 2)]


def test_param_17_log_bounds_positive() -> None:
    path, text = message("PARAM-17", param("multivariate-tpe", min="0", max="0.5", distribution="logUniform"))
    assert path == space(0, "min") and text == "logUniform needs min > 0, not 0 (optuna raises it to 1e-10)"
    assert findings("PARAM-17", param("multivariate-tpe", min="0.001", max="0.5", distribution="logUniform")) == []
    assert findings("PARAM-17", param("random", min="0", max="0.5", distribution="logUniform")) == []  # HO-09's
    assert (
        findings("PARAM-17", param("multivariate-tpe", min="0", max="0.5", distribution="logNormal")) == []
    )  # OP-06's
    custom = STANDALONE._replace(suggestions={**STANDALONE.suggestions, "mine": ""})
    assert paths("PARAM-17", param("mine", min="0.1", max="-1", distribution="logNormal"), config=custom) == [
        space(0, "max")
    ]


def test_param_18_distributions_by_service() -> None:
    path, text = message("PARAM-18", param("cmaes", min="0.1", max="0.5", distribution="logUniform"))
    assert (
        path == space(0, "distribution")
        and text == "cmaes (goptuna) ignores distribution logUniform: it samples uniformly"
    )
    assert findings("PARAM-18", param("cmaes", min="0.1", max="0.5", distribution="uniform")) == []
    assert findings("PARAM-18", param("multivariate-tpe", min="0.1", max="0.5", distribution="normal")) == []  # OP-06's
    assert findings("PARAM-18", param("tpe", min="0.1", max="0.5", distribution="normal")) == []
    skopt = param("bayesianoptimization", min="0.1", max="0.5", distribution="uniform")
    skopt["spec"]["parameters"][1] = {
        "name": "momentum",
        "parameterType": "int",
        "feasibleSpace": {"min": "1", "max": "5", "distribution": "uniform"},
    }
    path, text = message("PARAM-18", skopt)
    assert path == space(0, "distribution") and "samples double parameters log-uniformly" in text
    skopt["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "logUniform"
    assert findings("PARAM-18", skopt) == []
    skopt["spec"]["parameters"][1]["feasibleSpace"]["distribution"] = "logUniform"
    assert "samples int parameters uniformly" in message("PARAM-18", skopt)[1]
    assert paths("PARAM-18", param("hyperband", min="0.1", max="0.5", step="0.1")) == [space(0, "step")]
    assert paths("PARAM-18", param("grid", min="0.1", max="0.5", step="0.1", distribution="logUniform")) == [
        space(0, "step")
    ]
    assert findings("PARAM-18", param("grid", min="0.1", max="0.5", step="0.1", distribution="uniform")) == []
    assert paths("PARAM-18", param("pbt", kind="categorical", list=["a"], distribution="normal")) == [
        space(0, "distribution")
    ]


def test_param_19_nothing_unknown() -> None:
    assert message("PARAM-19", param(kind="unknown")) == (
        ("spec", "parameters", 0, "parameterType"),
        "parameterType 'unknown' is not supported by any suggestion service",
    )
    assert paths("PARAM-19", param(min="0.1", max="0.5", distribution="unknown")) == [space(0, "distribution")]
    assert findings("PARAM-19", param(min="0.1", max="0.5", distribution="uniform")) == []


def test_param_20_a_parameter_referenced_twice_and_not_its_absence() -> None:
    data = experiment()
    data["spec"]["trialTemplate"]["trialParameters"].append({"name": "lr2", "reference": "lr"})
    path, text = message("PARAM-20", data)
    assert path == ("spec", "parameters", 0, "name") and "referenced by 2 trialParameters (learningRate, lr2)" in text
    assert findings("PARAM-20", VALID) == []
    unreferenced = experiment()
    unreferenced["spec"]["trialTemplate"]["trialParameters"].pop()
    assert findings("PARAM-20", unreferenced) == [] and paths("TT-R1", unreferenced) == [
        ("spec", "parameters", 1, "name")
    ]


# --------------------------------------------------------------- NAS-02


def test_nas_02_search_space_matches_the_algorithm() -> None:
    path, text = message("NAS-02", experiment(algorithm={"algorithmName": "enas"}))
    assert path == ("spec", "parameters") and "enas is a NAS algorithm" in text
    nas = {"graphConfig": {"numLayers": 1, "inputSizes": [32], "outputSizes": [10]}}
    assert message("NAS-02", experiment(parameters=None, nasConfig=nas))[0] == ("spec", "nasConfig")
    assert findings("NAS-02", experiment(parameters=None, nasConfig=nas, algorithm={"algorithmName": "darts"})) == []
    assert findings("NAS-02", experiment(nasConfig=nas)) == []  # both: PARAM-02's


# --------------------------------------------------------------- TT-R7


def conditions(success: str) -> dict[str, Any]:
    return experiment(trialTemplate={**TEMPLATE, "successCondition": success})


def test_tt_r7_plausible_gjson() -> None:
    path, text = message("TT-R7", conditions('status.conditions.#(type=="Complete"#|#(status=="True")#'))
    assert path == ("spec", "trialTemplate", "successCondition") and "not a plausible GJSON path: unclosed ')'" in text
    assert findings("TT-R7", conditions('status.conditions.#(type=="Complete")#|#(status=="True")#')) == []
    assert findings("TT-R7", conditions('status.[@this].#(phase=="Succeeded")#')) == []
    assert findings("TT-R7", conditions("")) == []  # TT-03's


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (" ", "it is blank"),
        ('status.#(type=="Complete)#', "unterminated string"),
        ("status.conditions.(type)", "'(' outside a #(...) query"),
        ("status.#()#", "empty #() query"),
        ("status.[a,b", "unclosed ']'"),
        ("status.a]", "unbalanced ']'"),
        ('status.#(name=="a)b")#', None),
        ('friends.#(nets.#(=="fb"))#.first', None),
    ],
)
def test_gjson_plausibility(expression: str, problem: str | None) -> None:
    assert gjson_problem(expression) == problem


# --------------------------------------------------------------- MC-15


def test_mc_15_filters_in_re2_semantics() -> None:
    path, text = message("MC-15", collector("File", r"(?<=x)(\w+)=(\d+)"))
    assert (
        path == COLLECTOR + ("source", "filter", "metricsFormat", 0) and "is not valid RE2: lookbehind '(?<='" in text
    )
    assert findings("MC-15", collector("File", r"(\w+)=(\d+)")) == []
    assert (
        findings(
            "MC-15",
            collector("File", r"(\w+)=(\1)", fileSystemPath={"kind": "File", "path": "/m.json", "format": "JSON"}),
        )
        == []
    )  # MC-07's


def test_mc_15_checks_stdout_filters_katib_does_not() -> None:
    assert (
        message("MC-15", collector("StdOut", r"(\w+)=\d+"))[1]
        == "two top subexpressions are required: metric name, then value"
    )
    assert "invalid filter" in message("MC-15", collector("StdOut", r"(\w+=(\d+)"))[1]
    assert "backreference '\\1'" in message("MC-15", collector("StdOut", r"(\w+)=(\1)"))[1]
    assert findings("MC-15", collector("StdOut", r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)")) == []


@pytest.mark.parametrize(
    ("pattern", "problems"),
    [
        (r"(?=a)(b)", ["lookahead '(?='"]),
        (r"(?!a)(b)", ["negative lookahead '(?!'"]),
        (r"(?<!a)(b)", ["negative lookbehind '(?<!'"]),
        (r"(?>a)(b)", ["atomic group '(?>'"]),
        (r"(\w++)=(\d+)", ["possessive quantifier '++'"]),
        (r"(a{2}+)(b)", ["possessive quantifier '}+'"]),
        (r"(a{1001})(b)", ["repeat count above 1000 '{1001}'"]),
        (r"(?x)(a) (b)", ["flag group '(?x' (RE2 knows only i, m, s, U)"]),
        (r"(a)(b)\Z", ["\\Z (RE2 spells it \\z)"]),
        (r"(?P<name>a)(?P=name)", ["named backreference '(?P='"]),
        (r"(?i)(?P<name>[\w|-]+)\s*=\s*([+-]?\d+)", []),
        (r"([(?=\1])(a}+)", []),  # inside a class, and a literal '}' repeated
        (r"(a*?)(b+?)", []),
    ],
)
def test_re2_problems(pattern: str, problems: list[str]) -> None:
    assert re2_problems(pattern) == problems


# --------------------------------------------------------------- whole Experiments


def test_generated_experiments_have_no_advisory_finding(repo_specs: Path) -> None:
    experiments = repository_experiments(repo_specs)
    assert experiments
    found: list[tuple[str, Finding]] = []
    for data in experiments:
        context = context_for(data)
        found.extend((r, f) for r in ADVISORY for f in RULES[r].check(context))
    assert found == []


def test_every_advisory_rule_is_registered_once() -> None:
    mine = sorted(r.id for r in RULES.values() if r.module == advisory.__name__)
    assert mine == sorted(ADVISORY)
    assert RULES["TT-R1"].check.__module__ == runtime.__name__  # PARAM-20 defers to it


def test_param_18_ignores_a_distribution_katib_filled_in() -> None:
    from tests.validate.helpers import experiment, paths

    data = experiment(algorithm={"algorithmName": "bayesianoptimization"})
    assert paths("PARAM-18", data) == []
    data["spec"]["parameters"][0]["feasibleSpace"]["distribution"] = "uniform"
    assert paths("PARAM-18", data) == [("spec", "parameters", 0, "feasibleSpace", "distribution")]


def test_a_wrongly_typed_metric_strategy_is_g03s_finding_not_a_crash(tmp_path) -> None:
    import io

    from katib_gitops.rules import validator
    from katib_gitops.yamlio.writer import dump
    from tests.validate.helpers import experiment

    data = experiment()
    data["spec"]["objective"]["metricStrategies"] = [{"name": ["a"], "value": "max"}]
    (tmp_path / "e.yaml").write_text(dump(data))
    outcome = validator.validate(validator.Options((str(tmp_path / "e.yaml"),)), io.StringIO())
    assert {d.rule_id for d in outcome.diagnostics} == {"G-03"}


# --------------------------------------------------------------- UPD-05: against the deployed Experiment


def deployed_change(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str | int, ...]]:
    from katib_gitops.core.defaults import apply_katib_defaults
    from katib_gitops.rules.framework import Previous

    context = context_for(new, previous=Previous(apply_katib_defaults(old), "deployed.yaml:1"))
    return [f.path for f in RULES["UPD-05"].check(context)]


def test_upd_05_lets_the_three_counts_change_and_nothing_else() -> None:
    counts = experiment(parallelTrialCount=1, maxTrialCount=50, maxFailedTrialCount=9)
    assert deployed_change(VALID, counts) == []
    assert deployed_change(VALID, VALID) == []
    moved = param(min="0.02", max="0.05")
    assert deployed_change(VALID, moved) == [space(0, "min")]


def test_upd_05_compares_lists_in_order_and_sees_added_and_removed_fields() -> None:
    swapped = experiment()
    swapped["spec"]["parameters"] = [*VALID["spec"]["parameters"]][::-1]  # lr, momentum -> momentum, lr
    assert deployed_change(VALID, swapped) == [("spec", "parameters", 0, "name")]
    added = experiment(resumePolicy="FromVolume")
    assert deployed_change(VALID, added) == [("spec", "resumePolicy")]
    assert deployed_change(added, VALID) == [("spec", "resumePolicy")]


def test_upd_05_only_runs_with_a_deployed_experiment() -> None:
    assert findings("UPD-05", param(min="0.02", max="0.05")) == []
