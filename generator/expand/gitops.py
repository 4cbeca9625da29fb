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
import re
from typing import Any

from katib_gitops.core.diagnostics import UsageError
from katib_gitops.expand import health
from katib_gitops.expand.overlays import MAX_GITOPS_NAME, Expansion
from katib_gitops.spec.model import GitOps

APPSET_PREFIX = "katib-gitops."  # '.' cannot occur in a spec name: never the name of another ApplicationSet
SOURCE_NAME = "katib-gitops"
ANNOTATION_TARGET = "katib-gitops.dev/target"  # <spec>/<namespace>/<profile>: the full target of a (short) name

# The rules a generated name must meet (Kubernetes apimachinery validation): object names are DNS
# subdomains; the Application and Kustomization names also become label values (MAX_GITOPS_NAME).
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
MAX_SUBDOMAIN = 253
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")

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


def check_name(name: str, what: str, source: str, *, label: bool) -> None:
    """UsageError (exit 2) naming the spec when `name` breaks its field's rules; such an object is never written."""
    problem = ""
    if len(name) > MAX_SUBDOMAIN or not DNS_SUBDOMAIN.match(name):
        problem = f"not a DNS subdomain (lowercase letters, digits, '-' and '.', at most {MAX_SUBDOMAIN} characters)"
    elif label and (len(name) > MAX_GITOPS_NAME or not LABEL_VALUE.match(name)):
        problem = f"not a label value (at most {MAX_GITOPS_NAME} characters), which it becomes"
    if problem:
        raise UsageError(
            f"{source}: the {what} name {name!r} is {problem}; shorten the spec, namespace or profile name"
        )


def application_set_name(spec_name: str) -> str:
    return f"{APPSET_PREFIX}{spec_name}"


def application_set(gitops: GitOps, expansion: Expansion) -> dict[str, Any]:
    """The spec's ApplicationSet: one Application per overlay, named as overlays.gitops_name says."""
    spec_name = expansion.spec.name
    source = expansion.spec.source
    namespaces, profiles = _axes(expansion)
    for overlay in expansion.overlays:
        check_name(overlay.name, "Argo CD Application", source, label=True)
    check_name(application_set_name(spec_name), "ApplicationSet", source, label=False)
    template = {
        "metadata": {
            "name": _application_name(spec_name, expansion),
            "annotations": {
                "argocd.argoproj.io/compare-options": "ServerSideDiff=true",
                ANNOTATION_TARGET: f"{spec_name}/{{{{ .namespace }}}}/{{{{ .profile }}}}",
            },
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
            "generators": [_generator(expansion, namespaces, profiles)],
            "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
            "template": template,
        },
    }
    check_size(appset, GITOPS_OBJECT_LIMIT, expansion.spec.source, "split the spec's namespaces over two specs")
    return appset


def _shortened(expansion: Expansion) -> bool:
    return any(o.name != f"{o.spec_name}.{o.namespace}.{o.profile}" for o in expansion.overlays)


def _application_name(spec_name: str, expansion: Expansion) -> str:
    """The template's name: Argo CD builds it from each parameter set, so shortened names come precomputed."""
    if _shortened(expansion):
        return "{{ .name }}"
    return f"{spec_name}.{{{{ .namespace }}}}.{{{{ .profile }}}}"


def _generator(expansion: Expansion, namespaces: list[str], profiles: list[str]) -> dict[str, Any]:
    """The spec's namespaces crossed with its profiles (a matrix of two lists, growing with their sum); when a
    name has to be shortened, which a Go template cannot do the same way, one list element per overlay
    carrying its name (growing with the product, still within check_size)."""
    if _shortened(expansion):
        elements = [{"namespace": o.namespace, "profile": o.profile, "name": o.name} for o in expansion.overlays]
        return {"list": {"elements": sorted(elements, key=lambda e: (e["namespace"], e["profile"]))}}
    return {
        "matrix": {
            "generators": [
                {"list": {"elements": [{"namespace": n} for n in namespaces]}},
                {"list": {"elements": [{"profile": p} for p in profiles]}},
            ]
        }
    }


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
    checks = health.flux_health_checks() if gitops.health else []
    for expansion in expansions:
        for overlay in expansion.overlays:
            spec: dict[str, Any] = {
                "interval": gitops.flux_interval,
                "sourceRef": {"kind": "GitRepository", "name": SOURCE_NAME},
                "path": f"./{gitops.path}/{overlay.directory}",
                "prune": False,
                "wait": gitops.health,
            }
            if gitops.health:
                # Flux evaluates healthCheckExprs only with `wait` (or `healthChecks`): a Running Experiment is
                # Current, so the wait ends once Katib starts it, not when it finishes (docs/gitops.md, "Health").
                spec["timeout"] = health.FLUX_TIMEOUT
                spec["healthCheckExprs"] = [dict(check) for check in checks]
            if gitops.flux_depends_on:
                spec["dependsOn"] = [{"name": name} for name in gitops.flux_depends_on]
            check_name(overlay.name, "Flux Kustomization", expansion.spec.source, label=True)
            kustomization = {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {
                    "name": overlay.name,
                    "namespace": gitops.flux_namespace,
                    "annotations": {ANNOTATION_TARGET: overlay.directory},
                },
                "spec": spec,
            }
            check_size(kustomization, GITOPS_OBJECT_LIMIT, expansion.spec.source, "shorten flux.dependsOn")
            out.append(kustomization)
    return out
