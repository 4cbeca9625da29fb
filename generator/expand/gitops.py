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

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import UsageError
from katib_gitops.expand import health
from katib_gitops.expand.overlays import BASE_DIR, MAX_GITOPS_NAME, Expansion, Overlay, gitops_name
from katib_gitops.spec.model import Cluster, GitOps, TuningSpec

# The names of the repository's own objects start with a prefix, unique per repository by default
# (repository_prefix): two repositories in one cluster never share a GitRepository or an ApplicationSet.
# `gitops.names.prefix: katib-gitops` gives the names written before the setting existed.
LEGACY_PREFIX = "katib-gitops"
REPOSITORY_HASH_LENGTH = 6
MAX_REPOSITORY_SLUG = 20
ANNOTATION_TARGET = "katib-gitops.dev/target"  # <spec>/<namespace>/<profile>: the full target of a (short) name
ANNOTATION_CLUSTER = "katib-gitops.dev/cluster"  # the cluster (gitops.clusters) of a spec that names clusters

# Argo CD (docs/user-guide/diff-strategies.md, "Mutation Webhooks"): Server-Side Diff leaves out what mutating
# webhooks change unless IncludeMutationWebhook=true, which is effective only with ServerSideDiff=true.
COMPARE_OPTIONS = "ServerSideDiff=true,IncludeMutationWebhook=true"
# Argo CD (docs/operator-manual/high_availability.md, "Webhook and Manifest Paths Annotation"): paths relative to
# the Application's source path, separated by ';'; a commit that touches neither re-renders nothing (2.11+).
MANIFEST_PATHS = "argocd.argoproj.io/manifest-generate-paths"
OVERLAY_PATHS = f".;../../{BASE_DIR}"
# What an AppProject per namespace lets its Applications deploy: Experiments only (a namespaced whitelist
# replaces "every kind"; no cluster-scoped whitelist means none: AppProject.IsGroupKindNamePermitted).
PROJECT_KINDS = ({"group": "kubeflow.org", "kind": "Experiment"},)

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


def check_size(obj: dict[str, Any], limit: int, source: str, hint: str, *, size: int | None = None) -> None:
    """UsageError (exit 2) naming the spec when `obj` is larger than Kubernetes can be relied on to store and apply.

    `size`: json_size(obj), when the caller knows it already."""
    size = json_size(obj) if size is None else size
    if size > limit:
        raise UsageError(
            f"{source}: the {obj.get('kind')} {obj.get('metadata', {}).get('name')} would be {_kib(size)} KiB "
            f"of JSON, over the {_kib(limit)} KiB katib-gitops allows for one object "
            f"(docs/gitops.md, Object sizes); {hint}"
        )


def _kib(size: int) -> str:
    return f"{size / KIB:.1f}".removesuffix(".0")


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


def repository_key(url: str) -> str:
    """`host/path` of a Git URL, without scheme, user, port, `.git` and case: the same repository written as
    https://, ssh:// or `git@host:path` gives the same key (and the same default names)."""
    text = url.strip()
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text)
    if scheme:
        text = text[scheme.end() :]
    authority, slash, rest = text.partition("/")
    authority = authority.rpartition("@")[2]
    if scheme:
        authority = re.sub(r":[0-9]*\Z", "", authority)
    elif ":" in authority:  # scp-like host:path
        authority, _, first = authority.partition(":")
        rest = f"{first}/{rest}" if slash else first
        slash = "/"
    key = f"{authority}{slash}{rest}".lower().rstrip("/").removesuffix(".git").rstrip("/")
    return key or url


def repository_prefix(url: str) -> str:
    """`katib-gitops-<repository>-<hash>`: the repository's last path segment (at most 20 characters) and
    6 hex digits of the SHA-256 of its repository_key, a DNS label of at most 40 characters."""
    key = repository_key(url)
    slug = re.sub(r"[^a-z0-9]+", "-", key.rpartition("/")[2]).strip("-")[:MAX_REPOSITORY_SLUG].strip("-")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:REPOSITORY_HASH_LENGTH]
    return f"{LEGACY_PREFIX}-{slug or 'repo'}-{digest}"


def prefix(gitops: GitOps) -> str:
    return gitops.name_prefix or repository_prefix(gitops.repo_url)


