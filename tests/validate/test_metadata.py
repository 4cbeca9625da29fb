"""ObjectMeta as the API server checks it on create: the meta-* rules (generator/rules/metadata.py).

Each test names the upstream function whose verdict it asserts: k8s.io/apimachinery
pkg/api/validation/objectmeta.go (ValidateObjectMetaAccessor, ValidateAnnotations) and generic.go (the
name functions), pkg/apis/meta/v1/validation (ValidateLabels), pkg/util/validation (IsDNS1123Label,
IsDNS1123Subdomain, IsDNS1035Label, IsQualifiedName, IsValidLabelValue), the kinds' own validation in
k8s.io/kubernetes pkg/apis/*/validation, apiextensions-apiserver pkg/registry/customresource/validator.go
for custom resources, and k8s.io/apiserver (pkg/storage/etcd3/store.go Create, pkg/registry/rest).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from katib_gitops.cli.main import main
from katib_gitops.yamlio.writer import dump
from tests.validate.helpers import VALID

META = ("meta-name", "meta-generate-name", "meta-namespace", "meta-labels", "meta-annotations")
META += ("meta-resource-version", "meta-server-fields")
EXPERIMENT_VERSION = "experiment-version"


def run(tmp_path: Path, text: str, *args: str) -> tuple[int, list[str]]:
    """Exit code and the findings as 'severity RULE@line:column'."""
    path = tmp_path / "m.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", "--format", "json", *args, str(path)])
    assert result.exit_code in (0, 1), result.output
    found = json.loads(result.stdout)["diagnostics"]
    return result.exit_code, [f"{d['severity']} {d['rule_id']}@{d['line']}:{d['column']}" for d in found]


def configmap(metadata: str) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n" + metadata + "data: {}\n"


# ------------------------------------------------------------------ names


def test_a_pvc_name_with_upper_case_and_underscores_is_refused(tmp_path: Path) -> None:
    """core/validation ValidatePersistentVolumeClaim: NameIsDNSSubdomain (IsDNS1123Subdomain)."""
    text = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: TF_Serving_PVC\nspec: {}\n"
    assert run(tmp_path, text) == (1, ["error meta-name@4:9"])


def test_a_path_as_a_configmap_name_is_refused(tmp_path: Path) -> None:
    """core/validation ValidateConfigMapName is NameIsDNSSubdomain: no '/', no leading '.'."""
    assert run(tmp_path, configmap("  name: ../../etc/passwd\n")) == (1, ["error meta-name@4:9"])


def test_a_long_dotted_subdomain_name_is_fine(tmp_path: Path) -> None:
    """IsDNS1123Subdomain: dots between labels, up to 253 characters."""
    assert run(tmp_path, configmap("  name: " + ".".join(["a" * 60] * 4) + "\n")) == (0, [])
    assert run(tmp_path, configmap("  name: " + "a" * 254 + "\n")) == (1, ["error meta-name@4:9"])


def test_a_namespace_name_is_a_dns_label_without_dots(tmp_path: Path) -> None:
    """core/validation ValidateNamespaceName is apimachinery's NameIsDNSLabel."""
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team.a\n"
    assert run(tmp_path, text) == (1, ["error meta-name@4:9"])
    assert run(tmp_path, text.replace("team.a", "team-a")) == (0, [])


def test_a_service_name_is_a_dns_1035_label_starting_with_a_letter(tmp_path: Path) -> None:
    """core/validation ValidateServiceName is NameIsDNS1035Label: '1web' is refused, a Deployment may be named so."""
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n"
    assert run(tmp_path, service) == (1, ["error meta-name@4:9"])
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: 1web\nspec:\n  selector: {matchLabels: {a: b}}\n"
        "  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i}]}\n"
    )
    assert run(tmp_path, deployment) == (0, [])


def test_rbac_names_are_path_segments_so_colons_are_fine(tmp_path: Path) -> None:
    """rbac/validation ValidateRBACName is path.IsValidPathSegmentName: 'system:x' passes, '/' does not."""
    text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:aggregate-to-edit\n"
    assert run(tmp_path, text) == (0, [])
    assert run(tmp_path, text.replace("system:aggregate-to-edit", "team/edit")) == (1, ["error meta-name@4:9"])


