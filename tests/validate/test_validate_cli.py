"""`katib-gitops validate` end to end: inputs, dispatch by kind, positions, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.yamlio.writer import dump
from tests.validate.helpers import VALID, experiment


def validate(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, *documents: object) -> str:
    path = tmp_path / name
    path.write_text(
        "---\n".join(dump(d) for d in documents)
        if documents and not isinstance(documents[0], str)
        else "".join(map(str, documents))
    )
    return str(path)


def diagnostics(*args: str, stdin: str = "") -> list[dict[str, object]]:
    code, out, _ = validate("--format", "json", *args, stdin=stdin)
    assert code in (0, 1), out
    return json.loads(out)["diagnostics"]


def test_a_valid_experiment_passes(tmp_path: Path) -> None:
    code, out, _ = validate(write(tmp_path, "e.yaml", VALID))
    assert code == 0 and out.endswith("0 errors, 0 warnings in 1 file (1 document)\n")


def test_stdin_is_read_with_a_dash() -> None:
    code, out, _ = validate("-", stdin=dump(VALID))
    assert code == 0 and "1 document" in out


def test_a_misspelled_field_is_an_error_at_its_line_with_a_suggestion(tmp_path: Path) -> None:
    text = dump(VALID).replace("parallelTrialCount", "parallelTrialCont")
    path = write(tmp_path, "e.yaml", text)
    (found,) = diagnostics(path)
    line = text.splitlines().index("  parallelTrialCont: 3") + 1
    assert (found["rule_id"], found["line"], found["column"]) == ("G-04", line, 3)
    assert (
        found["message"] == "unknown field 'parallelTrialCont'"
        and found["hint"] == "did you mean 'parallelTrialCount'?"
    )
    assert found["object"] == "Experiment/random-example"


def test_an_unquoted_number_where_katib_wants_a_string_is_g03(tmp_path: Path) -> None:
    data = experiment(
        parameters=[
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": 0.01, "max": "0.05"}},
            VALID["spec"]["parameters"][1],
        ]
    )
    found = diagnostics(write(tmp_path, "e.yaml", data))
    assert [(d["rule_id"], d["path"]) for d in found] == [("G-03", "spec.parameters[0].feasibleSpace.min")]


def test_katib_rules_report_their_catalogue_id(tmp_path: Path) -> None:
    found = diagnostics(write(tmp_path, "e.yaml", experiment(maxFailedTrialCount=20)))
    assert [(d["rule_id"], d["path"], d["severity"]) for d in found] == [
        ("COUNT-04", "spec.maxFailedTrialCount", "error")
    ]


def test_a_batch_job_trial_spec_is_checked_as_a_job(tmp_path: Path) -> None:
    data = experiment()
    data["spec"]["trialTemplate"]["trialSpec"]["spec"]["backoffLimit"] = "${trialParameters.learningRate}"
    found = diagnostics(write(tmp_path, "e.yaml", data))
    assert [(d["rule_id"], d["path"]) for d in found] == [("TT-20", "spec.trialTemplate.trialSpec.spec.backoffLimit")]


def test_a_trial_spec_of_another_kind_is_checked_against_its_schema(tmp_path: Path) -> None:
    container = {"name": "training-container", "image": "x", "args": ["${trialParameters.learningRate}"]}
    pod = {"spec": {"containers": [{**container, "env": [{"name": "M", "value": "${trialParameters.momentum}"}]}]}}
    data = experiment()
    data["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "TFJob",
        "spec": {"tfReplicaSpecs": {"Worker": {"replicas": 1, "template": pod}}, "runPolicyy": {}},
    }
    text = dump(data)
    found = diagnostics(write(tmp_path, "e.yaml", text))
    line = text.splitlines().index("        runPolicyy: {}") + 1
    containers = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip() == "containers:")
    # The TFJob webhook also refuses the job: no container named tensorflow (validateTFReplicaSpecs).
    assert [(d["rule_id"], d["line"], d["column"], d["path"]) for d in found] == [
        (
            "to-container",
            containers,
            17,
            "spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.template.spec.containers",
        ),
        ("trial-schema", line, 9, "spec.trialTemplate.trialSpec.spec.runPolicyy"),
    ]
    assert found[1]["hint"] == "did you mean 'runPolicy'?"


def test_several_documents_and_files_are_all_checked(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", VALID, experiment(maxTrialCount=0))
    second = write(tmp_path, "b.yaml", experiment(resumePolicy="Sometimes"))
    found = diagnostics(first, second)
    assert [(Path(str(d["file"])).name, d["document"], d["rule_id"]) for d in found] == [
        ("a.yaml", 1, "COUNT-05"),
        ("a.yaml", 1, "COUNT-02"),
        ("a.yaml", 1, "COUNT-04"),
        ("b.yaml", 0, "RP-01"),
    ]


def test_v1alpha3_experiments_point_to_migrate(tmp_path: Path) -> None:
    old = {"apiVersion": "kubeflow.org/v1alpha3", "kind": "Experiment", "metadata": {"name": "old"}, "spec": {}}
    (found,) = diagnostics(write(tmp_path, "old.yaml", old))
    assert found["rule_id"] == "v1alpha3" and "katib-gitops migrate" in str(found["hint"])


def test_unknown_kinds_fail_closed_unless_ignored(tmp_path: Path) -> None:
    widget = write(tmp_path, "w.yaml", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert [d["rule_id"] for d in diagnostics(widget)] == ["unknown-kind"]
    assert validate("--ignore-missing-schemas", widget)[0] == 0


def test_core_kinds_are_checked_strictly(tmp_path: Path) -> None:
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "dta": {"a": "b"}}
    found = diagnostics(write(tmp_path, "cm.yaml", config_map))
    assert [(d["rule_id"], d["path"]) for d in found] == [("schema", "dta")]


@pytest.mark.parametrize(
    "content, rule_id",
    [
        ("", "empty-input"),
        ("# only a comment\n", "empty-input"),
        ("- a\n- b\n", "document"),
        ("metadata: {name: x}\n", "document"),
        ("a: [1\n", "yaml-syntax"),
        ("a: 1\na: 2\n", "yaml-syntax"),
    ],
)
def test_inputs_that_are_not_manifests_are_findings(tmp_path: Path, content: str, rule_id: str) -> None:
    path = write(tmp_path, "x.yaml", content)
    code, out, _ = validate("--format", "json", path)
    assert code == 1 and [d["rule_id"] for d in json.loads(out)["diagnostics"]] == [rule_id]


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = validate(str(tmp_path / "nowhere.yaml"))
    assert code == 2 and "no such file or directory" in err


def test_nothing_named_is_a_usage_error() -> None:
    code, _, err = validate()
    assert code == 2 and "nothing to validate" in err


def test_rules_can_be_skipped_per_run_and_per_object(tmp_path: Path) -> None:
    bad = experiment(maxFailedTrialCount=20)
    path = write(tmp_path, "e.yaml", bad)
    assert validate("--skip", "COUNT-04", path)[0] == 0
    bad["metadata"]["annotations"] = {"katib-gitops.dev/skip": "COUNT-04, NAME-03"}
    assert validate(write(tmp_path, "f.yaml", bad))[0] == 0


def test_an_unknown_rule_in_the_skip_annotation_is_a_warning_with_the_nearest_id(tmp_path: Path) -> None:
    # A typo silences nothing while the file says it does: the object is still judged, and the typo is named.
    bad = experiment(maxFailedTrialCount=20)
    bad["metadata"]["annotations"] = {"katib-gitops.dev/skip": "NAME-03, COUNT04"}
    found = diagnostics(write(tmp_path, "e.yaml", bad))
    assert sorted((d["rule_id"], d["severity"]) for d in found) == [
        ("COUNT-04", "error"),
        ("skip-annotation", "warning"),
    ]
    (typo,) = [d for d in found if d["rule_id"] == "skip-annotation"]
    assert "COUNT04 (did you mean COUNT-04?)" in typo["message"] and "NAME-03" not in typo["message"]
    assert typo["path"] == "metadata.annotations.katib-gitops.dev/skip"


def test_the_katib_config_can_come_from_its_config_map(tmp_path: Path) -> None:
    config = {
        "apiVersion": "config.kubeflow.org/v1beta1",
        "kind": "KatibConfig",
        "runtime": {"suggestions": [{"algorithmName": "my-search", "image": "example.com/suggestion-hyperopt:1"}]},
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "katib-config"},
        "data": {"katib-config.yaml": dump(config)},
    }
    path = write(tmp_path, "e.yaml", experiment(algorithm={"algorithmName": "my-search"}))
    found = diagnostics("--katib-config", write(tmp_path, "cm.yaml", config_map), path)
    assert "ALG-03" not in [d["rule_id"] for d in found]
    assert "ALG-03" in [d["rule_id"] for d in diagnostics(path)]


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    path = write(tmp_path, "e.yaml", experiment(metricsCollectorSpec={"collector": {"kind": "PrometheusMetric"}}))
    found = diagnostics("--katib-config", str(_config_with_prometheus(tmp_path)), path)
    assert found == []
    spec_dir = tmp_path / "specs"
    from tests.helpers import SPEC, write_specs

    # skopt samples a double parameter log-uniformly whatever its distribution says (PARAM-18): a warning
    write_specs(tmp_path, {**SPEC, "spec": {**SPEC["spec"], "algorithm": {"name": "bayesianoptimization"}}})
    code, out, _ = validate(str(spec_dir))
    assert code == 0 and "warning: bayesianoptimization (skopt) ignores distribution uniform" in out
    assert validate("--strict-warnings", str(spec_dir))[0] == 1


def _config_with_prometheus(tmp_path: Path) -> Path:
    config = {
        "apiVersion": "config.kubeflow.org/v1beta1",
        "kind": "KatibConfig",
        "init": {
            "controller": {"trialResources": ["Job.v1.batch", "PyTorchJob.v1.kubeflow.org"]}
        },  # the tests' trial kinds
        "runtime": {
            "suggestions": [{"algorithmName": "random", "image": "x/suggestion-hyperopt:1"}],
            "metricsCollectors": [{"kind": "PrometheusMetric", "image": "x/prom:1"}],
        },
    }
    path = tmp_path / "katib-config.yaml"
    path.write_text(dump(config))
    return path


def test_a_spec_error_is_reported_by_validate_like_by_generate(tmp_path: Path) -> None:
    from tests.helpers import SPEC, write_specs

    folder = write_specs(tmp_path, {**SPEC, "spec": {**SPEC["spec"], "algorithm": {"name": "bayesian"}}})
    found = diagnostics(str(folder / "demo.yaml"))  # Targets found next to the spec
    assert [d["rule_id"] for d in found] == ["TS-ALGORITHM"]


def test_a_kustomization_folder_is_rendered_and_its_output_checked(tmp_path: Path) -> None:
    from tests.generate_helpers import generate_into

    out = generate_into(tmp_path)
    overlay = out / "demo" / "team-a" / "gpu"
    code, text, _ = validate("--ignore-missing-schemas", str(overlay))
    assert code == 0 and "(1 document)" in text
    raw = validate("--no-render", "--ignore-missing-schemas", str(overlay))
    assert raw[0] == 0 and "(1 document)" in raw[1]  # the kustomization.yaml itself


def test_skip_applies_to_spec_checks_too(tmp_path: Path) -> None:
    from tests.helpers import SPEC, write_specs

    folder = write_specs(tmp_path, {**SPEC, "spec": {**SPEC["spec"], "algorithm": {"name": "bayesian"}}})
    assert validate(str(folder / "demo.yaml"))[0] == 1
    assert validate("--skip", "TS-ALGORITHM", str(folder / "demo.yaml"))[0] == 0


def test_a_spec_without_its_targets_file_is_not_silently_passed(tmp_path: Path) -> None:
    from tests.helpers import SPEC

    path = write(tmp_path, "demo.yaml", SPEC)
    assert [d["rule_id"] for d in diagnostics(path)] == ["spec-targets"]


def test_older_katib_versions_do_not_watch_trainjobs_by_default(tmp_path: Path) -> None:
    data = experiment()
    data["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {
            "runtimeRef": {"name": "torch-distributed"},
            "trainer": {
                "image": "x",
                "command": ["--lr=${trialParameters.learningRate}", "${trialParameters.momentum}"],
            },
        },
    }
    data["spec"]["trialTemplate"]["primaryContainerName"] = "node"
    path = write(tmp_path, "e.yaml", data)
    assert "TT-R5" not in [d["rule_id"] for d in diagnostics(path)]
    assert "TT-R5" in [d["rule_id"] for d in diagnostics("--katib-version", "0.18", path)]


def test_previous_flags_a_change_katib_would_refuse_on_the_deployed_experiment(tmp_path: Path) -> None:
    (tmp_path / "deployed").mkdir()
    (tmp_path / "change").mkdir()
    deployed = write(tmp_path / "deployed", "e.yaml", VALID)
    counts_only = write(tmp_path / "change", "counts.yaml", experiment(maxTrialCount=40))
    assert validate(counts_only, "--previous", deployed)[0] == 0
    moved = experiment()
    moved["spec"]["objective"]["goal"] = 0.5
    changed = write(tmp_path / "change", "goal.yaml", moved)
    (found,) = [d for d in diagnostics(changed, "--previous", str(tmp_path / "deployed")) if d["rule_id"] == "UPD-05"]
    assert (
        found["severity"] == "warning"
        and found["path"] == "spec.objective.goal"
        and "e.yaml:1" in str(found["message"])
    )
    assert validate(changed, "--previous", deployed, "--strict-warnings")[0] == 1
    renamed = experiment()
    renamed["metadata"]["name"] = "another-name"  # a new Experiment: nothing to compare with
    assert validate(write(tmp_path / "change", "renamed.yaml", renamed), "--previous", deployed)[0] == 0
    code, _, err = validate(changed, "--previous", "-")
    assert code == 2 and "standard input" in err
    code, _, err = validate(changed, "--previous", str(tmp_path / "missing"))
    assert code == 2 and f"--previous: {tmp_path / 'missing'}: no such file or directory" in err


def test_a_trial_templates_configmap_whose_data_is_no_mapping_is_a_usage_error(tmp_path: Path) -> None:
    templates = write(
        tmp_path, "templates.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\ndata:\n- job.yaml\n"
    )
    code, _, err = validate(write(tmp_path, "e.yaml", VALID), "--trial-templates", templates)
    assert code == 2 and f"--trial-templates: {templates}:4:1: a ConfigMap's data must map keys to strings" in err


def test_spec_checks_use_the_given_katib_config(tmp_path: Path) -> None:
    from tests.helpers import SPEC, write_specs

    prometheus = {
        **SPEC,
        "spec": {**SPEC["spec"], "trial": {**SPEC["spec"]["trial"], "metricsCollector": {"kind": "PrometheusMetric"}}},
    }
    folder = write_specs(tmp_path, prometheus)
    # Katib's standalone katib-config has no PrometheusMetric collector: its webhook refuses the Experiment (MC-02)
    assert [(d["rule_id"], d["file"].rsplit("/", 1)[-1]) for d in diagnostics(str(folder))] == [("MC-02", "demo.yaml")]
    assert diagnostics("--katib-config", str(_config_with_prometheus(tmp_path)), str(folder)) == []
