"""Argo CD and Flux objects that deploy every overlay, with settings that keep results safe.

gitops-notes §0: server-side apply, no automatic pruning, no self-heal re-creation,
and GitOps-side deletion that leaves Experiments (and their trials) in place.

One ApplicationSet and one file of Flux Kustomizations per spec, whatever the size of the
repository (docs/gitops.md, "Object sizes"): an Application never moves to another
ApplicationSet as the repository grows (Argo CD would not let the new one adopt it), each
object stays far below what Kubernetes stores, and a spec's change touches only its files.
The ApplicationSet crosses two lists, the spec's namespaces and its profiles, so it grows
with their sum, not their product. No generated object may exceed its limit (`check_size`).
"""

from __future__ import annotations

import json
from typing import Any

from katib_gitops.core.diagnostics import UsageError
from katib_gitops.expand.overlays import Expansion
from katib_gitops.spec.model import GitOps

APPSET_PREFIX = "katib-gitops."  # '.' cannot occur in a spec name: never the name of another ApplicationSet
SOURCE_NAME = "katib-gitops"

# Limits on one generated object, measured as compact JSON: how an object travels to the API
# server, how a custom resource is stored in etcd, and what `kubectl apply` copies into its
# last-applied-configuration annotation. Half of what governs, for what the server adds.
KIB = 1024
# The ApplicationSet and the Flux objects are applied once by hand or from a root Application,
# possibly client-side (kubectl apply's and Argo CD's default): the annotation then holds the
# whole object, and all annotations together are limited to 256 KiB.
GITOPS_OBJECT_LIMIT = 128 * KIB
# Experiments are applied server-side (the Applications' ServerSideApply=true; Flux always):
# etcd's default request limit of 1.5 MiB governs, less managedFields and the status Katib
# writes as trials run (it lists every trial's name).
EXPERIMENT_LIMIT = 512 * KIB


def json_size(obj: Any) -> int:
    """Bytes of `obj` as compact JSON."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_size(obj: dict[str, Any], limit: int, source: str, hint: str) -> None:
    """UsageError (exit 2) naming the spec when `obj` is larger than Kubernetes can be relied on to store and apply."""
    size = json_size(obj)
    if size > limit:
        raise UsageError(
            f"{source}: the {obj.get('kind')} {obj.get('metadata', {}).get('name')} would be {_kib(size)} KiB "
            f"of JSON, over the {_kib(limit)} KiB katib-gitops allows for one object "
            f"(docs/gitops.md, Object sizes); {hint}"
        )


def _kib(size: int) -> str:
    return f"{size / KIB:.1f}".removesuffix(".0")


def _axes(expansion: Expansion) -> tuple[list[str], list[str]]:
    """The spec's namespaces and profiles, sorted: its overlays are exactly their product."""
    namespaces = sorted({o.namespace for o in expansion.overlays})
    profiles = sorted({o.profile for o in expansion.overlays})
    crossed = {(o.namespace, o.profile) for o in expansion.overlays}
    if crossed != {(n, p) for n in namespaces for p in profiles} or len(crossed) != len(expansion.overlays):
        raise AssertionError(f"internal error: the overlays of {expansion.spec.name} are not namespaces x profiles")
    return namespaces, profiles


def application_set_name(spec_name: str) -> str:
    return f"{APPSET_PREFIX}{spec_name}"


def application_set(gitops: GitOps, expansion: Expansion) -> dict[str, Any]:
    """The spec's ApplicationSet: one Application per overlay, named `<spec>.<namespace>.<profile>`."""
    spec_name = expansion.spec.name
    namespaces, profiles = _axes(expansion)
    template = {
        "metadata": {
            "name": f"{spec_name}.{{{{ .namespace }}}}.{{{{ .profile }}}}",
            "annotations": {"argocd.argoproj.io/compare-options": "ServerSideDiff=true"},
        },
        "spec": {
            "project": gitops.argocd_project,
            "source": {
                "repoURL": gitops.repo_url,
                "targetRevision": gitops.revision,
                "path": f"{gitops.path}/{spec_name}/{{{{ .namespace }}}}/{{{{ .profile }}}}",
            },
            "destination": {"server": gitops.argocd_server, "namespace": "{{ .namespace }}"},
            "syncPolicy": {
                "automated": {"prune": False, "selfHeal": False},
                "syncOptions": ["ServerSideApply=true", "ApplyOutOfSyncOnly=true"],
            },
        },
    }
    appset = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": application_set_name(spec_name), "namespace": gitops.argocd_namespace},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [
                {
                    "matrix": {
                        "generators": [
                            {"list": {"elements": [{"namespace": n} for n in namespaces]}},
                            {"list": {"elements": [{"profile": p} for p in profiles]}},
                        ]
                    }
                }
            ],
            "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
            "template": template,
        },
    }
    check_size(appset, GITOPS_OBJECT_LIMIT, expansion.spec.source, "split the spec's namespaces over two specs")
    return appset


def git_repository(gitops: GitOps) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": SOURCE_NAME, "namespace": gitops.flux_namespace},
        "spec": {"interval": "1m", "url": gitops.repo_url, "ref": {"branch": gitops.revision}},
    }


def flux_kustomizations(gitops: GitOps, expansions: list[Expansion]) -> list[dict[str, Any]]:
    """One Flux Kustomization per overlay of `expansions` (each object a few hundred bytes)."""
    out = []
    for expansion in expansions:
        for overlay in expansion.overlays:
            spec: dict[str, Any] = {
                "interval": gitops.flux_interval,
                "sourceRef": {"kind": "GitRepository", "name": SOURCE_NAME},
                "path": f"./{gitops.path}/{overlay.directory}",
                "prune": False,
                "wait": False,
            }
            if gitops.flux_depends_on:
                spec["dependsOn"] = [{"name": name} for name in gitops.flux_depends_on]
            kustomization = {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": overlay.name, "namespace": gitops.flux_namespace},
                "spec": spec,
            }
            check_size(kustomization, GITOPS_OBJECT_LIMIT, expansion.spec.source, "shorten flux.dependsOn")
            out.append(kustomization)
    return out