def application_set_name(gitops: GitOps, spec_name: str) -> str:
    """`<prefix>.<spec>`: '.' cannot occur in the prefix or a spec name, so never another ApplicationSet's name."""
    return f"{prefix(gitops)}.{spec_name}"


def git_repository_name(gitops: GitOps) -> str:
    return gitops.git_repository_name or prefix(gitops)


def project_name(gitops: GitOps, namespace: str) -> str:
    """The Argo CD project of the Applications deploying to `namespace`."""
    if gitops.argocd_project_per_namespace:
        return f"{prefix(gitops)}.{namespace}"
    return gitops.project(namespace)


def target_revision(gitops: GitOps) -> str:
    """`refs/heads/<branch>`: Argo CD resolves a fully qualified reference without listing every reference of the
    repository (docs/operator-manual/high_availability.md, "Use fully qualified Git references"); a revision
    that already starts with `refs/` is kept."""
    return gitops.revision if gitops.revision.startswith("refs/") else f"refs/heads/{gitops.revision}"


# ------------------------------------------------------------------ targets: overlay x cluster


class Deployed(NamedTuple):
    """One Argo CD Application and one Flux Kustomization: an overlay, on one cluster for a spec naming clusters."""

    overlay: Overlay
    cluster: Cluster | None
    name: str

    @property
    def full_name(self) -> str:
        parts = [self.overlay.spec_name, self.overlay.namespace, self.overlay.profile]
        return ".".join([*parts, *([self.cluster.name] if self.cluster else [])])


def spec_clusters(gitops: GitOps, spec: TuningSpec) -> list[Cluster | None]:
    """The clusters `spec` names, or [None]: the default destination."""
    clusters: list[Cluster | None] = []
    for name in spec.clusters:
        cluster = gitops.cluster(name)
        if cluster is None:  # TS-GITOPS reports it at the spec's targets.clusters
            raise UsageError(f"{spec.source}: cluster '{name}' is not declared in gitops.clusters")
        clusters.append(cluster)
    return clusters or [None]


def deployed(gitops: GitOps, expansion: Expansion) -> list[Deployed]:
    """Every overlay of `expansion` on every cluster its spec names (or once, on the default destination)."""
    out = []
    for cluster in spec_clusters(gitops, expansion.spec):
        for overlay in expansion.overlays:
            if cluster is None:
                out.append(Deployed(overlay, None, overlay.name))
            else:
                name = gitops_name(overlay.spec_name, overlay.namespace, overlay.profile, cluster.name)
                out.append(Deployed(overlay, cluster, name))
    return sorted(out, key=lambda d: (d.cluster.name if d.cluster else "", d.overlay.namespace, d.overlay.profile))


def destination(gitops: GitOps, cluster: Cluster | None) -> tuple[str, str]:
    """The Argo CD destination field (`name` or `server`) and its value."""
    if cluster is None:
        if gitops.argocd_destination_name:
            return "name", gitops.argocd_destination_name
        return "server", gitops.argocd_server
    if cluster.destination_name:
        return "name", cluster.destination_name
    return "server", cluster.server


# ------------------------------------------------------------------ Argo CD


def application_set(gitops: GitOps, expansion: Expansion) -> dict[str, Any]:
    """The spec's ApplicationSet: one Application per overlay (and cluster), named as overlays.gitops_name says."""
    spec_name = expansion.spec.name
    source = expansion.spec.source
    targets = deployed(gitops, expansion)
    for target in targets:
        check_name(target.name, "Argo CD Application", source, label=True)
    check_name(application_set_name(gitops, spec_name), "ApplicationSet", source, label=False)
    appset = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": application_set_name(gitops, spec_name), "namespace": gitops.argocd_namespace},
        "spec": {
            "goTemplate": True,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [_generator(gitops, expansion, targets)],
            "syncPolicy": {"preserveResourcesOnDeletion": True, "applicationsSync": "create-update"},
            "template": _template(gitops, expansion, targets),
        },
    }
    check_size(appset, GITOPS_OBJECT_LIMIT, source, "split the spec's namespaces over two specs")
    return appset


