"""Issue 12, item 6: every unknown field of a mapping, `kind: List` inputs and CRD files, built-in schemas."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.schema import crd


def run(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["validate", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx
          imagePullPolcy: Always
          portz: []
"""


def test_every_unknown_field_of_a_mapping_is_reported(tmp_path: Path) -> None:
    # The API server (fieldValidation=Strict, kubectl's default since 1.27) lists every unknown
    # field of the object, not the first one: `unknown field "spec.template.spec.containers[0].portz"`
    # and `unknown field "...imagePullPolcy"` together. So does validate, one finding per field at its key.
    path = tmp_path / "d.yaml"
    path.write_text(DEPLOYMENT)
    code, found = run(str(path))
    assert code == 1
    assert sorted((d["path"], d["line"], d["message"]) for d in found) == [
        ("spec.template.spec.containers[0].imagePullPolcy", 15, "unknown field 'imagePullPolcy'"),
        ("spec.template.spec.containers[0].portz", 16, "unknown field 'portz'"),
    ]
    hints = {d["path"]: d.get("hint") for d in found}
    assert hints["spec.template.spec.containers[0].imagePullPolcy"] == "did you mean 'imagePullPolicy'?"


LIST = """\
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: good
    data: {a: "1"}
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: bad
    data: {a: 1}
"""


def test_a_kind_list_stands_for_its_items(tmp_path: Path) -> None:
    # kubectl's resource builder flattens a v1 List into its items before sending them
    # (k8s.io/cli-runtime pkg/resource FlattenListVisitor): each item is created as an object
    # of its own; the List itself is never sent. Here the second ConfigMap's data value is
    # an integer, which ConfigMap.data (map[string]string) refuses; the first item passes.
    path = tmp_path / "list.yaml"
    path.write_text(LIST)
    code, found = run(str(path))
    assert code == 1
    assert [(d["path"], d["line"]) for d in found] == [("data.a", 15)]


def test_an_empty_kind_list_is_no_object(tmp_path: Path) -> None:
    # `kubectl get configmap -l none -o yaml` prints an empty List: it stands for no object, and
    # `kubectl apply -f` of it fails with "no objects passed to apply"; a named input without
    # objects is empty-input, as an empty file is.
    path = tmp_path / "empty.yaml"
    path.write_text("apiVersion: v1\nkind: List\nitems: []\n")
    code, found = run(str(path))
    assert code == 1 and [d["rule_id"] for d in found] == ["empty-input"]


CRD_LIST = """\
apiVersion: v1
kind: List
items:
  - apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    spec:
      group: example.com
      names: {kind: Widget, plural: widgets}
      scope: Namespaced
      versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    size: {type: integer}
  - apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: gadgets.example.com}
    spec:
      group: example.com
      names: {kind: Gadget, plural: gadgets}
      scope: Namespaced
      versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema: {type: object}
"""


def test_crds_in_a_kind_list_are_loaded(tmp_path: Path) -> None:
    # `kubectl get crd widgets.example.com gadgets.example.com -o yaml` prints one List of both.
    path = tmp_path / "crds.yaml"
    path.write_text(CRD_LIST)
    assert sorted(crd.load_crds(path)) == [("example.com", "Gadget"), ("example.com", "Widget")]
    widget = tmp_path / "w.yaml"
    widget.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n")
    code, found = run("--crd", str(path), str(widget))
    assert code == 1 and [d["path"] for d in found] == ["spec.size"]