def test_a_custom_resource_name_is_a_dns_subdomain(tmp_path: Path) -> None:
    """apiextensions-apiserver customresource/validator.go: ValidateObjectMetaAccessor with NameIsDNSSubdomain."""
    text = (
        "apiVersion: kubeflow.org/v1\nkind: TFJob\nmetadata:\n  name: My_Job\nspec:\n  tfReplicaSpecs:\n"
        "    Worker:\n      template:\n        spec: {containers: [{name: tensorflow, image: i}]}\n"
    )
    assert run(tmp_path, text) == (1, ["error meta-name@4:9"])


def test_a_crd_kind_from_crd_gets_the_custom_resource_name_check(shared: Path, tmp_path: Path) -> None:
    """The same customresource/validator.go check for a --crd kind: the CRD schema itself accepts the object."""
    others = shared / "realworld" / "others"
    path = others / "crd-instances" / "broken-rollout-canary-bad-name.yaml"
    crd = others / "crds" / "argo-rollouts-rollout-v1.9.1.yaml"
    result = CliRunner().invoke(main, ["validate", "--format", "json", "--crd", str(crd), str(path)])
    found = [(d["rule_id"], d["line"], d["column"]) for d in json.loads(result.stdout)["diagnostics"]]
    assert (result.exit_code, found) == (1, [("meta-name", 7, 9)])


def test_an_unknown_kind_is_judged_on_what_it_writes_when_a_crd_could_serve_it(tmp_path: Path) -> None:
    """Any custom resource's name is a DNS subdomain; a group without a dot is none a CRD can have
    (apiextensions ValidateCustomResourceDefinitionSpec), so a tool's configuration file is left alone."""
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: My_Widget\n"
    assert run(tmp_path, widget, "--ignore-missing-schemas") == (1, ["error meta-name@4:9"])
    config = "apiVersion: skaffold/v4beta6\nkind: Config\nmetadata:\n  name: My_App\n"
    assert run(tmp_path, config, "--ignore-missing-schemas") == (0, [])


def test_an_object_needs_a_name_or_a_generate_name(tmp_path: Path) -> None:
    """ValidateObjectMetaAccessor: 'name or generateName is required'; the server generates a name from the prefix."""
    assert run(tmp_path, configmap("  namespace: team-a\n")) == (1, ["error meta-name@3:1"])
    assert run(tmp_path, configmap("  generateName: settings-\n")) == (0, [])


def test_a_missing_metadata_is_one_finding(tmp_path: Path) -> None:
    """The Argo CD Application schema already requires metadata: that error alone, at the document."""
    text = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  project: default\n"
        "  source: {repoURL: 'https://x', path: apps}\n  destination: {server: 'https://s', namespace: team}\n"
    )
    assert run(tmp_path, text) == (1, ["error schema@1:1"])


# ------------------------------------------------------------------ generateName


def test_a_generate_name_may_end_in_a_dash_but_is_otherwise_a_name(tmp_path: Path) -> None:
    """ValidateObjectMetaAccessor checks generateName with the name function in prefix mode (maskTrailingDash)."""
    assert run(tmp_path, configmap("  generateName: Settings_\n")) == (1, ["error meta-generate-name@4:17"])
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  generateName: team-\n"
    assert run(tmp_path, namespace) == (0, [])


# ------------------------------------------------------------------ namespace


@pytest.mark.parametrize("namespace", ["Team_A", "<YOUR_USER_PROFILE_NAMESPACE>", "team.a"])
def test_a_namespace_is_a_dns_label(tmp_path: Path, namespace: str) -> None:
    """ValidateObjectMetaAccessor: a namespaced object's namespace passes ValidateNamespaceName (NameIsDNSLabel)."""
    text = configmap(f"  name: settings\n  namespace: '{namespace}'\n")
    assert run(tmp_path, text) == (1, ["error meta-namespace@5:14"])


def test_a_substituted_namespace_is_not_judged(tmp_path: Path) -> None:
    """Flux postBuild replaces ${...} before applying: the API server never sees the placeholder."""
    assert run(tmp_path, configmap("  name: settings\n  namespace: ${TEAM_NAMESPACE}\n")) == (0, [])


def test_a_namespace_on_a_cluster_scoped_kind_is_cleared_so_a_warning(tmp_path: Path) -> None:
    """rest.EnsureObjectNamespaceMatchesRequestNamespace clears it for a cluster-scoped kind: no refusal."""
    text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: x\n  namespace: Team_A\n"
    assert run(tmp_path, text) == (0, ["warning meta-namespace@5:14"])


