"""Issue 12, item 6: every unknown field of a mapping, `kind: List` inputs and CRD files, built-in schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
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


def test_crds_in_a_kind_list_are_loaded(tmp_path: Path) -> None:
    # `kubectl get crd widgets.example.com gadgets.example.com -o yaml` prints one List of both.
    path = tmp_path / "crds.yaml"
    crds = [_crd({"type": "object", "properties": {"size": {"type": "integer"}}}, "Widget"), _crd({}, "Gadget")]
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": crds}))
    assert sorted(crd.load_crds(path)) == [("example.com", "Gadget"), ("example.com", "Widget")]
    widget = tmp_path / "w.yaml"
    widget.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n")
    code, found = run("--crd", str(path), str(widget))
    assert code == 1 and [d["path"] for d in found] == ["spec.size"]


# ------------------------------------------------------------------ --crd: as the API server admits


def _crd(spec_schema: dict[str, object], kind: str = "Gizmo") -> dict[str, object]:
    """A CRD of example.com/<kind> v1 whose `spec` has `spec_schema`."""
    plural = f"{kind.lower()}s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": kind, "plural": plural},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}},
                }
            ],
        },
    }


GIZMO = _crd(
    {
        "type": "object",
        "required": ["size"],
        "x-kubernetes-validations": [
            {"rule": "self.size <= self.limit", "message": "size must not exceed limit"},
            {"rule": "self.size == oldSelf.size", "message": "size is immutable"},
            {"rule": "isURL(self.home)", "message": "home must be a URL", "fieldPath": ".home"},
        ],
        "properties": {
            "size": {"type": "integer", "default": 1},
            "limit": {"type": "integer", "default": 10},
            "note": {"type": "string"},
            "comment": {"type": "string", "nullable": True},
            "home": {"type": "string", "default": "https://example.com"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "x-kubernetes-validations": [{"rule": "self != 'node'"}]}
                    },
                },
            },
        },
    }
)


def gizmo(**spec: object) -> dict[str, object]:
    return {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}, "spec": spec}


def test_nulls_are_pruned_where_not_nullable_and_defaults_applied() -> None:
    # apiextensions-apiserver: PruneNonNullableNullsWithoutDefaults, then Default, then validation.
    admitted = crd.admitted(gizmo(note=None, comment=None, size=None), GIZMO)
    assert admitted["spec"] == {"comment": None, "size": 1, "limit": 10, "home": "https://example.com"}
    # `size` is required, but its default fills it before validation: the API server accepts it.
    assert crd.validate(gizmo(), GIZMO) == []
    assert crd.validate(gizmo(note=None), GIZMO) == []
    assert crd.validate(gizmo(note=3), GIZMO) == ["spec.note: 3 is not of type 'string'"]


def test_cel_rules_run_on_the_defaulted_object_and_transition_rules_are_skipped() -> None:
    results = crd.cel_results(crd.admitted(gizmo(size=11), GIZMO), GIZMO)
    # self.size <= self.limit breaks with the default limit 10; `oldSelf` (update only) is skipped;
    # isURL is a Kubernetes CEL library function the CEL library lacks: not evaluated, named.
    assert results == [
        crd.CelResult(["spec"], "size must not exceed limit", True),
        crd.CelResult(["spec", "home"], "CEL rule not evaluated: isURL(self.home)", False),
    ]
    nested = crd.cel_results(crd.admitted(gizmo(items=[{"name": "a"}, {"name": "node"}]), GIZMO), GIZMO)
    assert crd.CelResult(["spec", "items", 1, "name"], "failed rule: self != 'node'", True) in nested


def test_validate_crd_reports_cel_violations_and_unevaluated_rules(tmp_path: Path) -> None:
    from katib_gitops.yamlio.writer import dump

    (tmp_path / "crd.yaml").write_text(dump(GIZMO))
    (tmp_path / "g.yaml").write_text(dump(gizmo(size=11, note=None)))
    code, found = run("--crd", str(tmp_path / "crd.yaml"), str(tmp_path / "g.yaml"))
    assert code == 1
    assert sorted((d["path"], d["rule_id"], d["severity"], d["message"]) for d in found) == [
        ("spec", "schema", "error", "size must not exceed limit"),
        ("spec.home", "crd-cel-unchecked", "warning", "CEL rule not evaluated: isURL(self.home)"),
    ]


# ------------------------------------------------------------------ real CRDs and their instances

ROLLOUT_CRD = "argo-rollouts-rollout-v1.9.1.yaml"
KYVERNO_CRD = "kyverno-clusterpolicies-v1.19.0.yaml"
# crd-instances/: each file's verdict under its upstream CRD, and why.
INSTANCES: dict[str, tuple[list[tuple[str, str]], str]] = {
    "argo-rollouts-rollout-analysis-step.yaml": ([], "Argo Rollouts v1.9.1 example: valid"),
    "argo-rollouts-rollout-bluegreen.yaml": ([], "Argo Rollouts v1.9.1 example (with a Service each side): valid"),
    "argo-rollouts-rollout-canary.yaml": ([], "Argo Rollouts v1.9.1 example: valid"),
    "argo-rollouts-rollout-experiment-step.yaml": ([], "Argo Rollouts v1.9.1 example: valid"),
    "kyverno-verify-flux-images.yaml": ([], "flux2-multi-tenancy's Kyverno policy: valid under Kyverno v1.19"),
    "kyverno-verify-git-repositories.yaml": ([], "flux2-multi-tenancy's Kyverno policy: valid"),
    # spec.revisionHistoryLimit (*int32, no `nullable`, no default): the API server prunes the null.
    "probe-rollout-canary-null-field.yaml": ([], "a null in a non-nullable field is pruned, not refused"),
    "broken-kyverno-enum.yaml": (
        [("spec.validationFailureAction", "schema")],
        "validationFailureAction has enum audit/enforce/Audit/Enforce: 'Block' is refused",
    ),
    "broken-kyverno-kinds-string.yaml": (
        [("spec.rules[0].match.any[0].resources.kinds", "schema")],
        "resources.kinds is an array of strings: a string is refused",
    ),
    "broken-rollout-canary-float-duration.yaml": (
        [("spec.strategy.canary.steps[3].pause.duration", "schema")],
        "pause.duration is x-kubernetes-int-or-string: a float is refused",
    ),
    "broken-rollout-canary-string-replicas.yaml": (
        [("spec.replicas", "schema")],
        "replicas is an integer: 'five' is refused",
    ),
    "broken-rollout-canary-unknown-field.yaml": (
        [("spec.strategy.canary.steps[0].setWieght", "schema")],
        "setWieght is not a field of a canary step: pruned, refused under strict field validation",
    ),
    # The CRD schema accepts it: the API server refuses metadata.name 'Rollout-Canary' (not a DNS-1123
    # subdomain) in ObjectMeta validation, which is the metadata layer's (issue 12, item 4), not the schema's.
    "broken-rollout-canary-bad-name.yaml": ([], "only the name is wrong: ObjectMeta's check, not the CRD schema's"),
}
SCHEMA_RULES = {"schema", "crd-cel-unchecked"}


def test_every_crd_instance_is_listed(shared: Path) -> None:
    assert {p.name for p in (shared / "realworld" / "others" / "crd-instances").glob("*.yaml")} == set(INSTANCES)


@pytest.mark.parametrize("name", list(INSTANCES))
def test_crd_instances_get_the_upstream_verdict(name: str, shared: Path) -> None:
    others = shared / "realworld" / "others"
    expected, reason = INSTANCES[name]
    crds = ("--crd", str(others / "crds" / ROLLOUT_CRD), "--crd", str(others / "crds" / KYVERNO_CRD))
    _, found = run(*crds, str(others / "crd-instances" / name))
    assert sorted((d["path"], d["rule_id"]) for d in found if d["rule_id"] in SCHEMA_RULES) == expected, reason


TRAINER_CRDS = ("trainer-trainingruntimes-v2.3.0.yaml", "trainer-clustertrainingruntimes-v2.3.0.yaml")


def test_trainer_runtimes_under_their_crds_match_the_built_in_schema(shared: Path) -> None:
    # The same files through --crd (the CRD's schema, defaults and CEL rules) and through the built-in schema
    # (tests/validate/test_builtin_runtime_schemas.py): the same verdicts. The v2.0 runtimes' torch.numProcPerNode
    # is unknown to v2.3; the CEL rules of the v2.3 CRD (one ML policy, flux numProcPerNode >= 1, ...) all hold.
    others = shared / "realworld" / "others"
    files = sorted(others.glob("trainer-ctr-*.yaml")) + [others / "kueue-doc-trainingruntime.yaml"]
    crds = [arg for file in TRAINER_CRDS for arg in ("--crd", str(others / "crds" / file))]
    _, through_crd = run(*crds, *map(str, files))
    _, built_in = run(*map(str, files))
    key = [(Path(str(d["file"])).name, d["path"], d["rule_id"]) for d in through_crd]
    assert key == [(Path(str(d["file"])).name, d["path"], d["rule_id"]) for d in built_in]
    assert sorted(key) == [
        ("kueue-doc-trainingruntime.yaml", "spec.mlPolicy.torch.numProcPerNode", "schema"),
        ("trainer-ctr-torch-distributed-v2.0.0.yaml", "spec.mlPolicy.torch.numProcPerNode", "schema"),
    ]
