"""An apiVersion its project stopped serving is named so, with the release; a deprecated --crd version warns.

The API server answers a removed version with "no matches for kind": "no schema, pass a CRD" would send the
author the wrong way. The removals are the projects' own (schema/removed.py cites them); a deprecated version
of a given CRD is what apiextensions-apiserver warns about on every request (the version's deprecationWarning).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.schema import removed

PSP = "apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata:\n  name: p\nspec: {}\n"
KS_V1BETA2 = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2\nkind: Kustomization\nmetadata:\n  name: apps\n"
    "spec:\n  interval: 10m\n"
)
# A CRD that still serves v1beta2, deprecated (as kustomize-controller v1.6 and v1.7 did), beside v1.
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: kustomizations.kustomize.toolkit.fluxcd.io
spec:
  group: kustomize.toolkit.fluxcd.io
  names: {kind: Kustomization, plural: kustomizations, singular: kustomization, listKind: KustomizationList}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {interval: {type: string}}}}}
  - name: v1beta2
    served: true
    storage: false
    deprecated: true
    {warning}
    schema:
      openAPIV3Schema: {type: object, properties: {spec: {type: object, properties: {interval: {type: string}}}}}
"""


def _report(tmp_path: Path, text: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", "--format", "json", "--no-config", *args, str(path)])
    return result.exit_code, json.loads(result.stdout)["diagnostics"]


def test_a_pod_security_policy_is_removed_since_kubernetes_1_25_not_a_missing_schema(tmp_path: Path) -> None:
    code, found = _report(tmp_path, PSP)
    assert code == 1
    [d] = found
    assert (d["rule_id"], d["line"], d["column"], d["severity"]) == ("removed-api", 1, 13, "error")
    assert "no longer served: Kubernetes 1.25 removed it" in str(d["message"])
    assert "Pod Security Admission" in str(d["hint"]) and "--crd" not in str(d["hint"])


def test_removed_api_is_reported_even_with_ignore_missing_schemas(tmp_path: Path) -> None:
    # --ignore-missing-schemas passes kinds nobody gave a schema for; a removed version is refused by every cluster.
    code, found = _report(tmp_path, PSP, "--ignore-missing-schemas")
    assert code == 1 and [d["rule_id"] for d in found] == ["removed-api"]


def test_flux_v1beta2_is_removed_in_flux_2_8_unless_the_clusters_crd_still_serves_it(tmp_path: Path) -> None:
    code, found = _report(tmp_path, KS_V1BETA2)
    assert code == 1 and [d["rule_id"] for d in found] == ["removed-api"]
    assert "Flux 2.8 removed it" in str(found[0]["message"]) and "--crd" in str(found[0]["hint"])
    # With the cluster's CRD, that serves v1beta2 (deprecated): checked against it, and the API server's warning.
    crd = tmp_path / "crd.yaml"
    crd.write_text(CRD.replace("{warning}", "deprecationWarning: v1beta2 Kustomization is deprecated, upgrade to v1"))
    code, found = _report(tmp_path, KS_V1BETA2, "--crd", str(crd))
    assert code == 0
    [d] = found
    assert (d["rule_id"], d["severity"], d["line"], d["column"]) == ("deprecated-api", "warning", 1, 13)
    assert d["message"] == "v1beta2 Kustomization is deprecated, upgrade to v1"


def test_a_deprecated_version_without_its_own_warning_gets_the_api_servers_default(tmp_path: Path) -> None:
    crd = tmp_path / "crd.yaml"
    crd.write_text(CRD.replace("{warning}", ""))
    _, found = _report(tmp_path, KS_V1BETA2, "--crd", str(crd))
    assert [d["message"] for d in found] == ["kustomize.toolkit.fluxcd.io/v1beta2 Kustomization is deprecated"]


def test_a_kubernetes_removal_counts_from_its_release_on() -> None:
    assert removed.removal("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.25") is None
    gone = removed.removal("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26")
    assert gone is not None and gone.removed_in == "1.26"
    assert removed.removal("rbac.authorization.k8s.io/v1beta1", "Role", "1.30") is not None  # every kind of it
    assert removed.removal("apps/v1", "Deployment", "1.37") is None
    # Not Kubernetes releases: judged as today's Flux and Training Operator whatever --kubernetes-version says.
    assert removed.removal("kubeflow.org/v1", "MXJob", "1.25") is not None