def applications(gitops: GitOps, expansion: Expansion) -> list[dict[str, Any]]:
    """The Applications the spec's ApplicationSet creates, as Argo CD fills its template from each parameter set."""
    targets = deployed(gitops, expansion)
    template = _template(gitops, expansion, targets)
    out = []
    for target in targets:
        filled = _fill(template, _element(gitops, target, with_name=True))
        metadata = {**filled["metadata"], "namespace": gitops.argocd_namespace}
        out.append(
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": metadata, "spec": filled["spec"]}
        )
    return out


_FIELD = re.compile(r"\{\{ \.([a-z]+) \}\}")


def _fill(value: Any, element: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _FIELD.sub(lambda m: element[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, element) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, element) for v in value]
    return value


def _projects_vary(gitops: GitOps) -> bool:
    return gitops.argocd_project_per_namespace or bool(gitops.argocd_projects)


def _destination_field(gitops: GitOps, expansion: Expansion, targets: list[Deployed]) -> str:
    fields = {destination(gitops, t.cluster)[0] for t in targets}
    if len(fields) > 1:  # TS-GITOPS reports it at the spec's targets.clusters
        raise UsageError(
            f"{expansion.spec.source}: its clusters give their Argo CD destination both by server and by "
            "destinationName; give every one the same way"
        )
    return fields.pop() if fields else "server"


def _shortened(targets: list[Deployed]) -> bool:
    return any(t.name != t.full_name for t in targets)


def _template(gitops: GitOps, expansion: Expansion, targets: list[Deployed]) -> dict[str, Any]:
    spec_name = expansion.spec.name
    clustered = bool(expansion.spec.clusters)
    if _shortened(targets):
        name = "{{ .name }}"  # Argo CD builds it from each parameter set: shortened names come precomputed
    else:
        name = f"{spec_name}.{{{{ .namespace }}}}.{{{{ .profile }}}}" + (".{{ .cluster }}" if clustered else "")
    annotations = {
        "argocd.argoproj.io/compare-options": COMPARE_OPTIONS,
        MANIFEST_PATHS: OVERLAY_PATHS,
        ANNOTATION_TARGET: f"{spec_name}/{{{{ .namespace }}}}/{{{{ .profile }}}}",
    }
    if clustered:
        annotations[ANNOTATION_CLUSTER] = "{{ .cluster }}"
    field = _destination_field(gitops, expansion, targets)
    where = "{{ .destination }}" if clustered else destination(gitops, None)[1]
    return {
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "project": "{{ .project }}" if _projects_vary(gitops) else gitops.argocd_project,
            "source": {
                "repoURL": gitops.repo_url,
                "targetRevision": target_revision(gitops),
                "path": f"{gitops.path}/{spec_name}/{{{{ .namespace }}}}/{{{{ .profile }}}}",
            },
            "destination": {field: where, "namespace": "{{ .namespace }}"},
            "syncPolicy": {
                "automated": {"prune": False, "selfHeal": False},
                "syncOptions": ["ServerSideApply=true", "ApplyOutOfSyncOnly=true"],
            },
        },
    }


def _element(gitops: GitOps, target: Deployed, *, with_name: bool) -> dict[str, str]:
    """The parameters Argo CD fills the template with for `target`."""
    element = {"namespace": target.overlay.namespace, "profile": target.overlay.profile}
    if with_name:
        element["name"] = target.name
    if target.cluster is not None:
        element["cluster"] = target.cluster.name
        element["destination"] = destination(gitops, target.cluster)[1]
    if _projects_vary(gitops):
        element["project"] = project_name(gitops, target.overlay.namespace)
    return element


def _generator(gitops: GitOps, expansion: Expansion, targets: list[Deployed]) -> dict[str, Any]:
    """The spec's namespaces crossed with its profiles (a matrix of two lists, growing with their sum), and, for a
    spec naming clusters, its clusters crossed with those (a matrix nested once, as Argo CD allows: its
    Generators-Matrix.md, "Restrictions"); when a name has to be shortened, which a Go template cannot do the
    same way, one list element per Application carrying its name (growing with the product, within check_size)."""
    if _shortened(targets):
        return {"list": {"elements": [_element(gitops, t, with_name=True) for t in targets]}}
    namespaces = sorted({t.overlay.namespace for t in targets})
    profiles = sorted({t.overlay.profile for t in targets})
    namespace_elements = []
    for namespace in namespaces:
        element = {"namespace": namespace}
        if _projects_vary(gitops):
            element["project"] = project_name(gitops, namespace)
        namespace_elements.append(element)
    crossed: dict[str, Any] = {
        "matrix": {
            "generators": [
                {"list": {"elements": namespace_elements}},
                {"list": {"elements": [{"profile": p} for p in profiles]}},
            ]
        }
    }
    if not expansion.spec.clusters:
        return crossed
    clusters = sorted({t.cluster.name for t in targets if t.cluster is not None})
    cluster_elements = []
    for name in clusters:
        cluster = gitops.cluster(name)
        assert cluster is not None
        cluster_elements.append({"cluster": name, "destination": destination(gitops, cluster)[1]})
    return {"matrix": {"generators": [{"list": {"elements": cluster_elements}}, crossed]}}


