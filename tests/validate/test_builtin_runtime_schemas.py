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
