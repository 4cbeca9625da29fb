"""API versions that were served once and are no longer: what removed them, and what to use instead.

A document of such a version has no schema here (nor in the cluster), and "no schema for X" with a
hint to pass a CRD would send its author the wrong way: the API server refuses it ("no matches for
kind"), because the release named below stopped serving it. The facts, from each project's sources:

* Kubernetes: the deprecated API migration guide (kubernetes.io/docs/reference/using-api/deprecation-guide);
  the removal applies when the Kubernetes version judged against (--kubernetes-version) is that release or later.
* Flux: kustomize-controller v1.7.0 (Flux 2.7) stopped serving kustomize.toolkit.fluxcd.io/v1beta1 and
  v1.8.0 (Flux 2.8, "The v1beta2 APIs were removed", CHANGELOG) v1beta2; source-controller likewise
  (v1.7.0 dropped GitRepository v1beta1, v1.8.0 every source.toolkit.fluxcd.io/v1beta2 kind). A cluster
  that still runs an older Flux gives its CRDs with --crd, which are checked first.
* Kubeflow Training Operator: TFJob kubeflow.org/v1beta2 was served next to v1 until v1.0 (the v1.1.0
  CRD serves only v1, pkg/apis/tensorflow/v1beta2 is gone); MXJob was removed in v1.9.0 (kubeflow/trainer#2150).
"""

from __future__ import annotations

from typing import NamedTuple


class Removal(NamedTuple):
    project: str  # whose release stopped serving it
    removed_in: str  # that release
    instead: str  # what to write now

    def message(self, api_version: str, kind: str) -> str:
        return f"{kind} {api_version} is no longer served: {self.project} {self.removed_in} removed it"


_K8S = "Kubernetes"
_FLUX = "Flux"
_TO = "the Training Operator"

# (apiVersion, kind) -> Removal; kind "*" for every kind of that apiVersion.
REMOVED: dict[tuple[str, str], Removal] = {
    # Kubernetes 1.16
    **{
        (v, k): Removal(_K8S, "1.16", "apps/v1")
        for v in ("extensions/v1beta1", "apps/v1beta1", "apps/v1beta2")
        for k in ("Deployment", "DaemonSet", "ReplicaSet", "StatefulSet")
    },
    ("extensions/v1beta1", "NetworkPolicy"): Removal(_K8S, "1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): Removal(_K8S, "1.16", "policy/v1beta1, itself removed in 1.25"),
    # Kubernetes 1.22
    ("extensions/v1beta1", "Ingress"): Removal(_K8S, "1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "networking.k8s.io/v1"),
    ("admissionregistration.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "admissionregistration.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "apiregistration.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "certificates.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "coordination.k8s.io/v1"),
    ("rbac.authorization.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "rbac.authorization.k8s.io/v1"),
    ("scheduling.k8s.io/v1beta1", "*"): Removal(_K8S, "1.22", "scheduling.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIDriver"): Removal(_K8S, "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSINode"): Removal(_K8S, "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "StorageClass"): Removal(_K8S, "1.22", "storage.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "VolumeAttachment"): Removal(_K8S, "1.22", "storage.k8s.io/v1"),
    # Kubernetes 1.25
    ("batch/v1beta1", "CronJob"): Removal(_K8S, "1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): Removal(_K8S, "1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): Removal(_K8S, "1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): Removal(_K8S, "1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): Removal(_K8S, "1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): Removal(
        _K8S, "1.25", "Pod Security Admission (pod-security.kubernetes.io/* namespace labels)"
    ),
    ("node.k8s.io/v1beta1", "RuntimeClass"): Removal(_K8S, "1.25", "node.k8s.io/v1"),
    # Kubernetes 1.26, 1.27, 1.29, 1.32
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): Removal(_K8S, "1.26", "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "*"): Removal(_K8S, "1.26", "flowcontrol.apiserver.k8s.io/v1"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): Removal(_K8S, "1.27", "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*"): Removal(_K8S, "1.29", "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*"): Removal(_K8S, "1.32", "flowcontrol.apiserver.k8s.io/v1"),
    # Flux
    ("kustomize.toolkit.fluxcd.io/v1beta1", "Kustomization"): Removal(_FLUX, "2.7", "kustomize.toolkit.fluxcd.io/v1"),
    ("kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization"): Removal(_FLUX, "2.8", "kustomize.toolkit.fluxcd.io/v1"),
    ("source.toolkit.fluxcd.io/v1beta1", "*"): Removal(_FLUX, "2.7", "source.toolkit.fluxcd.io/v1"),
    ("source.toolkit.fluxcd.io/v1beta2", "*"): Removal(_FLUX, "2.8", "source.toolkit.fluxcd.io/v1"),
    # Kubeflow Training Operator
    ("kubeflow.org/v1beta2", "TFJob"): Removal(_TO, "v1.1.0", "kubeflow.org/v1"),
    ("kubeflow.org/v1", "MXJob"): Removal(_TO, "v1.9.0", "another framework's job (MXNet support was dropped)"),
}


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.removeprefix("v").split("."))


def removal(api_version: str, kind: str, kubernetes_version: str) -> Removal | None:
    """Why (api_version, kind) is not served, when it was and no longer is; None otherwise.

    A Kubernetes removal counts only from its release on (`kubernetes_version`, e.g. "1.37").
    """
    found = REMOVED.get((api_version, kind)) or REMOVED.get((api_version, "*"))
    if found is None:
        return None
    if found.project == _K8S and _release(kubernetes_version) < _release(found.removed_in):
        return None
    return found


def hint(found: Removal) -> str:
    if found.project == _K8S:
        return f"use {found.instead}"
    return f"use {found.instead}; for a cluster that still serves it, pass its CustomResourceDefinition with --crd"
