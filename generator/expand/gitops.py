"""Argo CD and Flux objects that deploy every overlay, with settings that keep results safe.

gitops-notes §0: server-side apply, no automatic pruning, no self-heal re-creation,
and GitOps-side deletion that leaves Experiments (and their trials) in place.
"""

from __future__ import annotations

from typing import Any

from katib_gitops.expand.overlays import Expansion
from katib_gitops.spec.model import GitOps

APPSET_NAME = "katib-gitops-experiments"
SOURCE_NAME = "katib-gitops"


def _overlays(expansions: list[Expansion]) -> list[Any]:
    return [o for e in expansions for o in e.overlays]


def application_set(gitops: GitOps, expansions: list[Expansion]) -> dict[str, Any]:
    elements = [
        {"name": o.name, "path": f"{gitops.path}/{o.directory}", "namespace": o.namespace}
        for o in _overlays(expansions)
    ]
    template = {
        "metadata": {
            "name": "{{ .name }}",
            "annotations": {"argocd.argoproj.io/compare-options": "ServerSideDiff=true"},
        },
        "spec": {
            "project": gitops.argocd_project,
            "source": {"repoURL": gitops.repo_url, "targetRevision": gitops.revision, "path": "{{ .path }}"},
            "destination": {"server": gitops.argocd_server, "namespace": "{{ .namespace }}"},
            "syncPolicy": {
                "automated": {"prune": False, "selfHeal": False},
                "syncOptions": ["ServerSideApply=true", "ApplyOutOfSyncOnly=true"],
            },
        },
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": APPSET_NAME, "namespace": gitops.argocd_namespace},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{"list": {"elements": elements}}],
            "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
            "template": template,
        },
    }


def git_repository(gitops: GitOps) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": SOURCE_NAME, "namespace": gitops.flux_namespace},
        "spec": {"interval": "1m", "url": gitops.repo_url, "ref": {"branch": gitops.revision}},
    }


def flux_kustomizations(gitops: GitOps, expansions: list[Expansion]) -> list[dict[str, Any]]:
    out = []
    for overlay in _overlays(expansions):
        spec: dict[str, Any] = {
            "interval": gitops.flux_interval,
            "sourceRef": {"kind": "GitRepository", "name": SOURCE_NAME},
            "path": f"./{gitops.path}/{overlay.directory}",
            "prune": False,
            "wait": False,
        }
        if gitops.flux_depends_on:
            spec["dependsOn"] = [{"name": name} for name in gitops.flux_depends_on]
        out.append(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": overlay.name, "namespace": gitops.flux_namespace},
                "spec": spec,
            }
        )
    return out