# ------------------------------------------------------------------ labels and annotations


def test_label_keys_are_qualified_names(tmp_path: Path) -> None:
    """ValidateLabels -> IsQualifiedName: one optional DNS-subdomain prefix, a name part of at most 63."""
    text = configmap(
        "  name: settings\n  labels:\n    app.kubernetes.io/name: web\n    a/b/c: x\n    Example.com/x: v\n"
        f"    {'k' * 64}: z\n"
    )
    assert run(tmp_path, text) == (1, ["error meta-labels@7:5", "error meta-labels@8:5", "error meta-labels@9:5"])


def test_label_values_are_short_and_may_be_empty(tmp_path: Path) -> None:
    """ValidateLabels -> IsValidLabelValue: empty, or at most 63 of [A-Za-z0-9_.-] starting and ending alphanumeric."""
    text = configmap(f"  name: settings\n  labels:\n    empty: ''\n    long: {'v' * 64}\n    spaced: two words\n")
    assert run(tmp_path, text) == (1, ["error meta-labels@7:11", "error meta-labels@8:13"])


def test_annotation_keys_are_qualified_names_in_any_case(tmp_path: Path) -> None:
    """ValidateAnnotations lower-cases the key, then IsQualifiedName; the GitOps tools' keys are fine."""
    text = configmap(
        "  name: settings\n  annotations:\n    Kubectl.Kubernetes.io/Last-Applied-Configuration: '{}'\n"
        "    argocd.argoproj.io/sync-wave: '1'\n    bad key: x\n"
    )
    assert run(tmp_path, text) == (1, ["error meta-annotations@8:5"])


def test_annotations_are_at_most_256_kib_together(tmp_path: Path) -> None:
    """ValidateAnnotations -> ValidateAnnotationsSize: keys and values together at most TotalAnnotationSizeLimitB."""
    text = configmap(f"  name: settings\n  annotations:\n    big: {'x' * (256 * 1024)}\n")
    assert run(tmp_path, text) == (1, ["error meta-annotations@5:3"])
    assert run(tmp_path, text.replace("x" * 10, "", 1)) == (0, [])


def test_skip_silences_a_meta_rule(tmp_path: Path) -> None:
    text = configmap("  name: settings\n  labels:\n    a/b/c: x\n")
    assert run(tmp_path, text, "--skip", "meta-labels") == (0, [])


# ------------------------------------------------------------------ what the server writes


DUMP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  creationTimestamp: "2024-01-02T03:04:05Z"
  name: settings
  namespace: team-a
  resourceVersion: "4711"
  uid: 0b6c7d0e-1111-2222-3333-444455556666
data: {}
"""


def test_a_kubectl_get_dump_is_refused_for_its_resource_version(tmp_path: Path) -> None:
    """apiserver etcd3 store.Create refuses a non-zero resourceVersion; FillObjectMetaSystemFields overwrites
    uid and creationTimestamp (one warning, at the first of them)."""
    assert run(tmp_path, DUMP) == (1, ["warning meta-server-fields@4:3", "error meta-resource-version@7:20"])


def test_resource_version_zero_or_empty_is_no_version(tmp_path: Path) -> None:
    """APIObjectVersioner.ObjectResourceVersion: '' is 0, and store.Create refuses only a non-zero version."""
    text = configmap('  name: settings\n  resourceVersion: "0"\n')
    assert run(tmp_path, text) == (0, [])


def test_creation_timestamp_null_and_an_empty_status_are_no_findings(tmp_path: Path) -> None:
    """What `kubectl create --dry-run=client -o yaml` prints: creationTimestamp: null, status: {}."""
    text = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  creationTimestamp: null\n  name: web\nspec:\n"
        "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {creationTimestamp: null, labels: {a: b}}\n"
        "    spec: {containers: [{name: c, image: i}]}\nstatus: {}\n"
    )
    assert run(tmp_path, text) == (0, [])


def test_a_pod_template_creation_timestamp_null_passes(shared: Path) -> None:
    path = shared / "realworld" / "others" / "probes" / "probe-tfjob-template-creationtimestamp-null.yaml"
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(path)])
    assert not [d for d in json.loads(result.stdout)["diagnostics"] if d["rule_id"] in META]


# ------------------------------------------------------------------ Experiments


def experiment(**metadata: object) -> str:
    data = copy.deepcopy(VALID)
    data["metadata"] = metadata
    return dump(data)


def test_an_experiment_name_the_api_server_refuses_is_one_finding(tmp_path: Path) -> None:
    """customresource/validator.go refuses 'EXPERIMENT_NAME' before Katib's webhook (NAME-01) could."""
    code, found = run(tmp_path, experiment(name="EXPERIMENT_NAME", namespace="kubeflow"))
    assert (code, [f.split("@")[0] for f in found]) == (1, ["error meta-name"])
    code, found = run(tmp_path, experiment(name="EXPERIMENT_NAME", namespace="kubeflow"), "--skip", "meta-name")
    assert (code, [f.split("@")[0] for f in found]) == (1, ["error NAME-01"])


