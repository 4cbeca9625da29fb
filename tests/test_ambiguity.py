"""Ambiguity findings only where a reader really differs, never at the cost of the rest of the file;
`--skip` and the skip annotation silence findings, never inputs (issue 12, items 1, 2 and 8).

Readers compared: go-yaml v2 (kubectl, Argo CD and Flux through sigs.k8s.io/yaml), go-yaml v3
(kustomize's kyaml) and a YAML 1.2 reader. Both go-yaml versions resolve a plain number by
dropping '_' and calling strconv.ParseInt(s, 0, 64) (0x, 0o, 0b and a leading-0 octal: v3's
resolve.go keeps YAML 1.1 octals "for compatibility"), so `0755`, `1_000` and `0.80` are the same
number to every Kubernetes reader; only where the field wants a string does the spelling matter,
and there the API server refuses the number anyway (a type error), which the finding explains.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.yamlio.documents import read_documents


def validate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def report(*args: str) -> tuple[int, dict[str, object], list[tuple[int, int, str]]]:
    code, out, _ = validate("--format", "json", *args)
    assert code in (0, 1), out
    parsed = json.loads(out)
    found = [(d["line"], d["column"], d["rule_id"]) for d in parsed["diagnostics"]]
    return code, parsed["summary"], found


CONFIGMAP_NUMBERS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  version: 1.10
  mode: 0755
  quoted: "1.10"
"""
BROKEN_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: many
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""
NOT_A_STRING = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
data:
  enabled: yes
