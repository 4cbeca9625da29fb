"""Built-in schemas: Trainer v2.3 TrainingRuntime, ClusterTrainingRuntime, Flux OCIRepository v1 (issue 12, item 6).

Ours are written by hand (schemas/trainingruntime.schema.json, schemas/flux-ocirepository.schema.json);
the reference is the upstream CRD in ../shared/realworld/others/crds (Trainer v2.3.0's
manifests/base/crds, source-controller v1.6.2 and main), through katib_gitops.schema.crd, i.e.
what the API server enforces plus strict unknown fields. Whatever the CRD accepts, ours
accepts; what the CRD refuses or prunes as unknown, ours refuses. The CRD's CEL rules that need
no old object are written in ours as schema keywords (katib_gitops.schema.crd does not run them).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.schema import crd, manifests
from katib_gitops.yamlio.documents import load_documents
from tests.validate.test_job_gitops_schemas import _at, _object_paths, _variants, errors

CRDS = {
    ("trainer.kubeflow.org/v1alpha1", "TrainingRuntime"): "trainer-trainingruntimes-v2.3.0.yaml",
    ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"): "trainer-clustertrainingruntimes-v2.3.0.yaml",
    ("source.toolkit.fluxcd.io/v1", "OCIRepository"): "flux-ocirepositories-v1.6.2.yaml",
}
OCI_MAIN = "flux-ocirepositories-main.yaml"
NAMES = {key: manifests.CATALOG[key] for key in CRDS}


@functools.cache
def _converted(others: str, file: str, version: str) -> dict[str, Any]:
    (definition,) = crd.load_crds(Path(others) / "crds" / file).values()
    return crd.schema_for(definition, version)


def upstream(shared: Path, obj: dict[str, Any], file: str | None = None) -> list[str]:
    key = (obj["apiVersion"], obj["kind"])
    return crd.check(
        obj,
        _converted(
            str(shared / "realworld" / "others"),
            file or CRDS[key],
            "v1" if "flux" in (file or CRDS[key]) else "v1alpha1",
        ),
    )


def test_the_catalog_has_them() -> None:
    assert NAMES == {
        ("trainer.kubeflow.org/v1alpha1", "TrainingRuntime"): "trainingruntime",
        ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"): "trainingruntime",
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"): "flux-ocirepository",
    }


# Each real file of these kinds, its verdict and why (from the upstream CRD).
REAL: dict[str, tuple[list[tuple[str, str]], str]] = {
    "trainer-ctr-deepspeed-v2.3.0.yaml": ([], "Trainer v2.3.0's own deepspeed runtime: valid under its CRD"),
    "trainer-ctr-flux-runtime.yaml": ([], "Trainer v2.3.0's Flux Framework example runtime (mlPolicy.flux): valid"),
    "trainer-ctr-jax-v2.3.0.yaml": ([], "Trainer v2.3.0's JAX runtime: valid"),
    "trainer-ctr-torch-distributed-v2.3.0.yaml": ([], "Trainer v2.3.0's torch runtime: valid"),
    "trainer-ctr-torchtune-llama-1b-v2.3.0.yaml": (
        [],
        "Trainer v2.3.0's torchtune runtime (initializers, dependsOn): valid",
    ),
    "trainer-multi-step-bundle.yaml": ([], "Trainer v2.3.0 example: a TrainingRuntime and a TrainJob, both valid"),
    "trainer-trainjob-volcano.yaml": (
        [],
        "Trainer v2.3.0 example: podGroupPolicy.volcano runtime and its TrainJob: valid",
    ),
    # v2.0.0's torch policy had numProcPerNode; v2.3.0's TorchMLPolicySource has only envInjection,
    # so the v2.3 API server prunes the field (and strict field validation refuses it).
    "trainer-ctr-torch-distributed-v2.0.0.yaml": (
        [("spec.mlPolicy.torch.numProcPerNode", "unknown field")],
        "torch.numProcPerNode is not a field of Trainer v2.3's TorchMLPolicySource",
    ),
    "kueue-doc-trainingruntime.yaml": (
        [("spec.mlPolicy.torch.numProcPerNode", "unknown field")],
        "Kueue's docs copy the v2.0 runtime: torch.numProcPerNode is gone in v2.3",
    ),
    "flux-sc-sample-ocirepository.yaml": ([], "source-controller's own v1 sample: valid"),
    "flux-sc-ocirepo-cosign-keyless.yaml": (
        [],
        "source-controller test data, keyless cosign (matchOIDCIdentity): valid",
    ),
}


def _objects(path: Path) -> list[dict[str, Any]]:
    return [
        d.data
        for d in load_documents(path.read_text(encoding="utf-8"), str(path), strict=False)
        if (d.data.get("apiVersion"), d.data.get("kind")) in CRDS
    ]


@pytest.mark.parametrize("name", list(REAL))
def test_real_files_get_the_upstream_verdict(name: str, shared: Path) -> None:
    expected, reason = REAL[name]
    objects = _objects(shared / "realworld" / "others" / name)
    assert objects, name
    ours = sorted({e for obj in objects for e in errors(obj, NAMES[(obj["apiVersion"], obj["kind"])])})
    theirs = sorted({p for obj in objects for p in upstream(shared, obj)})
    assert ours == expected, reason
    assert [p.split(":")[0] for p in theirs] == [path for path, _ in expected], reason
    if "ocirepo" in name:  # the main branch's CRD agrees (v1 only there)
        assert [p for obj in objects for p in upstream(shared, obj, OCI_MAIN)] == theirs


def test_every_real_file_of_these_kinds_is_listed(shared: Path) -> None:
    others = shared / "realworld" / "others"
    found = {p.name for p in others.glob("*.yaml") if _objects(p)}
    assert found == set(REAL)


def test_validate_gives_the_verdicts(shared: Path) -> None:
    others = shared / "realworld" / "others"
    result = CliRunner().invoke(main, ["validate", "--format", "json", *(str(others / n) for n in REAL)])
    found = json.loads(result.stdout)["diagnostics"]
    assert sorted((Path(d["file"]).name, d["path"], d["rule_id"]) for d in found) == sorted(
        (name, path, "schema") for name, (expected, _) in REAL.items() for path, _ in expected
    )


# CEL rules of the CRD (x-kubernetes-validations without oldSelf) that ours encodes, and what an
# exemplar with every declared field set breaks on purpose.
EXEMPLAR_ERRORS = {
    "trainingruntime": {
        # "Only one of the policy can be configured": the exemplar sets all five.
        ("spec.mlPolicy", "not"),
        # "namespace cannot be set for VolumeClaimPolicies templates".
        ("spec.template.spec.volumeClaimPolicies[0].templates[0].metadata.namespace", "maxLength"),
    },
    "flux-ocirepository": set(),
}


STRINGS = ("x", "1", "1m", "oci://example.com/x", "https://example.com/x", "2026-01-01T00:00:00Z", "a")


def exemplar(node: dict[str, Any]) -> Any:
    """A value for a converted CRD schema with every declared field set (tests.validate.test_job_gitops_schemas'
    exemplar, with strings for the patterns of these CRDs)."""
    types = node.get("type")
    types = [t for t in ([types] if isinstance(types, str) else types or []) if t != "null"]
    if "enum" in node:
        return node["enum"][0]
    if "properties" in node:
        # Every field but an object's status (written by controllers; dependsOn's status enum is a field).
        return {k: exemplar(v) for k, v in node["properties"].items() if not (k == "status" and "properties" in v)}
    if "integer" in types:
        return max(1, node.get("minimum", 1))
    if "string" in types:
        if node.get("format") == "date-time":
            return STRINGS[5]
        return next((s for s in STRINGS if "pattern" not in node or re.search(node["pattern"], s)), "x")
    if "boolean" in types:
        return True
    if "array" in types:
        return [exemplar(node.get("items", {}))]
    if isinstance(node.get("additionalProperties"), dict):
        return {"key": exemplar(node["additionalProperties"])}
    return {} if "object" in types else "x"


def _exemplar(shared: Path, key: tuple[str, str]) -> dict[str, Any]:
    obj: dict[str, Any] = exemplar(
        _converted(str(shared / "realworld" / "others"), CRDS[key], "v1" if "flux" in CRDS[key] else "v1alpha1")
    )
    obj.update(apiVersion=key[0], kind=key[1], metadata={"name": "x"})
    return obj


def _lean(obj: dict[str, Any]) -> dict[str, Any]:
    """Kubernetes core types (JobSpec, PersistentVolumeClaimSpec) reduced to a minimal valid value: ours takes
    them from kubernetes-validate, whose strict schemas are tested elsewhere."""
    obj = copy.deepcopy(obj)
    spec = obj["spec"].get("template", {}).get("spec")
    if spec:
        for job in spec["replicatedJobs"]:
            job["template"]["spec"] = {"template": {"spec": {"containers": [{"name": "node", "image": "x"}]}}}
        for policy in spec["volumeClaimPolicies"]:
            for template in policy["templates"]:
                template["spec"] = {"accessModes": ["ReadWriteOnce"]}
    return obj


@pytest.mark.parametrize("key", list(CRDS), ids=[k[1] for k in CRDS])
def test_every_field_upstream_declares_is_accepted(key: tuple[str, str], shared: Path) -> None:
    obj = _lean(_exemplar(shared, key))
    assert upstream(shared, obj) == []
    assert {(p, k) for p, k in errors(obj, NAMES[key])} == EXEMPLAR_ERRORS[NAMES[key]]


def _one_policy(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    if "mlPolicy" in obj["spec"]:
        for other in ("mpi", "jax", "xgboost", "flux"):
            del obj["spec"]["mlPolicy"][other]
        for policy in obj["spec"]["template"]["spec"]["volumeClaimPolicies"]:
            for template in policy["templates"]:
                template["metadata"].pop("namespace")
    return obj


# Deliberately stricter than the CRD, as for GitRepository (schemas/flux-gitrepository.schema.json): the CRD
# does not require `spec`, but source-controller cannot reconcile an OCIRepository without its url.
DELIBERATE = {("spec", "required")}


@pytest.mark.parametrize("key", list(CRDS), ids=[k[1] for k in CRDS])
def test_one_field_less_or_one_unknown_field_more_we_agree_with_upstream(key: tuple[str, str], shared: Path) -> None:
    """Leaving any one field out, we refuse only what upstream refuses; adding an unknown field anywhere,
    we refuse it wherever upstream does."""
    obj = _one_policy(_lean(_exemplar(shared, key)))
    assert upstream(shared, obj) == [] and errors(obj, NAMES[key]) == []
    too_strict, too_lax, checked = [], [], 0
    for change, variant in _variants(obj):
        theirs, ours = upstream(shared, variant), errors(variant, NAMES[key])
        checked += 1
        if not theirs and set(ours) - DELIBERATE:
            too_strict.append(f"{change}: {ours}")
        if any("unknown field" in p for p in theirs) and not ours:
            too_lax.append(change)
    assert checked > 40
    assert too_strict == [] and too_lax == []


MLPOLICY_CEL = [
    # CEL: [has(self.torch), has(self.mpi), ...].filter(x, x).size() <= 1
    ({"numNodes": 1, "torch": {}, "mpi": {}}, [("spec.mlPolicy", "not")]),
    ({"numNodes": 1, "jax": {}}, []),
    # CEL: flux numProcPerNode: self >= 1
    ({"flux": {"numProcPerNode": 0}}, [("spec.mlPolicy.flux.numProcPerNode", "minimum")]),
    # CEL: !self.exists(c, c == 'node')
    (
        {"torch": {"envInjection": {"targets": [{"jobName": "launcher", "containerNames": ["node"]}]}}},
        [("spec.mlPolicy.torch.envInjection.targets[0].containerNames[0]", "not")],
    ),
]


@pytest.mark.parametrize(("policy", "expected"), MLPOLICY_CEL)
def test_the_crd_cel_rules_are_encoded(policy: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    obj = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "ClusterTrainingRuntime",
        "metadata": {"name": "x"},
        "spec": {"mlPolicy": policy},
    }
    assert errors(obj, "trainingruntime") == expected


def test_startup_policy_in_order_excludes_depends_on() -> None:
    # CEL on the JobSet spec: !(has(self.startupPolicy) && self.startupPolicy.startupPolicyOrder == 'InOrder'
    #                          && self.replicatedJobs.exists(x, has(x.dependsOn)))
    job = {"template": {"spec": {"template": {"spec": {"containers": [{"name": "node", "image": "x"}]}}}}}
    spec = {
        "startupPolicy": {"startupPolicyOrder": "InOrder"},
        "replicatedJobs": [
            {"name": "a", **job},
            {"name": "b", **job, "dependsOn": [{"name": "a", "status": "Complete"}]},
        ],
    }
    obj = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainingRuntime",
        "spec": {"template": {"spec": spec}},
    }
    assert errors(obj, "trainingruntime") == [("spec.template.spec", "not")]
    spec["startupPolicy"] = {"startupPolicyOrder": "AnyOrder"}
    assert errors(obj, "trainingruntime") == []
    assert _at(obj, ("spec", "template", "spec", "replicatedJobs", 1, "dependsOn"))
    assert list(_object_paths({}))  # the helpers used above are the shared ones


# ------------------------------------------------------------------ ApplicationSet provider blocks, nulls


def _appsets(shared: Path) -> list[tuple[str, dict[str, Any]]]:
    others = shared / "realworld" / "others"
    files = sorted(
        [*others.glob("*appset*.yaml"), others / "argocd-doc-applicationset.yaml", *others.glob("probes/*appset*")]
    )
    return [
        (f.name, d.data)
        for f in files
        for d in load_documents(f.read_text(encoding="utf-8"), str(f), strict=False)
        if d.data.get("kind") == "ApplicationSet"
    ]


# Verdicts of the ApplicationSets of realworld/ that are not plain valid, from Argo CD's ApplicationSet CRD
# (../shared/upstream/argo-cd/crds, v3.5): paths the API server refuses (unknown under strict field
# validation, or required after the nulls are pruned).
APPSET_FINDINGS = {
    # A mutation: scmProvider.github's field is `organization` (SCMProviderGeneratorGithub), so the
    # misspelt `organisation` is unknown and the required organization is missing.
    "probe-argocd-appset-scm-github-typo.yaml": [
        "spec.generators[0].scmProvider.github.organisation",
        "spec.generators[0].scmProvider.github.organization",
    ],
    # Argo CD's reference page lists every field, with placeholders: where it puts fields of other
    # generators or older releases, the CRD has no such field; its null provider blocks are pruned.
    "argocd-doc-applicationset.yaml": [
        "spec.generators[0].list.template.spec.source.revision",
        "spec.generators[3].scmProvider.github.values",
        "spec.generators[4].configMapRef",
        "spec.generators[4].labelSelector",
        "spec.generators[4].name",
        "spec.generators[4].requeueAfterSeconds",
        "spec.generators[5].pullRequest.awsCodeCommit",
        "spec.generators[6].matrix.generators",
        "spec.generators[8].configMapRef",
        "spec.generators[8].input",
        "spec.template.spec.source.helm.useCredentials",
        "spec.template.spec.source.parameters",
    ],
}


def test_applicationsets_get_the_upstream_verdict_provider_blocks_included(shared: Path) -> None:
    (definition,) = crd.load_crds(shared / "upstream" / "argo-cd" / "crds" / "applicationset-crd.yaml").values()
    appsets = _appsets(shared)
    assert len(appsets) >= 19
    result = CliRunner().invoke(
        main, ["validate", "--format", "json", *sorted({str(p) for p in _appset_files(shared)})]
    )
    reported: dict[str, list[str]] = {}
    for d in json.loads(result.stdout)["diagnostics"]:
        # A missing field is reported at its parent ("'x' is required"); the CRD check names the field.
        missing = re.fullmatch(r"'(.+)' is required", d["message"])
        reported.setdefault(Path(d["file"]).name, []).append(f"{d['path']}.{missing[1]}" if missing else d["path"])
    for name, obj in appsets:
        theirs = sorted({p.split(":")[0] for p in crd.validate(obj, definition)})
        assert theirs == APPSET_FINDINGS.get(name, []), name
        assert sorted(reported.get(name, [])) == theirs, name


def test_a_null_unknown_field_in_a_trial_spec_is_pruned_not_refused(tmp_path: Path) -> None:
    # The same `creationTimestamp: null` in a TFJob trialSpec: Katib's controller creates the TFJob without
    # fieldValidation, so the API server's default (Warn) prunes the unknown null and the trial runs. A value
    # there is still reported: the field is dropped, so what it says never takes effect.
    text = TRIAL_NULL
    path = tmp_path / "e.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    path.write_text(text.replace("creationTimestamp: null", "creationTimestamp: '2026-01-01T00:00:00Z'"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1 and "unknown field 'creationTimestamp' [trial-schema]" in result.output


TRIAL_NULL = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ct-null, namespace: team-a}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: random}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
  trialTemplate:
    primaryContainerName: tensorflow
    trialParameters: [{name: lr, reference: lr}]
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: TFJob
      spec:
        tfReplicaSpecs:
          Worker:
            replicas: 1
            restartPolicy: OnFailure
            template:
              metadata:
                creationTimestamp: null
              spec:
                containers:
                  - {name: tensorflow, image: x, command: [python, train.py, "--lr=${trialParameters.lr}"]}
"""


