"""schemas/{experiment,trial,suggestion}.schema.json: Katib's v1beta1 objects, structure and JSON types only.

Katib's CRDs carry no field schema (G-01); its webhooks decode into typed Go
structs, failing on a wrong JSON type (G-03) and silently dropping unknown
fields (G-04). The schemas reproduce exactly that: strict objects, Katib's
types, free-form only where Katib is free-form. Admission rules (allowed
values, required fields, relations) are separate rules and must pass here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.expand import overlays
from katib_gitops.schema.manifests import kubernetes_versions, latest_kubernetes, validator
from katib_gitops.schema.ours import schema_dir
from katib_gitops.yamlio.documents import format_path, load_documents
from tests.validate.helpers import VALID, experiment

KATIB_SCHEMAS = ("experiment", "trial", "suggestion")
Mutation = Callable[[dict[str, Any]], None]


def errors(data: Any, name: str = "experiment", version: str | None = None) -> list[tuple[str, str]]:
    """(JSON path, failing keyword) of every schema error; an unknown field is reported at its own path."""
    found = []
    for error in validator(name, version or latest_kubernetes()).iter_errors(data):
        path = list(error.absolute_path)
        if (
            error.validator == "additionalProperties"
            and error.validator_value is False
            and isinstance(error.instance, dict)
        ):
            allowed = error.schema.get("properties", {})
            found.extend((format_path([*path, key]), "unknown field") for key in error.instance if key not in allowed)
        else:
            found.append((format_path(path), str(error.validator)))
    return sorted(found)


def _schema(name: str) -> dict[str, Any]:
    return json.loads((schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8"))


def _upstream_experiments(shared: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    examples = shared / "upstream" / "katib" / "examples"
    for file in sorted(examples.rglob("*.yaml")):
        for document in load_documents(file.read_text(encoding="utf-8"), str(file)):
            data = document.data
            if isinstance(data, dict) and data.get("kind") == "Experiment":
                yield f"{file.relative_to(examples)}#{document.index}", data


def _repository_experiments(specs_dir: Path) -> list[dict[str, Any]]:
    out = []
    for expansion in overlays.expand(planning.load(specs_dir)):
        out.append(expansion.base)
        out.extend(o.experiment for o in expansion.overlays)
    return out


# ----------------------------------------------------------- what Katib accepts


def test_every_upstream_example_experiment_validates(shared: Path) -> None:
    examples = dict(_upstream_experiments(shared))
    assert len(examples) == 33
    assert {name: errors(data) for name, data in examples.items() if errors(data)} == {}


def test_every_experiment_generated_from_the_repository_specs_validates(repo_specs: Path) -> None:
    experiments = _repository_experiments(repo_specs)
    assert experiments
    assert [errors(e) for e in experiments] == [[] for _ in experiments]


def test_the_helper_experiment_validates_with_every_bundled_kubernetes_version() -> None:
    data = experiment(
        metricsCollectorSpec={
            "source": {
                "httpGet": {"path": "/metrics", "port": "metrics", "scheme": "HTTP"},
                "filter": {"metricsFormat": ["(\\w+)=(\\S+)"]},
            },
            "collector": {
                "kind": "Custom",
                "customCollector": {"name": "collector", "image": "example/collector:1", "args": ["-x"]},
            },
        }
    )
    for version in kubernetes_versions():
        assert errors(data, version=version) == [], version


def test_every_documented_experiment_field_is_accepted() -> None:
    data = experiment(
        resumePolicy="FromVolume",
        earlyStopping={
            "algorithmName": "medianstop",
            "algorithmSettings": [{"name": "min_trials_required", "value": "2"}],
        },
        algorithm={"algorithmName": "tpe", "algorithmSettings": [{"name": "gamma", "value": "0.25"}]},
        metricsCollectorSpec={
            "source": {"fileSystemPath": {"path": "/out/m.json", "kind": "File", "format": "JSON"}},
            "collector": {"kind": "File"},
        },
    )
    spec = data["spec"]
    spec["objective"].update(
        goal=-3, metricStrategies=[{"name": "accuracy", "value": "max"}, {"name": "loss", "value": "latest"}]
    )
    spec["parameters"].append(
        {
            "name": "opt",
            "parameterType": "categorical",
            "feasibleSpace": {"list": ["sgd", "adam"], "distribution": "uniform"},
        }
    )
    spec["parameters"][0]["feasibleSpace"].update(step="0.01", distribution="logUniform")
    template = spec["trialTemplate"]
    template.update(
        retain=True, primaryPodLabels={"role": "main"}, successCondition="status.ok", failureCondition="status.bad"
    )
    data["status"] = {
        "trials": 3,
        "conditions": [{"type": "Running", "status": "True"}],
        "anything": {"goes": [1, "x", None]},
    }
    assert errors(data) == []

    configmap = experiment()
    del configmap["spec"]["trialTemplate"]["trialSpec"]
    configmap["spec"]["trialTemplate"]["configMap"] = {
        "configMapName": "t",
        "configMapNamespace": "kubeflow",
        "templatePath": "job.yaml",
    }
    assert errors(configmap) == []

    nas = experiment(
        parameters=None,
        nasConfig={
            "graphConfig": {"numLayers": 8, "inputSizes": [32, 32, 3], "outputSizes": [10]},
            "operations": [
                {
                    "operationType": "convolution",
                    "parameters": [
                        {"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": ["3", "5"]}},
                        {
                            "name": "num_filter",
                            "parameterType": "int",
                            "feasibleSpace": {"min": "16", "max": "64", "step": "16"},
                        },
                    ],
                }
            ],
        },
    )
    assert errors(nas) == []


def test_the_trial_spec_is_free_form() -> None:
    data = experiment()
    data["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "example.com/v1",
        "kind": "Anything",
        "spec": {"x": [1, {"y": None}], "retain": "not-a-bool"},
    }
    assert errors(data) == []
    data["spec"]["trialTemplate"]["trialSpec"] = ["not", "an", "object"]
    assert errors(data) == [("spec.trialTemplate.trialSpec", "type")]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: s["objective"].update(type="maximise"), id="objective-type-maximise"),
        pytest.param(lambda s: s.pop("objective"), id="objective-missing"),
        pytest.param(
            lambda s: s["objective"].update(objectiveMetricName="", additionalMetricNames=["", ""]),
            id="objective-metric-empty",
        ),
        pytest.param(
            lambda s: s["objective"].update(metricStrategies=[{"name": "nope", "value": "median"}]),
            id="metric-strategy-unknown",
        ),
        pytest.param(lambda s: s.pop("algorithm"), id="algorithm-missing"),
        pytest.param(
            lambda s: s["algorithm"].update(algorithmName="", algorithmSettings=[{"name": "bogus", "value": "-1"}]),
            id="algorithm-empty",
        ),
        pytest.param(
            lambda s: s.update(parallelTrialCount=0, maxTrialCount=-1, maxFailedTrialCount=99), id="counts-out-of-range"
        ),
        pytest.param(lambda s: s["parameters"][0].update(parameterType="float"), id="parameter-type-unknown"),
        pytest.param(
            lambda s: s["parameters"][0]["feasibleSpace"].update(min="abc", list=["1"], distribution="gaussian"),
            id="feasible-space-nonsense",
        ),
        pytest.param(lambda s: s.update(parameters=[], nasConfig={}), id="parameters-and-nas-config"),
        pytest.param(lambda s: s.update(resumePolicy="Sometimes"), id="resume-policy-unknown"),
        pytest.param(lambda s: s.pop("trialTemplate"), id="trial-template-missing"),
        pytest.param(
            lambda s: s["trialTemplate"].update(primaryContainerName="", trialParameters=[{"name": "{x}"}]),
            id="trial-parameters-bad",
        ),
        pytest.param(lambda s: s["trialTemplate"].update(configMap={}), id="trial-spec-and-config-map"),
        pytest.param(
            lambda s: s.update(
                metricsCollectorSpec={
                    "collector": {"kind": "None"},
                    "source": {"fileSystemPath": {"path": "rel", "kind": "Pipe"}},
                }
            ),
            id="collector-kind-legacy",
        ),
        pytest.param(
            lambda s: s.update(metricsCollectorSpec={"collector": {"kind": "Custom"}}), id="custom-collector-missing"
        ),
        pytest.param(lambda s: s.clear(), id="empty-spec"),
    ],
)
def test_admission_level_problems_pass_the_schema(change: Callable[[dict[str, Any]], Any]) -> None:
    data = experiment()
    change(data["spec"])
    assert errors(data) == []


def test_a_missing_spec_or_metadata_passes_the_schema() -> None:
    assert errors({"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment"}) == []


# ------------------------------------------------------- what Katib drops or rejects


def _rename(container: Callable[[dict[str, Any]], dict[str, Any]], old: str, new: str) -> Mutation:
    def change(data: dict[str, Any]) -> None:
        node = container(data)
        node[new] = node.pop(old)

    return change


def _set(container: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Mutation:
    def change(data: dict[str, Any]) -> None:
        container(data)[key] = value

    return change


def _custom_collector(data: dict[str, Any]) -> dict[str, Any]:
    data["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "Custom", "customCollector": {"name": "collector", "image": "example/collector:1"}}
    }
    return data["spec"]["metricsCollectorSpec"]["collector"]["customCollector"]


def _http_get(data: dict[str, Any]) -> dict[str, Any]:
    data["spec"]["metricsCollectorSpec"] = {
        "collector": {"kind": "PrometheusMetric"},
        "source": {"httpGet": {"path": "/metrics", "port": 8080}},
    }
    return data["spec"]["metricsCollectorSpec"]["source"]["httpGet"]


def _spec(data: dict[str, Any]) -> dict[str, Any]:
    return data["spec"]


def _objective(data: dict[str, Any]) -> dict[str, Any]:
    return data["spec"]["objective"]


def _space(data: dict[str, Any]) -> dict[str, Any]:
    return data["spec"]["parameters"][0]["feasibleSpace"]


def _template(data: dict[str, Any]) -> dict[str, Any]:
    return data["spec"]["trialTemplate"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # misspelled fields, silently dropped by Katib (G-04)
        pytest.param(
            _rename(_spec, "parallelTrialCount", "parallelTrialcount"),
            ("spec.parallelTrialcount", "unknown field"),
            id="spec",
        ),
        pytest.param(
            _rename(_objective, "objectiveMetricName", "objectiveMetricNam"),
            ("spec.objective.objectiveMetricNam", "unknown field"),
            id="objective",
        ),
        pytest.param(
            _rename(_space, "min", "mn"), ("spec.parameters[0].feasibleSpace.mn", "unknown field"), id="feasible-space"
        ),
        pytest.param(
            _rename(_template, "primaryContainerName", "primaryContainer"),
            ("spec.trialTemplate.primaryContainer", "unknown field"),
            id="trial-template",
        ),
        pytest.param(
            _rename(_custom_collector, "image", "imag"),
            ("spec.metricsCollectorSpec.collector.customCollector.imag", "unknown field"),
            id="custom-collector-container",
        ),
        pytest.param(
            _set(_http_get, "paths", "/m"),
            ("spec.metricsCollectorSpec.source.httpGet.paths", "unknown field"),
            id="http-get",
        ),
        pytest.param(
            _set(lambda d: d["metadata"], "label", {"a": "b"}), ("metadata.label", "unknown field"), id="metadata"
        ),
        pytest.param(_set(lambda d: d, "specs", {}), ("specs", "unknown field"), id="top-level"),
        pytest.param(
            _set(_spec, "earlyStopping", {"algorithm": "medianstop"}),
            ("spec.earlyStopping.algorithm", "unknown field"),
            id="early-stopping",
        ),
        pytest.param(
            _set(_spec, "nasConfig", {"graphConfig": {"numLayer": 3}}),
            ("spec.nasConfig.graphConfig.numLayer", "unknown field"),
            id="graph-config",
        ),
        pytest.param(
            _set(lambda d: d["spec"]["trialTemplate"]["trialParameters"][0], "ref", "lr"),
            ("spec.trialTemplate.trialParameters[0].ref", "unknown field"),
            id="trial-parameter",
        ),
        pytest.param(
            _set(_spec, "metricsCollectorSpec", {"source": {"fileSystemPath": {"path": "/m", "type": "File"}}}),
            ("spec.metricsCollectorSpec.source.fileSystemPath.type", "unknown field"),
            id="file-system-path",
        ),
        # JSON types Katib's decoder refuses (G-03)
        pytest.param(_set(_space, "min", 0.01), ("spec.parameters[0].feasibleSpace.min", "type"), id="unquoted-min"),
        pytest.param(_set(_space, "step", 1), ("spec.parameters[0].feasibleSpace.step", "type"), id="unquoted-step"),
        pytest.param(
            _set(_space, "list", ["a", 2]),
            ("spec.parameters[0].feasibleSpace.list[1]", "type"),
            id="unquoted-list-item",
        ),
        pytest.param(
            _set(lambda d: d["spec"]["parameters"][0], "parameterType", 1),
            ("spec.parameters[0].parameterType", "type"),
            id="parameter-type",
        ),
        pytest.param(_set(_spec, "maxTrialCount", "12"), ("spec.maxTrialCount", "type"), id="string-count"),
        pytest.param(
            _set(_spec, "parallelTrialCount", 2.5), ("spec.parallelTrialCount", "type"), id="fractional-count"
        ),
        pytest.param(
            _set(_spec, "maxFailedTrialCount", 2**31), ("spec.maxFailedTrialCount", "maximum"), id="count-beyond-int32"
        ),
        pytest.param(_set(_template, "retain", "true"), ("spec.trialTemplate.retain", "type"), id="string-retain"),
        pytest.param(_set(_objective, "goal", "0.99"), ("spec.objective.goal", "type"), id="string-goal"),
        pytest.param(
            _set(_spec, "algorithm", {"algorithmName": "tpe", "algorithmSettings": [{"name": "gamma", "value": 0.25}]}),
            ("spec.algorithm.algorithmSettings[0].value", "type"),
            id="setting-value",
        ),
        pytest.param(
            _set(_objective, "metricStrategies", [{"name": "accuracy", "value": None}]),
            ("spec.objective.metricStrategies[0].value", "type"),
            id="strategy-value",
        ),
        pytest.param(
            _set(lambda d: d["spec"]["trialTemplate"]["trialParameters"][1], "description", 5),
            ("spec.trialTemplate.trialParameters[1].description", "type"),
            id="trial-parameter-field",
        ),
        pytest.param(
            _set(_template, "primaryPodLabels", {"index": 0}),
            ("spec.trialTemplate.primaryPodLabels.index", "type"),
            id="pod-label-value",
        ),
        pytest.param(_set(_spec, "resumePolicy", True), ("spec.resumePolicy", "type"), id="resume-policy"),
        pytest.param(
            _set(_spec, "nasConfig", {"graphConfig": {"inputSizes": [32, "3"]}}),
            ("spec.nasConfig.graphConfig.inputSizes[1]", "type"),
            id="nas-size",
        ),
        pytest.param(
            _set(_objective, "additionalMetricNames", "loss"),
            ("spec.objective.additionalMetricNames", "type"),
            id="metric-names-not-a-list",
        ),
        pytest.param(_set(_spec, "parameters", {"lr": {}}), ("spec.parameters", "type"), id="parameters-not-a-list"),
        pytest.param(
            _set(lambda d: d, "apiVersion", "kubeflow.org/v1alpha3"), ("apiVersion", "const"), id="api-version"
        ),
    ],
)
def test_experiment_schema_errors(change: Mutation, expected: tuple[str, str]) -> None:
    data = experiment()
    change(data)
    assert errors(data) == [expected]


def test_the_kubernetes_container_definition_still_requires_a_name() -> None:
    data = experiment()
    del _custom_collector(data)["name"]
    assert errors(data) == [("spec.metricsCollectorSpec.collector.customCollector", "required")]


def test_http_get_is_the_kubernetes_definition_so_its_port_is_required() -> None:
    """Katib would default an absent port to 8080 (DEF-12); the Kubernetes definition asks for it to be written."""
    data = experiment()
    del _http_get(data)["port"]
    assert errors(data) == [("spec.metricsCollectorSpec.source.httpGet", "required")]


def test_null_is_not_accepted_for_katib_typed_fields() -> None:
    """Go would decode null as 'absent'; a manifest says what it means instead (canonical output, G-05)."""
    data = experiment()
    data["spec"]["objective"]["goal"] = None
    assert errors(data) == [("spec.objective.goal", "type")]


# ----------------------------------------------------------------- Trial and Suggestion

TRIAL: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Trial",
    "metadata": {
        "name": "random-example-x7k2p9qz",
        "namespace": "kubeflow",
        "labels": {"katib.kubeflow.org/experiment": "random-example"},
    },
    "spec": {
        "objective": copy.deepcopy(VALID["spec"]["objective"])
        | {"metricStrategies": [{"name": "accuracy", "value": "max"}, {"name": "loss", "value": "max"}]},
        "parameterAssignments": [{"name": "lr", "value": "0.0213"}, {"name": "momentum", "value": "0.71"}],
        "earlyStoppingRules": [{"name": "accuracy", "value": "0.6", "comparison": "less", "startStep": 4}],
        "runSpec": copy.deepcopy(VALID["spec"]["trialTemplate"]["trialSpec"]),
        "retainRun": True,
        "metricsCollector": {"collector": {"kind": "StdOut"}},
        "primaryPodLabels": {"training.kubeflow.org/job-role": "master"},
        "primaryContainerName": "training-container",
        "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
        "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
        "labels": {"suggestion": "random-example"},
    },
    "status": {"observation": {"metrics": [{"name": "accuracy", "min": "0.1", "max": "0.9", "latest": "0.9"}]}},
}

SUGGESTION: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Suggestion",
    "metadata": {"name": "random-example", "namespace": "kubeflow"},
    "spec": {
        "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "10"}]},
        "earlyStopping": {"algorithmName": "medianstop", "algorithmSettings": [{"name": "start_step", "value": "4"}]},
        "requests": 3,
        "resumePolicy": "Never",
    },
    "status": {
        "suggestionCount": 3,
        "suggestions": [{"name": "x", "parameterAssignments": [{"name": "lr", "value": "0.02"}]}],
    },
}


def test_trial_and_suggestion_examples_validate() -> None:
    assert errors(TRIAL, "trial") == []
    assert errors(SUGGESTION, "suggestion") == []


@pytest.mark.parametrize(
    ("spec_change", "expected"),
    [
        ({"parameterAssignments": [{"name": "lr", "value": 0.02}]}, ("spec.parameterAssignments[0].value", "type")),
        (
            {"parameterAssignments": [{"name": "lr", "val": "0.02"}]},
            ("spec.parameterAssignments[0].val", "unknown field"),
        ),
        (
            {"earlyStoppingRules": [{"name": "accuracy", "value": "0.6", "startStep": "4"}]},
            ("spec.earlyStoppingRules[0].startStep", "type"),
        ),
        ({"retainRun": "yes"}, ("spec.retainRun", "type")),
        ({"runSpec": "kind: Job"}, ("spec.runSpec", "type")),
        ({"labels": {"n": 1}}, ("spec.labels.n", "type")),
        (
            {"metricsCollector": {"collector": {"kind": "StdOut", "customCollector": {"name": "c", "imag": "x"}}}},
            ("spec.metricsCollector.collector.customCollector.imag", "unknown field"),
        ),
        ({"retain": True}, ("spec.retain", "unknown field")),
    ],
)
def test_trial_schema_errors(spec_change: dict[str, Any], expected: tuple[str, str]) -> None:
    data = copy.deepcopy(TRIAL)
    data["spec"].update(spec_change)
    assert errors(data, "trial") == [expected]


def test_the_trial_run_spec_is_free_form() -> None:
    data = copy.deepcopy(TRIAL)
    data["spec"]["runSpec"] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "spec": {"whatever": [1, None, {"x": True}]},
    }
    assert errors(data, "trial") == []


@pytest.mark.parametrize(
    ("spec_change", "expected"),
    [
        ({"requests": "3"}, ("spec.requests", "type")),
        ({"requests": 1.5}, ("spec.requests", "type")),
        ({"request": 3}, ("spec.request", "unknown field")),
        (
            {"algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": 10}]}},
            ("spec.algorithm.algorithmSettings[0].value", "type"),
        ),
        (
            {"earlyStopping": {"algorithmName": "medianstop", "settings": []}},
            ("spec.earlyStopping.settings", "unknown field"),
        ),
        ({"resumePolicy": 1}, ("spec.resumePolicy", "type")),
    ],
)
def test_suggestion_schema_errors(spec_change: dict[str, Any], expected: tuple[str, str]) -> None:
    data = copy.deepcopy(SUGGESTION)
    data["spec"].update(spec_change)
    assert errors(data, "suggestion") == [expected]


def test_trial_and_suggestion_accept_what_admission_would_judge() -> None:
    trial = copy.deepcopy(TRIAL)
    trial["spec"]["objective"]["type"] = "maximise"
    trial["spec"]["earlyStoppingRules"][0]["comparison"] = "around"
    suggestion = copy.deepcopy(SUGGESTION)
    suggestion["spec"].update(requests=-1, resumePolicy="Sometimes")
    assert errors(trial, "trial") == []
    assert errors(suggestion, "suggestion") == []


# ------------------------------------------------------------------ the schema files


@pytest.mark.parametrize("name", KATIB_SCHEMAS)
def test_schema_file_is_a_valid_draft_2020_12_schema_with_our_id(name: str) -> None:
    from jsonschema import Draft202012Validator

    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://katib-gitops.dev/schemas/{name}.schema.json"
    assert schema["properties"]["apiVersion"] == {
        "const": "kubeflow.org/v1beta1",
        "description": "Katib API group and version.",
    }


def _objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _objects(value, f"{path}/{index}")


@pytest.mark.parametrize("name", KATIB_SCHEMAS)
def test_every_object_is_strict_and_every_property_is_described(name: str) -> None:
    for path, node in _objects(_schema(name)):
        assert node.get("additionalProperties") is False, path
        undocumented = [key for key, value in node["properties"].items() if not value.get("description")]
        assert undocumented == [], path


@pytest.mark.parametrize("name", KATIB_SCHEMAS)
def test_only_status_and_the_workload_are_free_form(name: str) -> None:
    free = {
        path
        for path, node in _walk(_schema(name))
        if node.get("type") == "object" and "properties" not in node and "additionalProperties" not in node
    }
    expected = {
        "experiment": {"/properties/status", "/$defs/trialTemplate/properties/trialSpec"},
        "trial": {"/properties/status", "/properties/spec/properties/runSpec"},
        "suggestion": {"/properties/status"},
    }[name]
    assert free == expected


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}/{index}")


def test_definitions_shared_by_the_three_schemas_are_identical() -> None:
    seen: dict[str, tuple[str, Any]] = {}
    for name in KATIB_SCHEMAS:
        for key, value in _schema(name)["$defs"].items():
            first = seen.setdefault(key, (name, value))
            assert first[1] == value, f"$defs/{key} differs between {first[0]} and {name}"
    assert {"objectiveSpec", "algorithmSpec", "earlyStoppingSpec", "metricsCollectorSpec", "int32"} <= set(seen)


def test_every_local_reference_resolves() -> None:
    for name in KATIB_SCHEMAS:
        schema = _schema(name)
        refs = {node["$ref"] for _, node in _walk(schema) if isinstance(node.get("$ref"), str)}
        local = {r.removeprefix("#/$defs/") for r in refs if r.startswith("#/")}
        assert local <= set(schema["$defs"]), name
        assert set(schema["$defs"]) <= local, f"{name}: unused $defs"
        external = {r for r in refs if not r.startswith("#/")}
        assert all(r.startswith("https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.") for r in external), (
            external
        )
