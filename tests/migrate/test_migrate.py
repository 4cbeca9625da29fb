"""`katib-gitops migrate`: v1alpha3 Experiments to v1beta1 (MIG-01..20), checked with the validator."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.core.diagnostics import Severity
from katib_gitops.migration.convert import FileMigration, migrate_text
from katib_gitops.migration.gotemplate import TemplateData, TemplateError, render_template
from katib_gitops.rules import validator
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.reader import LIMITS
from tests.reliability.helpers import assert_clean_exit, process

DATA = Path(__file__).parent / "data"
TUTORIAL = ("katib-tfjob-experiment.yaml", "katib-pytorchjob-experiment.yaml")
REPLICAS = {"TFJob": "tfReplicaSpecs", "PyTorchJob": "pytorchReplicaSpecs"}


def migrate(text: str, **options: Any) -> FileMigration:
    return migrate_text(textwrap.dedent(text), "in.yaml", **options)


def plain(text: str) -> list[Any]:
    return [d.data for d in load_documents(text, "out.yaml")]


def validate(tmp_path: Path, text: str, version: tuple[int, int] = (0, 19)) -> list[Any]:
    path = tmp_path / "migrated.yaml"
    path.write_text(text)
    outcome = validator.validate(
        validator.Options(paths=(str(path),), ignore_missing_schemas=False, katib_version=version), io.StringIO()
    )
    return list(outcome.diagnostics)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["migrate", *args])
    return result.exit_code, result.stdout, result.stderr


def experiment(template: str, *, spec: str = "", name: str = "demo") -> str:
    """A v1alpha3 Job Experiment around `template` (the rawTemplate's text, not indented)."""
    body = textwrap.indent(textwrap.dedent(template).strip("\n"), " " * 8)
    head = (
        textwrap.indent(textwrap.dedent(spec).strip("\n"), "  ")
        if spec
        else (
            "  objective: {type: maximize, objectiveMetricName: accuracy}\n"
            "  algorithm: {algorithmName: random}\n"
            "  parallelTrialCount: 3\n"
            "  maxTrialCount: 12\n"
            "  parameters:\n"
            '    - {name: --lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}\n'
            '    - {name: --num-layers, parameterType: int, feasibleSpace: {min: "2", max: "5"}}'
        )
    )
    return (
        f"apiVersion: kubeflow.org/v1alpha3\nkind: Experiment\nmetadata:\n  name: {name}\n"
        f"  namespace: team-a\nspec:\n{head}\n"
        f"  trialTemplate:\n    goTemplate:\n      rawTemplate: |-\n{body}\n"
    )


JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  template:
    spec:
      containers:
      - name: {{.Trial}}
        image: docker.io/kubeflowkatib/mxnet-mnist
        command:
        - "python3"
        - "/opt/mxnet-mnist/mnist.py"
        {{- with .HyperParameters}}
        {{- range .}}
        - "{{.Name}}={{.Value}}"
        {{- end}}
        {{- end}}
      restartPolicy: Never
"""


def trial_spec(result: FileMigration) -> dict[str, Any]:
    (data,) = [d for d in plain(result.text) if d.get("kind") == "Experiment"]
    return data["spec"]["trialTemplate"]["trialSpec"]  # type: ignore[no-any-return]


def job_command(result: FileMigration) -> list[str]:
    return trial_spec(result)["spec"]["template"]["spec"]["containers"][0]["command"]  # type: ignore[no-any-return]


# ------------------------------------------------------------------ the tutorial's experiments


@pytest.mark.parametrize("name", TUTORIAL)
def test_the_tutorial_experiments_migrate_and_pass_validate(tmp_path: Path, name: str) -> None:
    result = migrate_text((DATA / name).read_text(), name)
    assert result.changed and not result.errors and not result.warnings
    assert validate(tmp_path, result.text) == []


@pytest.mark.parametrize("name", TUTORIAL)
def test_the_tutorial_experiments_keep_the_same_search(name: str) -> None:
    source = (DATA / name).read_text()
    (before,) = plain(source)
    (after,) = plain(migrate_text(source, name).text)
    assert after["apiVersion"] == "kubeflow.org/v1beta1" and after["metadata"] == before["metadata"]
    for field in ("parameters", "objective", "algorithm", "parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"):
        assert after["spec"][field] == before["spec"][field], field
    template = after["spec"]["trialTemplate"]
    trial_parameters = {p["reference"]: p["name"] for p in template["trialParameters"]}
    expected_args = [
        a
        for p in before["spec"]["parameters"]
        for a in (p["name"], f"${{trialParameters.{trial_parameters[p['name']]}}}")
    ]
    old = plain(before["spec"]["trialTemplate"]["goTemplate"]["rawTemplate"].replace("{{", "#{{"))[
        0
    ]  # the loop commented out
    kind = old["kind"]
    assert (
        template["trialSpec"]["kind"] == kind
        and template["primaryContainerName"] == {"TFJob": "tensorflow", "PyTorchJob": "pytorch"}[kind]
    )
    old_roles, new_roles = old["spec"][REPLICAS[kind]], template["trialSpec"]["spec"][REPLICAS[kind]]
    assert list(new_roles) == list(old_roles)
    for role, old_role in old_roles.items():
        new_role = new_roles[role]
        assert new_role["replicas"] == old_role["replicas"]
        (old_container,), (new_container,) = (
            old_role["template"]["spec"]["containers"],
            new_role["template"]["spec"]["containers"],
        )
        assert {k: v for k, v in new_container.items() if k != "args"} == {
            k: v for k, v in old_container.items() if k != "args"
        }
        assert new_container["args"] == expected_args
        assert new_container["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_the_tutorial_trial_parameters_follow_mig_20() -> None:
    (tf,) = plain(migrate_text((DATA / TUTORIAL[0]).read_text(), TUTORIAL[0]).text)
    (torch,) = plain(migrate_text((DATA / TUTORIAL[1]).read_text(), TUTORIAL[1]).text)
    assert tf["spec"]["trialTemplate"]["trialParameters"] == [
        {"name": "learningRate", "reference": "--learning-rate"},
        {"name": "momentum", "reference": "--momentum"},
    ]
    assert torch["spec"]["trialTemplate"]["trialParameters"] == [{"name": "lr", "reference": "--lr"}]
    for data in (tf, torch):
        template = data["spec"]["trialTemplate"]
        assert "metadata" not in template["trialSpec"] and "goTemplate" not in template
        assert template["primaryPodLabels"] == {"training.kubeflow.org/job-role": "master"}
        assert template["successCondition"] == 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
        assert data["spec"]["resumePolicy"] == "LongRunning"


def test_the_template_comments_land_above_their_keys() -> None:
    text = migrate_text((DATA / TUTORIAL[1]).read_text(), TUTORIAL[1]).text
    lines = text.splitlines()
    for comment, key in (
        ("# modify this property if you would like to use a custom image", "image:"),
        ("# Comment out these resources when using only CPUs", "resources:"),
    ):
        places = [i for i, line in enumerate(lines) if line.strip() == comment]
        assert len(places) == 2  # Master and Worker
        for index in places:
            following = lines[index + 1]
            assert following.lstrip().startswith(key) and lines[index].index("#") == following.index(key)


def test_the_cli_prints_both_files_with_their_source() -> None:
    code, out, err = cli(*(str(DATA / name) for name in TUTORIAL))
    assert code == 0
    assert out.startswith(f'# Source: {DATA / TUTORIAL[0]}\napiVersion: "kubeflow.org/v1beta1"\n')
    assert f"\n---\n# Source: {DATA / TUTORIAL[1]}\n" in out
    assert [d["metadata"]["name"] for d in plain(out)] == ["katib-tfjob-experiment", "katib-pytorchjob-experiment"]
    assert "note: resumePolicy: LongRunning written out" in err and "[MIG-15]" in err and "error" not in err


# ------------------------------------------------------------------ untouched parts


def test_comments_and_key_order_of_untouched_parts_survive() -> None:
    source = textwrap.dedent("""\
        # the header of the file
        apiVersion: "kubeflow.org/v1alpha3"   # quoted, like the tutorial
        kind: Experiment
        metadata:
          name: demo
        spec:
          # how many trials
          maxTrialCount: 12
          parallelTrialCount: 3   # at once
          # what to optimise
          objective:
            type: maximize
            objectiveMetricName: accuracy
          algorithm:
            algorithmName: random   # plain random search
          parameters:
            - {name: --lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
          trialTemplate:
            goTemplate:
              rawTemplate: |-
                apiVersion: batch/v1
                kind: Job
                spec:
                  template:
                    spec:
                      containers:
                      - name: training
                        image: train:1
                        args: [{{- range .HyperParameters}}"{{.Name}}", "{{.Value}}",{{- end}} "--epochs=1"]
                      restartPolicy: Never
          # the end
    """)
    result = migrate_text(source, "in.yaml")
    assert not result.errors
    text = result.text
    for line in (
        "# the header of the file",
        'apiVersion: "kubeflow.org/v1beta1"    # quoted, like the tutorial',
        "  # how many trials",
        "  parallelTrialCount: 3   # at once",
        "  # what to optimise",
        "    algorithmName: random   # plain random search",
    ):
        assert line in text.splitlines(), line  # an end-of-line comment keeps its column
    assert text.rstrip().endswith("# the end")
    (data,) = plain(text)
    assert list(data["spec"]) == [
        "maxTrialCount",
        "parallelTrialCount",
        "resumePolicy",
        "objective",
        "algorithm",
        "parameters",
        "trialTemplate",
    ]
    assert text.index("resumePolicy: LongRunning") < text.index(
        "# what to optimise"
    )  # inserted under the counts, above the comment
    assert trial_spec(result)["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "--lr",
        "${trialParameters.lr}",
        "--epochs=1",
    ]


def test_other_documents_keep_their_text_byte_for_byte() -> None:
    config_map = (
        "# first\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}   # odd spacing kept\ndata:\n    k:   v\n"
    )
    beta = "---\napiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n    name: already\nspec: {}\n"
    source = config_map + "---\n" + experiment(JOB) + beta
    result = migrate_text(source, "in.yaml")
    assert result.text.startswith(config_map + "---\napiVersion: kubeflow.org/v1beta1\n") and result.text.endswith(beta)
    assert [r.status for r in result.results] == ["unchanged", "converted", "unchanged"]
    assert any("already kubeflow.org/v1beta1: left as it is" in n.message for n in result.notes)


def test_a_file_without_v1alpha3_experiments_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "beta.yaml"
    path.write_text("apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: x}\nspec: {}\n")
    before = path.stat().st_mtime_ns
    code, out, err = cli("--write", str(path))
    assert (code, out) == (0, f"{path}: nothing to migrate\n") and "left as it is" in err
    assert path.stat().st_mtime_ns == before


# ------------------------------------------------------------------ Go templates


def test_name_equals_value_becomes_one_argument_per_parameter(tmp_path: Path) -> None:
    result = migrate(experiment(JOB))
    assert job_command(result)[2:] == ["--lr=${trialParameters.lr}", "--num-layers=${trialParameters.numLayers}"]
    assert validate(tmp_path, result.text) == []


def test_trial_containers_get_a_fixed_name_and_metadata_goes() -> None:
    source = experiment(JOB)
    result = migrate(source)
    spec = trial_spec(result)
    assert "metadata" not in spec and spec["spec"]["template"]["spec"]["containers"][0]["name"] == "training"
    (data,) = plain(result.text)
    assert data["spec"]["trialTemplate"]["primaryContainerName"] == "training"
    assert "primaryPodLabels" not in data["spec"]["trialTemplate"]  # a Job has none (DEF-05)
    (note,) = [n for n in result.notes if n.rule_id == "MIG-05"]
    line = source.splitlines().index("              - name: {{.Trial}}") + 1
    assert (note.line, note.column) == (line, 23)  # the {{.Trial}} of `- name: {{.Trial}}`


def test_trial_namespace_and_experiment_actions_elsewhere(tmp_path: Path) -> None:
    template = JOB.replace(
        '        - "python3"\n', '        - "python3"\n        - "--out=/runs/{{.Experiment}}/{{.Trial}}"\n'
    )
    env = '        env:\n        - {name: NS, value: "{{.NameSpace}}"}\n'
    template = template.replace("      restartPolicy: Never", env + "      restartPolicy: Never")
    result = migrate(experiment(template))
    (data,) = plain(result.text)
    assert job_command(result)[1] == "--out=/runs/demo/${trialParameters.trialName}"
    assert trial_spec(result)["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "NS", "value": "${trialParameters.trialNamespace}"}
    ]
    assert data["spec"]["trialTemplate"]["trialParameters"][2:] == [
        {"name": "trialName", "reference": "${trialSpec.Name}"},
        {"name": "trialNamespace", "reference": "${trialSpec.Namespace}"},
    ]
    assert validate(tmp_path, result.text) == []


def test_an_unsupported_action_fails_at_its_line_and_column() -> None:
    template = JOB.replace('"{{.Name}}={{.Value}}"', '"{{.Name}}={{if .Foo}}{{.Value}}{{end}}"')
    source = experiment(template)
    result = migrate(source)
    (error,) = result.errors
    line = source.splitlines().index('                - "{{.Name}}={{if .Foo}}{{.Value}}{{end}}"') + 1
    assert (error.rule_id, error.line, error.column) == ("MIG-03", line, 30)
    assert (
        error.message == "unsupported Go template action {{if .Foo}}"
        and error.path == "spec.trialTemplate.goTemplate.rawTemplate"
    )
    assert result.text == "" and result.results[0].node is None and not result.notes


def test_the_cli_reports_failures_with_positions_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    source = experiment(JOB.replace("{{.Trial}}\n  namespace", '{{printf "%s" .Trial}}\n  namespace'))
    path.write_text(source)
    line = source.splitlines().index('          name: {{printf "%s" .Trial}}') + 1
    code, out, err = cli(str(path))
    assert code == 1 and out == ""
    assert f'{path}:{line}:17: error: unsupported Go template action {{{{printf "%s" .Trial}}}} [MIG-03]' in err
    assert "Traceback" not in err and "1 problem(s) found" in err


def test_invalid_yaml_after_conversion_points_into_the_template() -> None:
    source = experiment(JOB.replace("      restartPolicy: Never", "      restartPolicy: [Never"))
    (error,) = migrate(source).errors
    assert error.rule_id == "MIG-02" and "not valid YAML" in error.message
    assert (
        error.line == len(source.splitlines()) + 1
        or source.splitlines()[error.line - 1].strip() == "restartPolicy: [Never"
    )


def test_a_template_that_never_uses_the_parameters_is_refused() -> None:
    template = "\n".join(
        line for line in JOB.splitlines() if "{{" not in line or "Trial" in line or "NameSpace" in line
    )
    (error,) = migrate(experiment(template)).errors
    assert error.rule_id == "MIG-03" and "never passes --lr, --num-layers" in error.message


def test_the_enas_loop_body_is_converted(tmp_path: Path) -> None:
    spec = """\
      objective: {type: maximize, objectiveMetricName: Validation-Accuracy}
      algorithm: {algorithmName: enas}
      parallelTrialCount: 2
      maxTrialCount: 3
      nasConfig:
        graphConfig: {numLayers: 1, inputSizes: [32, 32, 3], outputSizes: [10]}
        operations:
          - operationType: convolution
            parameters:
              - {name: filter_size, parameterType: categorical, feasibleSpace: {list: ["3", "5"]}}
    """
    template = JOB.replace('"{{.Name}}={{.Value}}"', '"--{{.Name}}=\\"{{.Value}}\\""')
    result = migrate(experiment(template, spec=spec))
    assert not result.errors
    assert job_command(result)[2:] == [
        '--architecture="${trialParameters.architecture}"',
        '--nn_config="${trialParameters.nnConfig}"',
    ]
    (data,) = plain(result.text)
    assert data["spec"]["trialTemplate"]["trialParameters"] == [
        {"name": "architecture", "reference": "architecture"},
        {"name": "nnConfig", "reference": "nn_config"},
    ]
    assert validate(tmp_path, result.text) == []


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "{{- with .HyperParameters}}{{- range .}}\n- {{.Name}}\n- {{.Value}}{{- end}}{{- end}}",
            "\n- a\n- A\n- b\n- B",
        ),
        ("{{range .HyperParameters}}[{{.Name}}={{.Value}}]{{end}}", "[a=A][b=B]"),
        ("x {{- /* a comment */ -}} y {{$.Trial}}", "xy T"),
        ("{{range .HyperParameters}}{{$.Experiment}}/{{.Name}} {{end}}", "E/a E/b "),
        ("keep {{ .NameSpace }}  \n  {{- .Trial -}}  \n end", "keep NSTend"),
    ],
)
def test_the_go_template_subset(template: str, expected: str) -> None:
    data = TemplateData({"Trial": "T", "NameSpace": "NS", "Experiment": "E"}, (("a", "A"), ("b", "B")))
    assert render_template(template, data).text == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.HyperParameters}}", "unsupported Go template action {{.HyperParameters}}"),
        ("{{range .HyperParameters}}{{.Trial}}{{end}}", "unsupported Go template action {{.Trial}}"),
        ("{{with .HyperParameters}}x", "{{with}} is not closed with {{end}}"),
        ("x {{end}}", "{{end}} without {{with}} or {{range}}"),
        ("a {{.Trial", "a Go template action is not closed with }}"),
        ("{{index .HyperParameters 0}}", "unsupported Go template action {{index .HyperParameters 0}}"),
    ],
)
def test_go_template_problems(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render_template(template, TemplateData({"Trial": "T"}, (("a", "A"),)))
    assert [p[1] for p in caught.value.problems] == [message]


# ------------------------------------------------------------------ the rest of the spec


def test_template_spec_becomes_config_map_when_the_config_map_is_known(tmp_path: Path) -> None:
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        textwrap.dedent("""\
        apiVersion: kubeflow.org/v1alpha3
        kind: Experiment
        metadata: {name: demo, namespace: team-a}
        spec:
          objective: {type: maximize, objectiveMetricName: accuracy}
          algorithm: {algorithmName: random}
          maxTrialCount: 12
          parameters:
            - {name: --lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
            - {name: --num-layers, parameterType: int, feasibleSpace: {min: "2", max: "5"}}
          trialTemplate:
            retain: true
            goTemplate:
              templateSpec:
                configMapName: trial-template
                configMapNamespace: kubeflow
                templatePath: job.yaml
    """)
    )
    code, out, err = cli(str(exp))
    assert code == 1 and "cannot tell the trial kind of ConfigMap kubeflow/trial-template (job.yaml)" in err
    config_map = tmp_path / "cm.yaml"
    config_map.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: trial-template, namespace: kubeflow}\n"
        "data:\n  job.yaml: |-\n" + textwrap.indent(JOB, "    ")
    )
    code, out, err = cli(str(exp), str(config_map))
    assert (
        code == 0 and "warning: ConfigMap kubeflow/trial-template (job.yaml) still holds a v1alpha3 Go template" in err
    )
    experiment_data = plain(out)[0]
    template = experiment_data["spec"]["trialTemplate"]
    assert template["configMap"] == {
        "configMapName": "trial-template",
        "configMapNamespace": "kubeflow",
        "templatePath": "job.yaml",
    }
    assert (template["retain"], template["primaryContainerName"], template["successCondition"]) == (
        True,
        "training",
        'status.conditions.#(type=="Complete")#|#(status=="True")#',
    )
    assert [p["name"] for p in template["trialParameters"]] == ["lr", "numLayers"]


def test_early_stopping_moves_to_the_spec(tmp_path: Path) -> None:
    spec = """\
      objective: {type: maximize, objectiveMetricName: accuracy}
      algorithm:
        algorithmName: random
        earlyStopping:
          earlyStoppingAlgorithmName: medianstop
          earlyStoppingSettings:
            - {name: min_trials_required, value: "2"}
      maxTrialCount: 12
      parameters:
        - {name: --lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
        - {name: --num-layers, parameterType: int, feasibleSpace: {min: "2", max: "5"}}
    """
    result = migrate(experiment(JOB, spec=spec))
    (data,) = plain(result.text)
    assert data["spec"]["algorithm"] == {"algorithmName": "random"}
    assert data["spec"]["earlyStopping"] == {
        "algorithmName": "medianstop",
        "algorithmSettings": [{"name": "min_trials_required", "value": "2"}],
    }
    assert list(data["spec"])[:3] == ["objective", "algorithm", "earlyStopping"]
    assert any(n.rule_id == "MIG-09" and "trials may now stop early" in n.message for n in result.notes)
    assert validate(tmp_path, result.text) == []


@pytest.mark.parametrize(("version", "kind"), [((0, 19), "Push"), ((0, 18), "Push"), ((0, 17), "None")])
def test_collector_none_becomes_push_from_katib_0_18(tmp_path: Path, version: tuple[int, int], kind: str) -> None:
    source = experiment(JOB).replace(
        "  trialTemplate:", "  metricsCollectorSpec:\n    collector:\n      kind: None\n  trialTemplate:"
    )
    result = migrate(source, katib_version=version)
    assert plain(result.text)[0]["spec"]["metricsCollectorSpec"] == {"collector": {"kind": kind}}
    assert [d for d in validate(tmp_path, result.text, version) if d.severity is Severity.ERROR] == []


def test_a_long_name_is_refused_at_its_position() -> None:
    (error,) = migrate(experiment(JOB, name="a" * 41)).errors
    assert (error.rule_id, error.line, error.column) == ("MIG-13", 4, 9) and "41 characters" in error.message


def test_few_trials_get_an_explicit_parallel_count(tmp_path: Path) -> None:
    source = experiment(JOB).replace("  parallelTrialCount: 3\n  maxTrialCount: 12\n", "  maxTrialCount: 2\n")
    result = migrate(source)
    (data,) = plain(result.text)
    assert (data["spec"]["parallelTrialCount"], data["spec"]["maxTrialCount"]) == (2, 2)
    assert any(n.rule_id == "MIG-13" for n in result.notes)
    assert validate(tmp_path, result.text) == []


def test_counts_v1beta1_refuses_are_reported() -> None:
    source = experiment(JOB).replace("  maxTrialCount: 12\n", "  maxTrialCount: 2\n  maxFailedTrialCount: 3\n")
    assert sorted(e.path for e in migrate(source).errors) == ["spec.maxFailedTrialCount", "spec.parallelTrialCount"]


def test_a_given_resume_policy_is_kept_and_duplicate_metrics_are_dropped() -> None:
    source = experiment(JOB).replace(
        "  objective: {type: maximize, objectiveMetricName: accuracy}\n",
        "  resumePolicy: Never\n  objective:\n    type: maximize\n    objectiveMetricName: accuracy\n"
        "    additionalMetricNames: [loss, accuracy]\n",
    )
    result = migrate(source)
    (data,) = plain(result.text)
    assert data["spec"]["resumePolicy"] == "Never" and data["spec"]["objective"]["additionalMetricNames"] == ["loss"]
    assert {n.rule_id for n in result.notes} >= {"MIG-10", "MIG-15"} and "MIG-08" not in {
        n.rule_id for n in result.notes
    }


def test_unknown_fields_and_a_missing_template_are_refused() -> None:
    source = experiment(JOB).replace("  maxTrialCount: 12\n", "  maxTrialCount: 12\n  maxTrialCont: 12\n")
    (error,) = migrate(source).errors
    assert (error.rule_id, error.path, error.message) == (
        "MIG-01",
        "spec.maxTrialCont",
        "unknown v1alpha3 field 'maxTrialCont'",
    )
    without = experiment(JOB).split("  trialTemplate:")[0]
    (error,) = migrate(without).errors
    assert error.rule_id == "MIG-07" and "default ConfigMap trial-template" in error.message


def test_a_trial_kind_v1alpha3_did_not_run_is_refused_at_its_kind() -> None:
    (error,) = migrate(experiment(JOB).replace("kind: Job", "kind: Workflow")).errors
    assert (error.rule_id, error.line, error.column) == ("MIG-06", 18, 15)
    assert error.message == "cannot migrate a trial of kind 'Workflow' ('batch/v1')"


def test_a_parameter_without_a_name_is_refused_at_the_parameter() -> None:
    result = migrate(experiment(JOB).replace("    - {name: --num-layers,", "    - {nam: --num-layers,"))
    assert [(e.rule_id, e.line, e.column, e.path) for e in result.errors if e.rule_id == "MIG-11"] == [
        ("MIG-11", 13, 7, "spec.parameters[1]")
    ]


def test_collector_none_is_kept_below_katib_0_18_with_a_note_at_its_kind() -> None:
    source = experiment(JOB).replace(
        "  trialTemplate:", "  metricsCollectorSpec:\n    collector:\n      kind: None\n  trialTemplate:"
    )
    notes = [n for n in migrate(source, katib_version=(0, 17)).notes if n.rule_id == "MIG-12"]
    assert [(n.line, n.column, n.message) for n in notes] == [
        (16, 13, "collector kind None kept: Katib 0.17 still calls it None")
    ]


def test_the_status_is_dropped_with_a_note() -> None:
    result = migrate(experiment(JOB) + "status:\n  conditions: []\n")
    assert "status" not in plain(result.text)[0]
    assert [(n.rule_id, n.line, n.column) for n in result.notes if n.rule_id == "MIG-19"] == [("MIG-19", 37, 1)]


def test_nas_of_an_algorithm_other_than_enas_or_darts_is_refused() -> None:
    spec = """\
      objective: {type: maximize, objectiveMetricName: accuracy}
      algorithm: {algorithmName: random}
      maxTrialCount: 12
      nasConfig:
        graphConfig: {numLayers: 8}
    """
    (error,) = migrate(experiment(JOB, spec=spec)).errors
    assert (error.rule_id, error.line, error.column, error.path) == ("MIG-17", 8, 3, "spec.algorithm")
    assert "algorithm 'random'" in error.message


# ------------------------------------------------------------------ --write


def test_write_replaces_files_atomically(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(experiment(JOB))
    second.write_text((DATA / TUTORIAL[0]).read_text())
    os.chmod(first, 0o640)
    code, out, _ = cli("--write", str(first), str(second))
    assert (code, out) == (0, f"{first}: migrated\n{second}: migrated\n")
    assert (
        plain(first.read_text())[0]["apiVersion"]
        == plain(second.read_text())[0]["apiVersion"]
        == "kubeflow.org/v1beta1"
    )
    assert stat.S_IMODE(first.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]  # no temporary file left
    assert cli("--write", str(first))[:2] == (0, f"{first}: nothing to migrate\n")


def test_write_writes_nothing_when_one_file_fails(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(experiment(JOB))
    bad.write_text(experiment(JOB.replace("{{.Value}}", "{{.Value | quote}}")))
    before = {p: p.read_text() for p in (good, bad)}
    code, out, err = cli("--write", str(good), str(bad))
    assert code == 1 and out == "" and "unsupported Go template action {{.Value | quote}}" in err
    assert {p: p.read_text() for p in (good, bad)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "good.yaml"]


def test_usage_and_yaml_errors(tmp_path: Path) -> None:
    assert cli(str(tmp_path / "missing.yaml"))[0] == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1\n")
    code, _, err = cli(str(broken))
    assert code == 1 and f"{broken}:2:1: error:" in err and "[yaml-syntax]" in err


def test_a_file_over_the_size_limit_is_a_yaml_limit_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LIMITS, "max_file_bytes", LIMITS.max_file_bytes)  # the flag's limit ends with the test
    source = DATA / TUTORIAL[0]
    code, out, err = cli("--max-file-size", "1KiB", str(source))
    assert (
        code == 1
        and out == ""
        and f"{source}:1:1: error: file is larger than the 1024 bytes limit" in err
        and "[yaml-limit]" in err
    )
    assert cli("--max-file-size", "1MiB", str(source))[0] == 0


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "good.yaml").write_text(experiment(JOB))
    output = assert_clean_exit(process(tmp_path, "migrate", "--write", "good.yaml", "pipe.yaml", timeout=20), 2)
    assert "pipe.yaml: not a regular file" in output
    assert (tmp_path / "good.yaml").read_text() == experiment(JOB)  # nothing written


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("  parameters:\n", "  parameters: 5\n  unused:\n"),
        ("  trialTemplate:\n    goTemplate:\n", "  trialTemplate: 3\n  unused:\n    goTemplate:\n"),
        ("    goTemplate:\n", "    goTemplate: 3\n    unused:\n"),
        ("        containers:\n", "        containers: 3\n        unused:\n"),
        ("kind: Job", "kind: Workflow"),
        ("spec:\n  objective", "spec: [1]\nunused:\n  objective"),
    ],
)
def test_malformed_experiments_are_reported_never_a_crash(old: str, new: str) -> None:
    source = experiment(JOB)
    assert source.count(old) == 1
    result = migrate(source.replace(old, new))
    assert result.errors and result.text == ""


def test_the_migration_library_imports_no_command() -> None:
    """katib_gitops.migration sits below the commands: the importer uses it without loading `migrate`'s command."""
    probe = (
        "import sys, katib_gitops.migration.convert; "
        "print(sorted(m for m in sys.modules if m.startswith(('katib_gitops.commands', 'katib_gitops.cli'))))"
    )
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