def _appset_files(shared: Path) -> list[Path]:
    others = shared / "realworld" / "others"
    return [*others.glob("*appset*.yaml"), others / "argocd-doc-applicationset.yaml", *others.glob("probes/*appset*")]


def test_a_null_field_of_a_custom_resource_is_pruned_not_refused(shared: Path) -> None:
    # probe-appset-generator-template-null: `goTemplateOptions:` (null). The CRD's field is a non-nullable
    # array: apiextensions-apiserver prunes the null before validating (PruneNonNullableNullsWithoutDefaults),
    # so the API server accepts it; so does validate.
    others = shared / "realworld" / "others" / "probes"
    result = CliRunner().invoke(main, ["validate", str(others / "probe-appset-generator-template-null.yaml")])
    assert result.exit_code == 0, result.output
    # A TFJob pod template's `creationTimestamp: null` is no such case: the v1.9 CRD's embedded metadata declares
    # only annotations, finalizers, labels, name and namespace, so the field is unknown, null or not, and a strict
    # apply refuses it ("strict decoding error: unknown field ...metadata.creationTimestamp").
    result = CliRunner().invoke(main, ["validate", str(others / "probe-tfjob-template-creationtimestamp-null.yaml")])
    assert result.exit_code == 1, result.output
    assert "unknown field 'creationTimestamp'" in result.output
    # An unknown field stays unknown when it is null: pruning unknown fields does not look at values.
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "a"},
        "spec": {"goTemplateOptions": None, "generators": [{"list": {"elements": []}, "lst": None}], "template": {}},
    }
    assert manifests.without_nulls(obj)["spec"] == {"generators": [{"list": {"elements": []}}], "template": {}}


@pytest.mark.parametrize("name", ["trainingruntime", "flux-ocirepository"])
def test_schema_files_are_strict_described_draft_2020_12(name: str) -> None:
    from jsonschema import Draft202012Validator

    from tests.validate.test_job_gitops_schemas import _schema, _walk

    schema = _schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://katib-gitops.dev/schemas/{name}.schema.json"
    assert schema["title"] and schema["description"]
    free = set()
    for path, node in _walk(schema):
        if node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, path
        if (
            node.get("type") == "object"
            and not {"properties", "additionalProperties"} & set(node)
            and "/not" not in path
        ):
            free.add(path)
        for key, value in (node.get("properties") or {}).items() if "/not" not in path else []:  # not conditions
            assert value.get("description"), f"{path}/properties/{key}"
    # Free-form: only what controllers write, and the PVC templates' status (the CRD declares it; never read).
    assert free == {"/properties/status"} | (
        {"/$defs/jobSetSpec/properties/volumeClaimPolicies/items/properties/templates/items/properties/status"}
        if name == "trainingruntime"
        else set()
    )
