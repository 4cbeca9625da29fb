"""ADMIT rules: each fires at its boundary, at the offending field, and not one step inside it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from katib_gitops.core.diagnostics import Severity
from katib_gitops.spec.katib_config import STANDALONE, KatibConfig
from tests.validate.helpers import VALID, experiment, findings, paths

TEMPLATE = VALID["spec"]["trialTemplate"]
SPEC = ("spec",)


def with_template(**changes: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    for key, value in changes.items():
        if value is None:
            template.pop(key, None)
        else:
            template[key] = value
    return experiment(trialTemplate=template)


def named(name: str) -> dict[str, Any]:
    data = experiment()
    data["metadata"]["name"] = name
    return data


def collector(**spec: Any) -> dict[str, Any]:
    return experiment(metricsCollectorSpec=spec)


def param(**space: Any) -> dict[str, Any]:
    kind = space.pop("parameterType", "double")
    return experiment(parameters=[{"name": "lr", "parameterType": kind, "feasibleSpace": space}])


def test_the_valid_experiment_passes_every_admission_rule() -> None:
    from katib_gitops.core import registry
    from katib_gitops.rules import framework

    framework.rules()
    admit = [r for r in registry.RULES.values() if r.level in ("ADMIT", "ADMIT-CFG")]
    assert len(admit) >= 45
    assert [r.id for r in admit if findings(r.id, VALID)] == []


CASES = [
    # (rule, failing document, path, passing document)
    ("NAME-01", named("1-bad"), ("metadata", "name"), named("a-good")),
    ("NAME-01", named("Upper"), ("metadata", "name"), named("lower-")),  # no end anchor upstream
    ("NAME-02", named("a" * 41), ("metadata", "name"), named("a" * 40)),
    (
        "COUNT-01",
        experiment(maxFailedTrialCount=-1),
        SPEC + ("maxFailedTrialCount",),
        experiment(maxFailedTrialCount=0),
    ),
    (
        "COUNT-02",
        experiment(maxTrialCount=0, parallelTrialCount=None),
        SPEC + ("maxTrialCount",),
        experiment(maxTrialCount=3),
    ),
    ("COUNT-03", experiment(parallelTrialCount=0), SPEC + ("parallelTrialCount",), experiment(parallelTrialCount=1)),
    (
        "COUNT-04",
        experiment(maxFailedTrialCount=13),
        SPEC + ("maxFailedTrialCount",),
        experiment(maxFailedTrialCount=12),
    ),
    ("COUNT-05", experiment(parallelTrialCount=13), SPEC + ("parallelTrialCount",), experiment(parallelTrialCount=12)),
    (
        "COUNT-05",
        experiment(maxTrialCount=2, parallelTrialCount=None, maxFailedTrialCount=None),
        SPEC + ("parallelTrialCount",),
        experiment(maxTrialCount=3, parallelTrialCount=None, maxFailedTrialCount=None),
    ),  # COUNT-06: default 3
    ("OBJ-01", experiment(objective=None), SPEC + ("objective",), experiment()),
    (
        "OBJ-02",
        experiment(objective={"type": "Maximize", "objectiveMetricName": "a"}),
        SPEC + ("objective", "type"),
        experiment(objective={"type": "maximize", "objectiveMetricName": "a"}),
    ),
    (
        "OBJ-03",
        experiment(objective={"type": "maximize", "objectiveMetricName": ""}),
        SPEC + ("objective", "objectiveMetricName"),
        experiment(objective={"type": "maximize", "objectiveMetricName": "a"}),
    ),
    (
        "OBJ-04",
        experiment(objective={"type": "maximize", "objectiveMetricName": "a", "additionalMetricNames": ["b", "a"]}),
        SPEC + ("objective", "additionalMetricNames", 1),
        experiment(objective={"type": "maximize", "objectiveMetricName": "a", "additionalMetricNames": ["b"]}),
    ),
    ("ALG-01", experiment(algorithm=None), SPEC + ("algorithm",), experiment()),
    ("ALG-02", experiment(algorithm={"algorithmName": ""}), SPEC + ("algorithm", "algorithmName"), experiment()),
    (
        "ALG-03",
        experiment(algorithm={"algorithmName": "Random"}),
        SPEC + ("algorithm", "algorithmName"),
        experiment(algorithm={"algorithmName": "random"}),
    ),
    (
        "ES-02",
        experiment(earlyStopping={"algorithmName": ""}),
        SPEC + ("earlyStopping", "algorithmName"),
        experiment(earlyStopping={"algorithmName": "medianstop"}),
    ),
    (
        "ES-03",
        experiment(earlyStopping={"algorithmName": "median"}),
        SPEC + ("earlyStopping", "algorithmName"),
        experiment(earlyStopping={"algorithmName": "medianstop"}),
    ),
    ("RP-01", experiment(resumePolicy="longRunning"), SPEC + ("resumePolicy",), experiment(resumePolicy="LongRunning")),
    (
        "PARAM-01",
        experiment(parameters=[]),
        SPEC,
        experiment(parameters=None, nasConfig={"graphConfig": {"numLayers": 1}}),
    ),
    ("PARAM-02", experiment(nasConfig={"graphConfig": {}}), SPEC + ("nasConfig",), experiment()),
    (
        "PARAM-03",
        param(parameterType="float", min="0", max="1"),
        SPEC + ("parameters", 0, "parameterType"),
        param(parameterType="double", min="0", max="1"),
    ),
    (
        "PARAM-04",
        param(min="0.1", max="1", distribution="loguniform"),
        SPEC + ("parameters", 0, "feasibleSpace", "distribution"),
        param(min="0.1", max="1", distribution="logUniform"),
    ),
    (
        "PARAM-07",
        param(min="0", max="1", list=["0.5"]),
        SPEC + ("parameters", 0, "feasibleSpace", "list"),
        param(min="0", max="1"),
    ),
    ("PARAM-08", param(min="0"), SPEC + ("parameters", 0, "feasibleSpace", "max"), param(min="0", max="1")),
    ("PARAM-08", param(max="1"), SPEC + ("parameters", 0, "feasibleSpace", "max"), param(min="0", max="1")),
    (
        "PARAM-09",
        param(parameterType="categorical", list=["a"], step="1"),
        SPEC + ("parameters", 0, "feasibleSpace", "step"),
        param(parameterType="categorical", list=["a"]),
    ),
    ("TT-01", experiment(trialTemplate=None), SPEC + ("trialTemplate",), experiment()),
    ("TT-02", with_template(primaryContainerName=""), SPEC + ("trialTemplate", "primaryContainerName"), experiment()),
    (
        "TT-03",
        with_template(trialSpec={**TEMPLATE["trialSpec"], "kind": "Workflow", "apiVersion": "argoproj.io/v1alpha1"}),
        SPEC + ("trialTemplate",),
        with_template(
            trialSpec={**TEMPLATE["trialSpec"], "kind": "Workflow", "apiVersion": "argoproj.io/v1alpha1"},
            successCondition="status.phase",
            failureCondition="status.phase",
        ),
    ),
    ("TT-04", with_template(trialParameters=[]), SPEC + ("trialTemplate", "trialParameters"), experiment()),
    (
        "TT-05",
        with_template(trialSpec=None),
        SPEC + ("trialTemplate",),
        with_template(
            trialSpec=None,
            successCondition="a",
            failureCondition="b",
            configMap={"configMapName": "t", "configMapNamespace": "k", "templatePath": "p"},
        ),
    ),
    (
        "TT-06",
        with_template(configMap={"configMapName": "t", "configMapNamespace": "k", "templatePath": "p"}),
        SPEC + ("trialTemplate", "configMap"),
        experiment(),
    ),
    (
        "TT-07",
        with_template(trialSpec=None, configMap={"configMapName": "t", "templatePath": "p"}),
        SPEC + ("trialTemplate", "configMap"),
        with_template(trialSpec=None, configMap={"configMapName": "t", "configMapNamespace": "k", "templatePath": "p"}),
    ),
    (
        "TT-10",
        with_template(trialParameters=[{"name": "learning{Rate}", "reference": "lr"}, TEMPLATE["trialParameters"][1]]),
        SPEC + ("trialTemplate", "trialParameters", 0),
        experiment(),
    ),
    (
        "TT-11",
        with_template(
            trialParameters=[TEMPLATE["trialParameters"][0], {"name": "learningRate", "reference": "momentum"}]
        ),
        SPEC + ("trialTemplate", "trialParameters", 1, "name"),
        experiment(),
    ),
    (
        "TT-12",
        with_template(trialParameters=[TEMPLATE["trialParameters"][0], {"name": "momentum", "reference": "lr"}]),
        SPEC + ("trialTemplate", "trialParameters", 1, "reference"),
        experiment(),
    ),
    (
        "TT-13",
        with_template(
            trialParameters=[{"name": "learningRate", "reference": "learning-rate"}, TEMPLATE["trialParameters"][1]]
        ),
        SPEC + ("trialTemplate", "trialParameters", 0, "reference"),
        with_template(
            trialParameters=[{"name": "learningRate", "reference": "${trialSpec.Name}"}, TEMPLATE["trialParameters"][1]]
        ),
    ),
    (
        "TT-15",
        with_template(
            trialParameters=[*TEMPLATE["trialParameters"], {"name": "unused", "reference": "${trialSpec.Name}"}]
        ),
        SPEC + ("trialTemplate", "trialParameters", 2, "name"),
        experiment(),
    ),
    (
        "TT-16",
        with_template(trialParameters=TEMPLATE["trialParameters"][:1]),
        SPEC + ("trialTemplate", "trialSpec"),
        experiment(),
    ),
    (
        "TT-18",
        with_template(trialSpec={**TEMPLATE["trialSpec"], "metadata": {"name": "x"}}),
        SPEC + ("trialTemplate", "trialSpec", "metadata", "name"),
        with_template(trialSpec={**TEMPLATE["trialSpec"], "metadata": {"labels": {"a": "b"}}}),
    ),
    (
        "TT-19",
        with_template(trialSpec={k: v for k, v in TEMPLATE["trialSpec"].items() if k != "kind"}),
        SPEC + ("trialTemplate", "trialSpec"),
        experiment(),
    ),
    (
        "MC-03",
        collector(collector={"kind": "None"}),
        SPEC + ("metricsCollectorSpec", "collector", "kind"),
        collector(collector={"kind": "Push"}),
    ),
    (
        "MC-02",
        collector(collector={"kind": "PrometheusMetric"}),
        SPEC + ("metricsCollectorSpec", "collector", "kind"),
        collector(collector={"kind": "File"}),
    ),
    (
        "MC-05",
        collector(collector={"kind": "File"}, source={"fileSystemPath": {"path": "metrics.log", "kind": "File"}}),
        SPEC + ("metricsCollectorSpec", "source", "fileSystemPath", "path"),
        collector(collector={"kind": "File"}, source={"fileSystemPath": {"path": "/m.log", "kind": "File"}}),
    ),
    (
        "MC-06",
        collector(
            collector={"kind": "File"}, source={"fileSystemPath": {"path": "/m.log", "kind": "File", "format": "YAML"}}
        ),
        SPEC + ("metricsCollectorSpec", "source", "fileSystemPath", "format"),
        collector(
            collector={"kind": "File"}, source={"fileSystemPath": {"path": "/m.log", "kind": "File", "format": "JSON"}}
        ),
    ),
    (
        "MC-07",
        collector(
            collector={"kind": "File"},
            source={"fileSystemPath": {"path": "/m.json", "kind": "File", "format": "JSON"}, "filter": {}},
        ),
        SPEC + ("metricsCollectorSpec", "source", "filter"),
        collector(
            collector={"kind": "File"}, source={"fileSystemPath": {"path": "/m.json", "kind": "File", "format": "JSON"}}
        ),
    ),
    (
        "MC-08",
        collector(collector={"kind": "TensorFlowEvent"}, source={"fileSystemPath": {"path": "/logs", "kind": "File"}}),
        SPEC + ("metricsCollectorSpec", "source"),
        collector(
            collector={"kind": "TensorFlowEvent"}, source={"fileSystemPath": {"path": "/logs", "kind": "Directory"}}
        ),
    ),
    (
        "MC-09",
        collector(
            collector={"kind": "TensorFlowEvent"},
            source={"fileSystemPath": {"path": "/logs", "kind": "Directory", "format": "TEXT"}},
        ),
        SPEC + ("metricsCollectorSpec", "source", "fileSystemPath", "format"),
        collector(collector={"kind": "TensorFlowEvent"}),
    ),
    (
        "MC-10",
        collector(collector={"kind": "PrometheusMetric"}, source={"httpGet": {"port": "http"}}),
        SPEC + ("metricsCollectorSpec", "source", "httpGet", "port"),
        collector(collector={"kind": "PrometheusMetric"}, source={"httpGet": {"port": "8080"}}),
    ),
    (
        "MC-11",
        collector(collector={"kind": "PrometheusMetric"}, source={"httpGet": {"port": 80, "path": "metrics"}}),
        SPEC + ("metricsCollectorSpec", "source", "httpGet", "path"),
        collector(collector={"kind": "PrometheusMetric"}, source={"httpGet": {"port": 80}}),
    ),
    (
        "MC-12",
        collector(collector={"kind": "Custom"}),
        SPEC + ("metricsCollectorSpec", "collector", "customCollector"),
        collector(collector={"kind": "Custom", "customCollector": {"name": "c", "image": "i"}}),
    ),
    (
        "MC-13",
        collector(
            collector={"kind": "Custom", "customCollector": {"name": "c"}},
            source={"fileSystemPath": {"path": "/x", "kind": "Socket"}},
        ),
        SPEC + ("metricsCollectorSpec", "source", "fileSystemPath"),
        collector(
            collector={"kind": "Custom", "customCollector": {"name": "c"}},
            source={"fileSystemPath": {"path": "/x", "kind": "Directory"}},
        ),
    ),
    (
        "MC-14",
        collector(collector={"kind": "File"}, source={"filter": {"metricsFormat": ["([a-z]+)=([0-9.]+"]}}),
        SPEC + ("metricsCollectorSpec", "source", "filter", "metricsFormat", 0),
        collector(collector={"kind": "File"}, source={"filter": {"metricsFormat": ["([a-z]+)=([0-9.]+)"]}}),
    ),
    (
        "MC-14",
        collector(collector={"kind": "File"}, source={"filter": {"metricsFormat": ["([a-z]+)=[0-9.]+"]}}),
        SPEC + ("metricsCollectorSpec", "source", "filter", "metricsFormat", 0),
        collector(collector={"kind": "StdOut"}, source={"filter": {"metricsFormat": ["([a-z]+)=[0-9.]+"]}}),
    ),  # not checked for StdOut (MC-04)
]


@pytest.mark.parametrize("rule_id, failing, path, passing", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_at_its_boundary(
    rule_id: str, failing: dict[str, Any], path: tuple[str | int, ...], passing: dict[str, Any]
) -> None:
    assert path in paths(rule_id, failing)
    assert paths(rule_id, passing) == []


def test_every_admission_rule_has_a_boundary_case() -> None:
    from katib_gitops.core import registry
    from katib_gitops.rules import framework

    framework.rules()
    covered = {c[0] for c in CASES} | {"TT-08", "TT-17"}  # they need the ConfigMaps: their own tests below
    admit = {r.id for r in registry.RULES.values() if r.level in ("ADMIT", "ADMIT-CFG")}
    assert admit - covered == set()


def test_version_dependent_rules_follow_the_katib_version() -> None:
    long_name = named("a" * 41)
    assert paths("NAME-02", long_name, version=(0, 17)) == []
    assert paths("MC-03", collector(collector={"kind": "None"}), version=(0, 17)) == []
    assert paths("MC-03", collector(collector={"kind": "Push"}), version=(0, 17)) != []
    assert paths("PARAM-08", param(min="0"), version=(0, 17)) == []  # before 0.18 only "both missing" failed


def test_the_katib_config_decides_which_algorithms_and_collectors_exist() -> None:
    custom = KatibConfig(
        {"my-search": "hyperopt"}, {}, ("StdOut", "PrometheusMetric"), STANDALONE.trial_resources, "test config"
    )
    assert paths("ALG-03", experiment(algorithm={"algorithmName": "my-search"}), config=custom) == []
    assert paths("ALG-03", experiment(), config=custom) == [SPEC + ("algorithm", "algorithmName")]
    assert paths("MC-02", collector(collector={"kind": "PrometheusMetric"}), config=custom) == []
    assert paths("ES-03", experiment(earlyStopping={"algorithmName": "medianstop"}), config=custom) == [
        SPEC + ("earlyStopping", "algorithmName")
    ]


def test_tt_08_a_configmap_template_must_exist_among_the_given_configmaps() -> None:
    from katib_gitops.core import registry
    from katib_gitops.rules import framework
    from katib_gitops.rules.framework import context_for

    framework.rules()
    data = experiment()
    data["spec"]["trialTemplate"].pop("trialSpec")
    data["spec"]["trialTemplate"]["configMap"] = {
        "configMapName": "templates",
        "configMapNamespace": "kubeflow",
        "templatePath": "job.yaml",
    }

    def found(templates: dict[tuple[str, str, str], str]) -> list[tuple[str | int, ...]]:
        checked = registry.RULES["TT-08"].check(context_for(data, trial_templates=templates))
        return [f.path for f in checked if f.severity is not Severity.NOTE]

    assert found({}) == []  # no ConfigMaps given: unknowable (ADMIT-CFG), only a note (tests/validate/test_notes.py)
    assert found({("kubeflow", "templates", "other.yaml"): "x"}) == [SPEC + ("trialTemplate", "configMap")]
    assert found({("kubeflow", "templates", "job.yaml"): "x"}) == []
    assert found({("", "templates", "job.yaml"): "x"}) == []  # a ConfigMap without a namespace is applied into one


@pytest.mark.parametrize(
    "text, problem",
    [
        (
            "apiVersion: batch/v1\nkind: Job\n"
            "spec: {template: {spec: {containers: [{name: c, args: [${trialParameters.lr}]}]}}}\n",
            None,
        ),
        ("kind: Job\nspec: [unclosed\n", "line 3"),
        ("- a list\n", "it is a list"),
        ("# only a comment\n", "it is empty"),
    ],
)
def test_tt_17_a_configmap_template_reads_as_an_object(text: str, problem: str | None) -> None:
    from katib_gitops.core import registry
    from katib_gitops.rules import framework
    from katib_gitops.rules.framework import context_for

    framework.rules()
    data = experiment()
    data["spec"]["trialTemplate"].pop("trialSpec")
    data["spec"]["trialTemplate"]["configMap"] = {
        "configMapName": "templates",
        "configMapNamespace": "kubeflow",
        "templatePath": "job.yaml",
    }
    context = context_for(data, trial_templates={("kubeflow", "templates", "job.yaml"): text})
    found = [(f.path, f.message) for f in registry.RULES["TT-17"].check(context)]
    if problem is None:
        assert found == []
    else:
        assert [p for p, _ in found] == [SPEC + ("trialTemplate", "configMap")] and problem in found[0][1]
