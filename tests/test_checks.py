"""Spec checks: each rule fires on its defect, at the offending node, and passes the good spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import command, planning
from katib_gitops.core import registry
from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.rules import portability, spec_checks
from tests.helpers import SPEC, TARGETS, spec, write_specs

TRIAL = SPEC["spec"]["trial"]


def problems(tmp_path: Path, data: dict[str, Any], targets: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    try:
        planning.load(write_specs(tmp_path, data, targets=targets))
    except FindingsError as exc:
        return [(d.rule_id, d.path, d.message) for d in exc.diagnostics]
    return []


def test_the_good_spec_passes(tmp_path: Path) -> None:
    assert problems(tmp_path, SPEC) == []


@pytest.mark.parametrize(
    "data, rule_id, path",
    [
        (
            spec(objective={"type": "maximize", "metric": "acc", "additionalMetrics": ["acc"]}),
            "TS-OBJ-METRICS",
            "spec.objective.additionalMetrics[0]",
        ),
        (
            spec(objective={"type": "maximize", "metric": "acc", "strategies": {"loss": "min"}}),
            "TS-OBJ-METRICS",
            "spec.objective.strategies.loss",
        ),
        (spec(algorithm={"name": "bayesian"}), "TS-ALGORITHM", "spec.algorithm.name"),
        (spec(earlyStopping={"name": "median"}), "TS-ALGORITHM", "spec.earlyStopping.name"),
        (spec(budget={"maxTrials": 2}), "TS-BUDGET", "spec.budget.maxTrials"),
        (
            spec(budget={"maxTrials": 5, "parallelTrials": 1, "maxFailedTrials": 6}),
            "TS-BUDGET",
            "spec.budget.maxFailedTrials",
        ),
        (
            spec(
                parameters=[
                    {"name": "lr", "type": "double", "min": 0, "max": 1},
                    {"name": "lr", "type": "int", "min": 0, "max": 1},
                ]
            ),
            "TS-PARAM-UNIQUE",
            "spec.parameters[1].name",
        ),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": 1, "max": 0.5}]),
            "TS-PARAM-RANGE",
            "spec.parameters[0].min",
        ),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": 0, "max": 1, "distribution": "logUniform"}]),
            "TS-PARAM-RANGE",
            "spec.parameters[0].min",
        ),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": "0.5", "max": "0.10"}]),
            "TS-PARAM-RANGE",
            "spec.parameters[0].min",
        ),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": "0", "max": "1", "step": "0.0"}]),
            "TS-PARAM-RANGE",
            "spec.parameters[0].step",
        ),
        (spec(objective={"type": "maximize", "metric": "valid_1 auc"}), "TS-OBJ-METRICS", "spec.objective.metric"),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": 0, "max": 1, "pass": "placeholder"}]),
            "TS-PARAM-PASS",
            "spec.parameters[0].pass",
        ),
        (spec(trial={**TRIAL, "replicas": {"Chief": 1}}), "TS-TRIAL-ROLES", "spec.trial.replicas.Chief"),
        (spec(trial={"kind": "TrainJob", "image": "x"}), "TS-TRIAL-KIND", "spec.trial"),
        (
            spec(
                trial={
                    "trialSpec": {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "metadata": {"name": "x"},
                        "spec": {"template": {"spec": {"containers": [{"name": "training", "image": "x"}]}}},
                    }
                }
            ),
            "TS-TRIAL-KIND",
            "spec.trial.trialSpec.metadata.name",
        ),
        (
            spec(
                trial={
                    "trialSpec": {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "x"}]}}},
                    }
                }
            ),
            "TS-TRIAL-CONTAINER",
            "spec.trial.trialSpec.spec.template.spec",
        ),
        (spec(trial={**TRIAL, "metricsCollector": {"kind": "Custom"}}), "TS-COLLECTOR", "spec.trial.metricsCollector"),
        (
            spec(trial={**TRIAL, "metricsCollector": {"kind": "StdOut", "filter": ["no groups"]}}),
            "TS-COLLECTOR",
            "spec.trial.metricsCollector.filter[0]",
        ),
        (spec(targets={"namespaces": ["team-z"], "profiles": ["gpu"]}), "TS-TARGETS", "spec.targets.namespaces[0]"),
        (
            spec(
                trial={
                    "trialSpec": {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "spec": {"template": {"spec": {"containers": [{"name": "training", "image": "x"}]}}},
                    },
                    "env": {"A": "1"},
                }
            ),
            "TS-TRIAL-FIELDS",
            "spec.trial.env",
        ),
        (
            spec(trial={"kind": "TrainJob", "image": "x", "runtime": "torch", "volumes": []}),
            "TS-TRIAL-FIELDS",
            "spec.trial.volumes",
        ),
        (
            spec(
                trial={
                    "kind": "TrainJob",
                    "image": "x",
                    "runtime": "torch",
                    "replicas": {"node": {"replicas": 2, "image": "y"}},
                }
            ),
            "TS-TRIAL-FIELDS",
            "spec.trial.replicas.node",
        ),
        (spec(name="a-name-that-is-much-too-long-for-katib"), "TS-NAME", "metadata.name"),
        (spec(targets={"namespaces": ["team-a"], "profiles": ["gpus"]}), "TS-TARGETS", "spec.targets.profiles[0]"),
    ],
)
def test_each_rule_fires_at_the_offending_node(tmp_path: Path, data: dict[str, Any], rule_id: str, path: str) -> None:
    found = problems(tmp_path, data)
    assert (rule_id, path) in [(r, p) for r, p, _ in found], found


@pytest.mark.parametrize(
    "data, path, message",
    [
        (
            spec(objective={"type": "maximise", "metric": "acc"}),
            "spec.objective.type",
            "'maximise' is not one of minimize, maximize",
        ),
        (spec(parameterz=[]), "spec.parameterz", "unknown field 'parameterz'"),
        (
            spec(parameters=[{"name": "lr", "type": "int", "min": 0.5, "max": 2}]),
            "spec.parameters[0].min",
            "0.5: expected an integer, or a string holding one",
        ),
        (
            spec(parameters=[{"name": "lr", "type": "double", "min": "0.1x", "max": 2}]),
            "spec.parameters[0].min",
            "'0.1x': expected a number",
        ),
        (
            spec(parameters=[{"name": "opt", "type": "categorical", "values": ["a"], "min": 1}]),
            "spec.parameters[0].min",
            "min applies to int and double parameters only",
        ),
        (
            spec(trial={**TRIAL, "trialSpec": {"apiVersion": "v1", "kind": "Pod"}}),
            "spec.trial",
            "either the short form",
        ),
        (spec(name="Bad_Name"), "metadata.name", "does not match"),
    ],
)
def test_schema_errors_point_at_the_field(tmp_path: Path, data: dict[str, Any], path: str, message: str) -> None:
    found = problems(tmp_path, data)
    assert any(r == "schema" and p == path and message in m for r, p, m in found), found


def test_two_specs_of_the_same_name_are_refused_at_the_second_name(tmp_path: Path) -> None:
    folder = write_specs(tmp_path)
    (folder / "copy.yaml").write_text((folder / "demo.yaml").read_text())
    with pytest.raises(FindingsError) as caught:
        planning.load(folder)
    found = [(Path(d.file).name, d.line, d.column, d.rule_id, d.path) for d in caught.value.diagnostics]
    assert found == [("demo.yaml", 4, 9, "TS-NAME-UNIQUE", "metadata.name")]
    assert caught.value.diagnostics[0].message == f"spec name 'demo' is also used in {folder}/copy.yaml"


def test_unknown_fields_get_a_did_you_mean_hint(tmp_path: Path) -> None:
    folder = write_specs(tmp_path, spec(trial={**TRIAL, "imagePullPolcy": "Always"}))
    with pytest.raises(FindingsError) as caught:
        planning.load(folder)
    (problem,) = caught.value.diagnostics
    assert problem.hint == "did you mean 'imagePullPolicy'?"
    assert problem.format().startswith(
        f"{problem.file}:{problem.line}:{problem.column}: error: unknown field 'imagePullPolcy' [schema]"
    )


def test_the_targets_file_is_checked_too(tmp_path: Path) -> None:
    targets = {**TARGETS, "spec": {**TARGETS["spec"], "profiles": {"gpu": {"resource": {}}}}}
    found = problems(tmp_path, SPEC, targets=targets)
    assert ("schema", "spec.profiles.gpu.resource") in [(r, p) for r, p, _ in found]


def test_warnings_do_not_stop_generation(tmp_path: Path) -> None:
    # skopt samples a double parameter log-uniformly whatever its distribution says (PARAM-18): a warning
    data = spec(algorithm={"name": "bayesianoptimization"})
    options = command.GenerateOptions(specs_dir=write_specs(tmp_path, data), out_dir=tmp_path / "overlays")
    result = command.generate(options)
    assert result.written and (tmp_path / "overlays" / "demo" / "_base" / "experiment.yaml").is_file()
    assert {(w.rule_id, w.severity.value, w.file.rsplit("/", 1)[-1], w.path) for w in result.warnings} == {
        ("PARAM-18", "warning", "demo.yaml", "spec.parameters[0]")
    }


def test_every_rule_is_documented_and_listed() -> None:
    assert len(registry.checks("SPEC")) >= 10
    # The spec rules, and the rules of a spec's move to an OptimizationJob (TS-OPT-*, run for that backend).
    assert {rule.module for rule in registry.checks("SPEC")} == {spec_checks.__name__, portability.__name__}
    for rule in registry.checks("SPEC"):
        assert rule.id.startswith("TS-") and rule.doc.endswith(".") and len(rule.doc) < 200


def metadata_spec(
    *metadata: dict[str, str], labels: dict[str, str] | None = None, env_value: str = "${trialParameters.trialName}"
) -> dict[str, Any]:
    """A raw Job trial reading its own name through a metadata parameter.

    Katib's trial-metadata-substitution example.
    """
    container = {"name": "training", "image": "x", "env": [{"name": "TRIAL_NAME", "value": env_value}]}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"labels": labels or {}},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    return spec(
        parameters=[{"name": "lr", "type": "double", "min": 0, "max": 1, "pass": "placeholder"}],
        trial={
            "trialSpec": {
                **job,
                "spec": {"template": {"spec": {"containers": [{**container, "args": ["--lr=${trialParameters.lr}"]}]}}},
            },
            "metadataParameters": list(metadata),
        },
    )


NAME = {"name": "trialName", "reference": "${trialSpec.Name}"}


def test_metadata_parameters_follow_the_parameters_in_the_experiment(tmp_path: Path) -> None:
    from katib_gitops.expand.experiment import trial_parameters

    spec_set = planning.load(write_specs(tmp_path, metadata_spec(NAME)))
    (built,) = [trial_parameters(s) for s in spec_set.specs]
    assert [(p["name"], p["reference"]) for p in built] == [("lr", "lr"), ("trialName", "${trialSpec.Name}")]


@pytest.mark.parametrize(
    "data, path, message",
    [
        (
            metadata_spec(NAME, env_value="fixed"),
            "spec.trial.metadataParameters[0].name",
            "placeholder ${trialParameters.trialName} does not appear",
        ),
        (
            metadata_spec(NAME, {"name": "lr", "reference": "${trialSpec.Kind}"}),
            "spec.trial.metadataParameters[1].name",
            "'lr' is used twice",
        ),
        (
            metadata_spec(NAME, {"name": "team", "reference": "${trialSpec.Labels[team]}"}),
            "spec.trial.metadataParameters[1].reference",
            "no label 'team' (TT-R2)",
        ),
    ],
)
def test_metadata_parameters_are_used_unique_and_read_what_exists(
    tmp_path: Path, data: dict[str, Any], path: str, message: str
) -> None:
    assert [(rule, where) for rule, where, text in problems(tmp_path, data) if message in text] in (
        [("TS-PARAM-PASS", path)],
        [("TS-PARAM-UNIQUE", path)],
    )


def test_a_metadata_reference_outside_katibs_set_is_a_schema_error(tmp_path: Path) -> None:
    found = problems(tmp_path, metadata_spec({"name": "trialName", "reference": "${trialSpec.Uid}"}))
    assert [(rule, where) for rule, where, _ in found] == [("schema", "spec.trial.metadataParameters[0].reference")]


def test_an_experiment_with_metadata_parameters_generates_and_validates_clean(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from katib_gitops.cli.main import main

    write_specs(
        tmp_path,
        metadata_spec(
            NAME,
            {"name": "team", "reference": "${trialSpec.Labels[team]}"},
            labels={"team": "a"},
            env_value="${trialParameters.trialName} ${trialParameters.team}",
        ),
    )
    generated = CliRunner().invoke(
        main, ["generate", "--specs", str(tmp_path / "specs"), "--out", str(tmp_path / "overlays")]
    )
    assert generated.exit_code == 0, generated.output
    validated = CliRunner().invoke(main, ["validate", str(tmp_path / "overlays")])
    assert validated.exit_code == 0 and "0 errors, 0 warnings" in validated.output, validated.output


def nas_spec(
    algorithm: str = "enas", references: tuple[str, ...] = ("architecture", "nn_config"), **extra: Any
) -> dict[str, Any]:
    """An architecture search: what Katib's enas-cpu example asks for, in the spec's words."""
    assignments = [{"name": f"a{index}", "reference": reference} for index, reference in enumerate(references)]
    args = [f"--{a['reference']}=${{trialParameters.{a['name']}}}" for a in assignments]
    data = spec(
        algorithm={"name": algorithm},
        trial={**TRIAL, "args": args},
        nas={
            "graph": {"numLayers": 1, "inputSizes": [32, 32, 3], "outputSizes": [10]},
            "operations": [
                {
                    "type": "convolution",
                    "parameters": [
                        {"name": "filter_size", "type": "categorical", "values": ["3", "5"]},
                        {"name": "stride", "type": "int", "min": 1, "max": 2, "step": 1},
                    ],
                }
            ],
            "assignments": assignments,
        },
        **extra,
    )
    if "parameters" not in extra:
        del data["spec"]["parameters"]
    return data


def test_a_nas_spec_generates_an_experiment_that_validates_clean(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from katib_gitops.cli.main import main

    write_specs(tmp_path, nas_spec())
    generated = CliRunner().invoke(
        main, ["generate", "--specs", str(tmp_path / "specs"), "--out", str(tmp_path / "overlays")]
    )
    assert generated.exit_code == 0, generated.output
    experiment = (tmp_path / "overlays" / "demo" / "_base" / "experiment.yaml").read_text()
    assert (
        "nasConfig:" in experiment and "  parameters:\n    - name: filter_size" not in experiment.split("nasConfig:")[0]
    )
    validated = CliRunner().invoke(main, ["validate", str(tmp_path / "overlays")])
    assert validated.exit_code == 0 and "0 errors, 0 warnings" in validated.output, validated.output


@pytest.mark.parametrize(
    "data, path, message",
    [
        (nas_spec(parameters=[{"name": "lr", "type": "double", "min": 0, "max": 1}]), "spec.nas", "not both"),
        (nas_spec(algorithm="random"), "spec.algorithm.name", "nas needs the enas or darts algorithm"),
        (spec(algorithm={"name": "darts"}), "spec.algorithm.name", "darts searches architectures"),
        (nas_spec(references=("architecture",)), "spec.nas.assignments", "assigns nn_config too"),
        (
            nas_spec(references=("architecture", "nn_config", "search-space")),
            "spec.nas.assignments[2].reference",
            "'search-space' is not one of them",
        ),
    ],
)
def test_ts_nas_boundaries(tmp_path: Path, data: dict[str, Any], path: str, message: str) -> None:
    assert [(rule, where) for rule, where, text in problems(tmp_path, data) if message in text] == [("TS-NAS", path)]


def test_a_nas_assignment_the_trial_never_uses_is_reported(tmp_path: Path) -> None:
    data = nas_spec()
    data["spec"]["trial"]["args"] = data["spec"]["trial"]["args"][:1]
    assert [(rule, where) for rule, where, _ in problems(tmp_path, data)] == [
        ("TS-PARAM-PASS", "spec.nas.assignments[1].name")
    ]