def app_projects(gitops: GitOps, specs: Sequence[TuningSpec]) -> list[dict[str, Any]]:
    """With argocd.projectPerNamespace, one AppProject per namespace deployed to: its Applications may deploy only
    Experiments (no cluster-scoped kind), only from the repository, only to that namespace on the destinations
    they use. Read from the specs alone (their namespaces and clusters), so that a spec's plan reused from the
    last run (commands/generate/plan_cache.py) needs no expansion for it."""
    if not gitops.argocd_project_per_namespace or "argocd" not in gitops.tools:
        return []
    used: dict[str, set[tuple[str, str]]] = {}
    for spec in specs:
        if not spec.profiles:  # no overlay, no Application
            continue
        destinations = {destination(gitops, cluster) for cluster in spec_clusters(gitops, spec)}
        for namespace in spec.namespaces:
            used.setdefault(namespace, set()).update(destinations)
    out = []
    for namespace, destinations in sorted(used.items()):
        name = project_name(gitops, namespace)
        check_name(name, "AppProject", "the Targets file's gitops", label=False)
        project = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": name, "namespace": gitops.argocd_namespace},
            "spec": {
                "description": f"katib-gitops: Experiments from {gitops.repo_url} in namespace {namespace}",
                "sourceRepos": [gitops.repo_url],
                "destinations": [{field: value, "namespace": namespace} for field, value in sorted(destinations)],
                "namespaceResourceWhitelist": [dict(kind) for kind in PROJECT_KINDS],
            },
        }
        check_size(project, GITOPS_OBJECT_LIMIT, "the Targets file's gitops", "use fewer clusters per namespace")
        out.append(project)
    return out


# ------------------------------------------------------------------ Flux


def git_repository(gitops: GitOps) -> dict[str, Any] | None:
    """The Flux source of the repository, or None when the Kustomizations use an existing one (flux.sourceRef)."""
    if gitops.flux_source is not None:
        return None
    # A revision that starts with refs/ is a full reference: GitRepository's ref.name (source-controller v1).
    ref = {"name": gitops.revision} if gitops.revision.startswith("refs/") else {"branch": gitops.revision}
    spec: dict[str, Any] = {"interval": "1m", "url": gitops.repo_url, "ref": ref}
    if gitops.flux_secret_ref:
        spec["secretRef"] = {"name": gitops.flux_secret_ref}
    name = git_repository_name(gitops)
    check_name(name, "Flux GitRepository", "the Targets file's gitops", label=False)
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": gitops.flux_namespace},
        "spec": spec,
    }


def source_ref(gitops: GitOps) -> dict[str, str]:
    if gitops.flux_source is None:
        return {"kind": "GitRepository", "name": git_repository_name(gitops)}
    name, namespace = gitops.flux_source
    return {"kind": "GitRepository", "name": name, **({"namespace": namespace} if namespace else {})}