"""


# ------------------------------------------------------------------ real-world files


def test_goal_0_80_in_an_experiment_is_the_float_katib_wants(shared: Path) -> None:
    # kubeflow/manifests tests/gh-actions/katib_test.yaml: `goal: 0.80`. Katib's ObjectiveSpec.Goal is a
    # *float64 (pkg/apis/controller/common/v1beta1/common_types.go) and kubectl sends the JSON number 0.8:
    # every reader agrees, the trailing zero means nothing in a number field. Upstream the file runs in CI.
    path = shared / "realworld" / "katib" / "kubeflow-manifests-gh-actions-2022-grid.yaml"
    text = path.read_text()
    assert "    goal: 0.80\n" in text
    (document,) = read_documents(text, str(path))
    assert document.data["spec"]["objective"]["goal"] == 0.8 and not document.findings
    code, summary, found = report(str(path))
    assert (code, found, summary["documents"]) == (0, [], 1)


def test_default_mode_0755_in_a_cronjob_is_octal_493_to_every_kubernetes_reader(shared: Path) -> None:
    # stefanprodan/podinfo deploy/bases/database/cronjob-backup-daily.yaml: `defaultMode: 0755`.
    # ConfigMapVolumeSource.defaultMode is an int32, and its API doc says "YAML accepts both octal and
    # decimal values, JSON requires decimal values for mode bits": go-yaml v2 (kubectl) and go-yaml v3
    # (kustomize) both read 0755 as 493, so the file is applied as written. Only a YAML 1.2 reader says 755.
    path = shared / "realworld" / "others" / "core-podinfo-cronjob-backup.yaml"
    text = path.read_text()
    line = text.splitlines().index("              defaultMode: 0755") + 1
    (document,) = read_documents(text, str(path))
    volume = document.data["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]
    assert volume["configMap"]["defaultMode"] == 493 and not document.findings
    assert [(d.line, d.column) for d in document.unless_accepted] == [(line, 28)]  # kept aside, not reported
    code, summary, found = report(str(path))
    assert (code, found, summary["documents"]) == (0, [], 1)


def test_real_files_next_to_a_broken_document_are_all_checked(shared: Path, tmp_path: Path) -> None:
    # The case: a file holding `goal: 0.80` was reported "(0 documents)" and hid the errors next to it.
    grid = (shared / "realworld" / "katib" / "kubeflow-manifests-gh-actions-2022-grid.yaml").read_text()
    path = tmp_path / "mixed.yaml"
    path.write_text(grid.rstrip("\n") + "\n---\n" + BROKEN_DEPLOYMENT)
    replicas = path.read_text().splitlines().index("  replicas: many") + 1
    code, summary, found = report(str(path))
    assert code == 1 and summary["documents"] == 2
    assert found == [(replicas, 13, "schema")]  # replicas: many, and nothing on goal: 0.80


# ------------------------------------------------------------------ by the field the scalar lands in


def test_a_number_spelling_is_reported_only_where_a_string_field_receives_it(tmp_path: Path) -> None:
    # ConfigMap data values are strings: kubectl sends the number 1.1 and the number 493, which the API
    # server refuses (type error); the yaml-ambiguous finding at the same node says why ("1.10" is lost).
    path = tmp_path / "cm.yaml"
    path.write_text(CONFIGMAP_NUMBERS)
    code, summary, found = report(str(path))
    assert code == 1 and summary["documents"] == 1
    assert found == [(6, 12, "schema"), (6, 12, "yaml-ambiguous"), (7, 9, "schema"), (7, 9, "yaml-ambiguous")]


@pytest.mark.parametrize("spelling", ["010", "1_000", "0b11", "3.50", "0o17"])
def test_a_number_spelling_in_a_number_field_is_fine(tmp_path: Path, spelling: str) -> None:
    # Deployment spec.replicas / minReadySeconds are int32: the same number to go-yaml v2 and v3 whatever
    # the spelling, so nothing differs where the object is applied ('3.50' is a float, refused as such,
    # with no word about the trailing zero: the field wants a number, not a string).
    path = tmp_path / "d.yaml"
    path.write_text(BROKEN_DEPLOYMENT.replace("replicas: many", f"minReadySeconds: {spelling}"))
    _, _, found = report(str(path))
    assert all(rule != "yaml-ambiguous" for _, _, rule in found)
    if spelling != "3.50":
        assert found == []


def test_a_yaml11_boolean_is_reported_and_the_other_documents_still_checked(tmp_path: Path) -> None:
    # `yes` is true to go-yaml v2 (kubectl) but the string "yes" to go-yaml v3 (kustomize): readers differ.
    path = tmp_path / "two.yaml"
    path.write_text(NOT_A_STRING + "---\n" + BROKEN_DEPLOYMENT)
    code, summary, found = report(str(path))
    assert code == 1 and summary["documents"] == 2
    assert found == [(6, 12, "schema"), (6, 12, "yaml-ambiguous"), (13, 13, "schema")]


# ------------------------------------------------------------------ --skip silences findings, never inputs


def test_skip_yaml_ambiguous_silences_the_finding_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(NOT_A_STRING + "---\n" + BROKEN_DEPLOYMENT)
    code, summary, found = report("--skip", "yaml-ambiguous", str(path))
    assert code == 1 and summary["documents"] == 2
    assert found == [(6, 12, "schema"), (13, 13, "schema")]


def test_the_skip_annotation_silences_its_own_document_only(tmp_path: Path) -> None:
    annotated = NOT_A_STRING.replace(
        "  name: flags\n", "  name: flags\n  annotations: {katib-gitops.dev/skip: 'yaml-ambiguous,schema'}\n"
    )
    path = tmp_path / "two.yaml"
    path.write_text(annotated + "---\n" + NOT_A_STRING.replace("flags", "other"))
    code, summary, found = report(str(path))
    assert code == 1 and summary["documents"] == 2
    assert found == [(14, 12, "schema"), (14, 12, "yaml-ambiguous")]


@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        ("a: [1\n", "yaml-syntax", (2, 1)),
        ("apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", "yaml-syntax", (3, 1)),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {yes: b}\n", "yaml-ambiguous", (4, 8)),
    ],
)
def test_skip_never_hides_a_file_that_could_not_be_read(
    tmp_path: Path, text: str, rule: str, where: tuple[int, int]
) -> None:
    # A syntax error, a duplicate key (Kubernetes drops one of the two) or a boolean key (sigs.k8s.io/yaml
    # turns it into "true"): the file cannot be read as written, so its documents would go unchecked.
    path = tmp_path / "bad.yaml"
    path.write_text(text + "---\n" + BROKEN_DEPLOYMENT)
    code, summary, found = report("--skip", rule, str(path))
    assert code == 1 and summary["documents"] == 0
    assert found == [(*where, rule)]


def test_an_unknown_skip_id_is_a_usage_error_with_a_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text(NOT_A_STRING)
    code, out, err = validate("--skip", "COUNT04", str(path))
    assert code == 2 and out == ""
    assert "--skip COUNT04: no such rule; did you mean COUNT-04" in err and "katib-gitops rules" in err
    code, _, err = validate("--skip", "schema,yaml-ambigous", str(path))
    assert code == 2 and "did you mean yaml-ambiguous" in err


def test_a_trailing_zero_in_a_katib_string_field_is_explained(shared: Path, tmp_path: Path) -> None:
    # Katib's FeasibleSpace.Max is a string (common_types.go): `max: 0.010` reaches the API server as the
    # number 0.01, which the CRD schema refuses (G-03); yaml-ambiguous at the same node says what was lost.
    text = (shared / "realworld" / "katib" / "kubeflow-manifests-gh-actions-2022-grid.yaml").read_text()
    assert "        max: '0.01'\n" in text
    path = tmp_path / "grid.yaml"
    path.write_text(text.replace("        max: '0.01'\n", "        max: 0.010\n", 1))
    line = path.read_text().splitlines().index("        max: 0.010") + 1
    code, _, found = report(str(path))
    assert code == 1 and found == [(line, 14, "G-03"), (line, 14, "yaml-ambiguous")]