def test_an_experiment_name_only_katib_refuses_is_katibs_finding(tmp_path: Path) -> None:
    """'1abc' is a DNS subdomain; Katib's validator.go:ValidateExperiment wants a lower-case letter first."""
    code, found = run(tmp_path, experiment(name="1abc", namespace="kubeflow"))
    assert (code, [f.split("@")[0] for f in found]) == (1, ["error NAME-01"])


def test_katib_judges_the_name_generated_from_generate_name(tmp_path: Path) -> None:
    """The generic registry's create generates the name (names.SimpleNameGenerator: the prefix cut to 58, then
    5 characters) before the validating webhook runs: Katib sees that name."""
    assert run(tmp_path, experiment(generateName="random-", namespace="kubeflow")) == (0, [])
    code, found = run(tmp_path, experiment(generateName="r" * 36 + "-", namespace="kubeflow"))
    assert (code, [f.split("@")[0] for f in found]) == (1, ["error NAME-02"])


def test_an_experiment_under_another_api_version_is_an_experiment_version_error(tmp_path: Path) -> None:
    """Katib's experiments.kubeflow.org CRD serves v1beta1 only: kubeflow.org/v1 is no kind the server has."""
    text = experiment(name="random", namespace="kubeflow").replace("kubeflow.org/v1beta1", "kubeflow.org/v1", 1)
    expected = (1, [f"error {EXPERIMENT_VERSION}@1:13"])
    assert run(tmp_path, text) == expected
    assert run(tmp_path, text, "--ignore-missing-schemas") == expected


def test_the_trial_spec_metadata_is_judged_with_its_placeholders_left_alone(tmp_path: Path) -> None:
    """Katib creates each trial's job with the trialSpec's labels: ValidateLabels applies to them; a value with
    ${trialSpec.Name} or ${trialParameters.x} is substituted first (manifest/generator.go), so not judged."""
    data = copy.deepcopy(VALID)
    data["spec"]["trialTemplate"]["trialSpec"]["metadata"] = {
        "creationTimestamp": None,
        "labels": {"trial": "${trialSpec.Name}", "lr": "${trialParameters.learningRate}", "a/b/c": "x"},
    }
    code, found = run(tmp_path, dump(data))
    assert code == 1 and [f.split("@")[0] for f in found] == ["error meta-labels"]


# ------------------------------------------------------------------ no false alarms on real files


# The real files with a metadata finding, each right per upstream (see tests/realworld/test_katib_experiments.py).
EXPECTED = {
    "katib/dalilasalamani-mlfastsim-katib.yaml": {"meta-name", "meta-namespace"},
    "katib/kubeflow-website-kubectl-get-dump.yaml": {"meta-namespace", "meta-resource-version", "meta-server-fields"},
    "others/probes/probe-core-pvc-bad-name.yaml": {"meta-name"},  # TF_Serving_PVC
    "others/crd-instances/broken-rollout-canary-bad-name.yaml": {"meta-name"},  # Rollout_Canary
}


def test_the_real_files_get_metadata_findings_only_where_the_api_server_refuses(shared: Path) -> None:
    """~220 manifests: last-applied-configuration and sync-wave annotations, empty label values, RBAC names with
    colons, creationTimestamp: null in templates all pass."""
    root = shared / "realworld"
    files = sorted(root.rglob("*.yaml"))
    result = CliRunner().invoke(main, ["validate", "--format", "json", "-j", "1", *map(str, files)])
    found: dict[str, set[str]] = {}
    for d in json.loads(result.stdout)["diagnostics"]:
        if d["rule_id"] in META:
            found.setdefault(Path(d["file"]).relative_to(root).as_posix(), set()).add(d["rule_id"])
    assert found == EXPECTED