def flux_kustomizations(gitops: GitOps, expansions: list[Expansion]) -> list[dict[str, Any]]:
    """One Flux Kustomization per overlay (and cluster) of `expansions` (each object a few hundred bytes)."""
    out = []
    checks = health.flux_health_checks() if gitops.health else []
    reference = source_ref(gitops)
    for expansion in expansions:
        for target in deployed(gitops, expansion):
            overlay = target.overlay
            spec: dict[str, Any] = {
                "interval": gitops.flux_interval,
                "sourceRef": dict(reference),
                "path": f"./{gitops.path}/{overlay.directory}",
                "prune": False,
                "wait": gitops.health,
            }
            if gitops.health or gitops.flux_timeout:
                # Flux evaluates healthCheckExprs only with `wait` (or `healthChecks`): a Running Experiment is
                # Current, so the wait ends once Katib starts it, not when it finishes (docs/gitops.md, "Health").
                spec["timeout"] = gitops.flux_timeout or health.FLUX_TIMEOUT
            if gitops.health:
                spec["healthCheckExprs"] = [dict(check) for check in checks]
            if gitops.flux_depends_on:
                spec["dependsOn"] = [{"name": name} for name in gitops.flux_depends_on]
            if gitops.flux_retry_interval:
                spec["retryInterval"] = gitops.flux_retry_interval
            if gitops.flux_service_account:
                spec["serviceAccountName"] = gitops.flux_service_account
            if gitops.flux_target_namespace:
                spec["targetNamespace"] = overlay.namespace
            if target.cluster is not None and target.cluster.kube_config_secret:
                spec["kubeConfig"] = {"secretRef": {"name": target.cluster.kube_config_secret}}
            check_name(target.name, "Flux Kustomization", expansion.spec.source, label=True)
            annotations = {ANNOTATION_TARGET: overlay.directory}
            if target.cluster is not None:
                annotations[ANNOTATION_CLUSTER] = target.cluster.name
            kustomization = {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": target.name, "namespace": gitops.flux_namespace, "annotations": annotations},
                "spec": spec,
            }
            check_size(kustomization, GITOPS_OBJECT_LIMIT, expansion.spec.source, "shorten flux.dependsOn")
            out.append(kustomization)
    return out


# ------------------------------------------------------------------ files


class GitOpsFile(NamedTuple):
    """One file under `_gitops/`: its path there, its objects, and the spec it is for (None: the Targets file's)."""

    path: str
    objects: tuple[dict[str, Any], ...]
    expansion: Expansion | None
    many: bool  # a list of documents (`---` between them), even of one


APPLICATION_SET_FILE = "applicationset.yaml"  # argocd/<spec>.applicationset.yaml
APP_PROJECT_FILE = "appproject.yaml"  # argocd/<namespace>.appproject.yaml
FLUX_KUSTOMIZATIONS_FILE = "kustomizations.yaml"  # flux/<spec>.kustomizations.yaml
GIT_REPOSITORY_FILE = "flux/gitrepository.yaml"


def repository_files(gitops: GitOps, specs: Sequence[TuningSpec]) -> list[GitOpsFile]:
    """The Targets file's own objects, for the tools gitops.tools names: the GitRepository (unless
    flux.sourceRef) and the AppProjects (argocd.projectPerNamespace)."""
    files = []
    repository = git_repository(gitops) if "flux" in gitops.tools else None
    if repository is not None:
        files.append(GitOpsFile(GIT_REPOSITORY_FILE, (repository,), None, False))
    for project in app_projects(gitops, specs):
        namespace = project["spec"]["destinations"][0]["namespace"]
        files.append(GitOpsFile(f"argocd/{namespace}.{APP_PROJECT_FILE}", (project,), None, False))
    return files


def spec_files(gitops: GitOps, expansion: Expansion) -> list[GitOpsFile]:
    """One spec's ApplicationSet and Flux Kustomizations, for the tools gitops.tools names; none without
    overlays."""
    if not expansion.overlays:
        return []
    files = []
    name = expansion.spec.name
    if "argocd" in gitops.tools:
        appset = application_set(gitops, expansion)
        files.append(GitOpsFile(f"argocd/{name}.{APPLICATION_SET_FILE}", (appset,), expansion, False))
    if "flux" in gitops.tools:
        kustomizations = tuple(flux_kustomizations(gitops, [expansion]))
        files.append(GitOpsFile(f"flux/{name}.{FLUX_KUSTOMIZATIONS_FILE}", kustomizations, expansion, True))
    return files


def gitops_objects(
    gitops: GitOps, expansions: Sequence[Expansion], specs: Sequence[TuningSpec] | None = None
) -> list[dict[str, Any]]:
    """The objects of every spec's files (spec_files) and, given `specs`, the Targets file's own for them."""
    files = repository_files(gitops, specs) if specs is not None else []
    files += [file for expansion in expansions for file in spec_files(gitops, expansion)]
    return [obj for file in files for obj in file.objects]
