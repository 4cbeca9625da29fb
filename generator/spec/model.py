"""Load stage: read specs/ into typed TuningSpecs and the repository's Targets."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.kinds import (
    API_VERSION,
    KATIB_VERSION,
    SPEC_KIND,
    TARGETS_KIND,
)  # re-exported: katib_gitops.spec.model is where callers look
from katib_gitops.schema import ours
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import decode, read_bytes, read_text, walk

if TYPE_CHECKING:
    from katib_gitops.spec.katib_config import KatibConfig

DEFAULT_GITOPS_PATH = "overlays"
# What generate writes for a spec (docs/optimizationjob.md): spec.backend, else the Targets file's, else Katib.
KATIB_BACKEND = "katib"
OPTIMIZATION_JOB_BACKEND = "optimizationjob"


@dataclasses.dataclass(frozen=True)
class Delivery:
    """How a parameter value reaches the trial container."""

    mode: str  # "flag" | "env" | "placeholder"
    flag: str = ""
    style: str = "separate"  # "separate": [--lr, value]; "equals": [--lr=value]
    env: str = ""


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    trial_parameter: str
    delivery: Delivery
    description: str
    distribution: str = "uniform"
    min: float | int | None = None
    max: float | int | None = None
    step: float | int | None = None
    values: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class TuningSpec:
    """One validated spec; `body` is its schema-checked `spec` mapping."""

    name: str
    document: Document
    body: Mapping[str, Any]
    parameters: tuple[Parameter, ...]
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    source: str = ""  # path under the specs folder's parent, stable whatever the cwd

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(self.body["targets"]["namespaces"])

    @property
    def profiles(self) -> tuple[str, ...]:
        return tuple(self.body["targets"]["profiles"])

    @property
    def clusters(self) -> tuple[str, ...]:
        """The Targets file's gitops.clusters this spec deploys to; () for the one default destination."""
        return tuple(self.body["targets"].get("clusters", ()))

    @property
    def trial(self) -> Mapping[str, Any]:
        trial: Mapping[str, Any] = self.body["trial"]
        return trial


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    body: Mapping[str, Any]

    @property
    def budget(self) -> Mapping[str, Any]:
        budget: Mapping[str, Any] = self.body.get("budget", {})
        return budget


@dataclasses.dataclass(frozen=True)
class Cluster:
    """One of the Targets file's gitops.clusters: where Argo CD and Flux deploy a spec that names it."""

    name: str
    server: str = ""  # Argo CD destination.server
    destination_name: str = ""  # Argo CD destination.name (one of the two)
    kube_config_secret: str = ""  # Flux spec.kubeConfig.secretRef.name; '': the cluster Flux runs in


TOOLS = ("argocd", "flux")


@dataclasses.dataclass(frozen=True)
class GitOps:
    repo_url: str
    revision: str
    path: str
    argocd_namespace: str
    argocd_project: str
    argocd_server: str
    flux_namespace: str
    flux_interval: str
    flux_depends_on: tuple[str, ...]
    # Health checks for Katib's kinds (docs/gitops.md, "Health"): the argocd-cm patch, and Flux waiting on
    # healthCheckExprs. Off by default: the output is then what it was before the setting existed.
    health: bool = False
    tools: tuple[str, ...] = TOOLS  # which tools' objects are written (gitops.tools)
    name_prefix: str = ""  # gitops.names.prefix; '': unique per repository (expand/gitops.py, repository_prefix)
    git_repository_name: str = ""  # gitops.names.gitRepository; '': the prefix
    argocd_destination_name: str = ""  # argocd.destinationName, instead of argocd_server
    argocd_projects: tuple[tuple[str, str], ...] = ()  # argocd.projects: (namespace, project), sorted
    argocd_project_per_namespace: bool = False  # argocd.projectPerNamespace: an AppProject per namespace
    flux_secret_ref: str = ""  # flux.secretRef: the GitRepository's credentials
    flux_source: tuple[str, str] | None = None  # flux.sourceRef (name, namespace): an existing GitRepository
    flux_service_account: str = ""  # flux.serviceAccountName
    flux_retry_interval: str = ""
    flux_timeout: str = ""
    flux_target_namespace: bool = False  # flux.targetNamespace: each Kustomization's is its overlay's namespace
    clusters: tuple[Cluster, ...] = ()  # gitops.clusters, sorted by name

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def project(self, namespace: str) -> str:
        """The Argo CD project of the Applications that deploy to `namespace` (projectPerNamespace aside)."""
        return dict(self.argocd_projects).get(namespace, self.argocd_project)


@dataclasses.dataclass(frozen=True)
class Targets:
    document: Document
    namespaces: tuple[str, ...]
    profiles: Mapping[str, Profile]
    gitops: GitOps | None
    source: str = ""
    backend: str = ""  # spec.backend of the Targets file: every spec's that does not set its own; "" when unset


def backend_of(spec: TuningSpec, targets: Targets) -> str:
    """The backend generate builds `spec` for: the spec's own `backend`, else the Targets file's, else katib."""
    return str(spec.body.get("backend") or targets.backend or KATIB_BACKEND)


@dataclasses.dataclass(frozen=True)
class SpecSet:
    """Everything under a specs folder: the Targets and every TuningSpec, sorted by name."""

    targets: Targets
    specs: tuple[TuningSpec, ...]
    katib_config: KatibConfig | None = None  # the cluster's (--katib-config); None: Katib's standalone install
    katib_version: tuple[int, int] = KATIB_VERSION  # the Katib release targeted (generate --katib-version)


# ------------------------------------------------------------ pure helpers


def camel_case(name: str) -> str:
    """`--learning-rate` -> `learningRate`: a trialParameter name Katib accepts."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    if not words:
        return "param"
    head, tail = words[0], words[1:]
    text = head[0].lower() + head[1:] + "".join(w[0].upper() + w[1:] for w in tail)
    return text if not text[0].isdigit() else f"p{text}"


def default_flag(name: str) -> str:
    return name if name.startswith("-") else f"--{name}"


def parse_delivery(raw: Any, name: str) -> Delivery:
    if raw is None or raw == "flag":
        return Delivery("flag", flag=default_flag(name))
    if raw == "placeholder":
        return Delivery("placeholder")
    if "env" in raw:
        return Delivery("env", env=raw["env"])
    return Delivery("flag", flag=raw["flag"], style=raw.get("style", "separate"))


def parse_parameter(raw: Mapping[str, Any]) -> Parameter:
    return Parameter(
        name=raw["name"],
        type=raw["type"],
        trial_parameter=raw.get("trialParameter") or camel_case(raw["name"]),
        delivery=parse_delivery(raw.get("pass"), raw["name"]),
        description=raw.get("description", ""),
        distribution=raw.get("distribution", "uniform"),
        min=raw.get("min"),
        max=raw.get("max"),
        step=raw.get("step"),
        values=tuple(raw.get("values", ())),
    )


def parse_spec(document: Document, source: str = "") -> TuningSpec:
    data = document.data
    meta = data["metadata"]
    body = data["spec"]
    return TuningSpec(
        name=meta["name"],
        document=document,
        body=body,
        parameters=tuple(parse_parameter(p) for p in body.get("parameters", ())),
        labels=meta.get("labels", {}),
        annotations=meta.get("annotations", {}),
        source=source or document.file,
    )


def parse_targets(document: Document, source: str = "") -> Targets:
    body = document.data["spec"]
    profiles = {name: Profile(name, raw) for name, raw in sorted(body["profiles"].items())}
    gitops = parse_gitops(body.get("gitops"))
    return Targets(
        document, tuple(body["namespaces"]), profiles, gitops, source or document.file, body.get("backend", "")
    )


def parse_gitops(raw: Mapping[str, Any] | None) -> GitOps | None:
    if raw is None:
        return None
    argo = raw.get("argocd", {})
    flux = raw.get("flux", {})
    names = raw.get("names", {})
    source = flux.get("sourceRef")
    clusters = tuple(
        Cluster(
            name,
            server=body.get("server", ""),
            destination_name=body.get("destinationName", ""),
            kube_config_secret=body.get("kubeConfigSecret", ""),
        )
        for name, body in sorted(raw.get("clusters", {}).items())
    )
    default_server = "" if "destinationName" in argo else "https://kubernetes.default.svc"
    return GitOps(
        repo_url=raw["repoURL"],
        revision=raw.get("revision", "main"),
        path=raw.get("path", DEFAULT_GITOPS_PATH).strip("/"),
        argocd_namespace=argo.get("namespace", "argocd"),
        argocd_project=argo.get("project", "default"),
        argocd_server=argo.get("server", default_server),
        flux_namespace=flux.get("namespace", "flux-system"),
        flux_interval=flux.get("interval", "10m"),
        flux_depends_on=tuple(flux.get("dependsOn", ())),
        health=raw.get("health", False),
        tools=tuple(t for t in TOOLS if t in raw.get("tools", TOOLS)),
        name_prefix=names.get("prefix", ""),
        git_repository_name=names.get("gitRepository", ""),
        argocd_destination_name=argo.get("destinationName", ""),
        argocd_projects=tuple(sorted(argo.get("projects", {}).items())),
        argocd_project_per_namespace=argo.get("projectPerNamespace", False),
        flux_secret_ref=flux.get("secretRef", ""),
        flux_source=None if source is None else (source["name"], source.get("namespace", "")),
        flux_service_account=flux.get("serviceAccountName", ""),
        flux_retry_interval=flux.get("retryInterval", ""),
        flux_timeout=flux.get("timeout", ""),
        flux_target_namespace=flux.get("targetNamespace", False),
        clusters=clusters,
    )


# ------------------------------------------------------------ I/O edge


def find_spec_files(specs_dir: Path) -> list[Path]:
    """Every .yaml/.yml file under the specs folder; symbolic links never lead out of it (yamlio.reader.walk)."""
    if not specs_dir.is_dir():
        raise UsageError(
            f"{specs_dir}: no such directory" if not specs_dir.exists() else f"{specs_dir}: not a directory"
        )
    files = [here / name for here, _, names in walk(specs_dir) for name in names if name.endswith((".yaml", ".yml"))]
    return _once_each(sorted(files, key=lambda p: p.relative_to(specs_dir).as_posix()))


def targets_gitops_path(
    specs_dir: Path, files: Sequence[Path] | None = None, read: Callable[[Path, str], bytes] = read_bytes
) -> str | None:
    """The Targets file's `gitops.path` (its default when the block leaves it out), read ahead of the full load.

    None when the Targets file has no `gitops` block, or cannot be read or typed here: the full load
    (load_spec_set) then reports what is wrong. Only files that mention the Targets kind are parsed.
    `files`: find_spec_files(specs_dir), when the caller has it; `read`: how a file's bytes are read (a caller
    that reads them anyway gives a reader that keeps them).
    """
    found: list[str] = []
    for path in find_spec_files(specs_dir) if files is None else files:
        try:
            text = decode(read(path, str(path)), str(path))
            if TARGETS_KIND not in text:
                continue
            documents = load_documents(text, str(path))
        except FindingsError:
            return None
        for document in documents:
            data = document.data
            if not isinstance(data, dict) or data.get("kind") != TARGETS_KIND or not isinstance(data.get("spec"), dict):
                continue
            raw = data["spec"].get("gitops")
            if raw is None:
                continue
            value = raw.get("path", DEFAULT_GITOPS_PATH) if isinstance(raw, dict) else None
            if not isinstance(value, str):
                return None
            found.append(value.strip("/"))
    return found[0] if len(found) == 1 else None


def repository_root(specs_dir: Path) -> Path:
    """Where `gitops.path` starts: the root of the Git repository that holds the specs folder (the nearest
    folder above it with a `.git`), or, outside a repository, the specs folder's parent, the folder spec
    sources are named from (docs/gitops.md, "Where the output goes")."""
    specs = Path(os.path.realpath(specs_dir))
    for folder in specs.parents:
        if os.path.lexists(folder / ".git"):
            return folder
    return specs.parent


def _once_each(files: Sequence[Path]) -> list[Path]:
    """Each file read once: a link to a file that is itself listed is the same spec, not a second one.

    walk keeps links inside the folder, so a link's target is listed too, unless it is not
    a .yaml file: then the link, the only name for it, is kept.
    """
    links = {path for path in files if path.is_symlink()}
    folders: dict[Path, str] = {}

    def real(path: Path) -> str:  # os.path.realpath, resolving each folder once: a file that is no link is itself
        if path in links:
            return os.path.realpath(path)
        folder = folders.get(path.parent)
        if folder is None:
            folder = folders[path.parent] = os.path.realpath(path.parent)
        return os.path.join(folder, path.name)

    reals = {path: real(path) for path in files}
    targets = {reals[path] for path in files if path not in links}
    kept: list[Path] = []
    seen: set[str] = set()
    for path in files:
        target = reals[path]
        if (path in links and target in targets) or target in seen:
            continue
        seen.add(target)
        kept.append(path)
    return kept


def parse_file(path: Path, display: str) -> list[Document]:
    """A spec file's documents, read and parsed; FindingsError for anything wrong with them as YAML."""
    return load_documents(read_text(path, display), display)


def read_documents(
    files: Sequence[Path],
    base: Path,
    displays: Mapping[Path, str] | None = None,
    parse: Callable[[Path, str], list[Document]] = parse_file,
) -> list[Document]:
    """Every document of `files`, each named as `displays` (or _displays) names its file; `parse` reads and parses
    one file (parse_file, unless a caller keeps what it read: commands/generate/parse_cache.py)."""
    displays = _displays(files, base) if displays is None else displays
    documents: list[Document] = []
    problems: list[Diagnostic] = []
    for path in files:
        display = displays[path]
        try:
            documents.extend(parse(path, display))
        except FindingsError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise FindingsError(problems)
    return documents


def _displays(files: Sequence[Path], base: Path) -> dict[Path, str]:
    """How findings name each file: its real path from `base` (the current folder), else as given.

    A file that is no symbolic link is its real folder's entry, so each folder is resolved once (a
    thousand specs in one folder: one resolve, not a thousand of every component of the path).
    """
    real_base = base.resolve()
    folders: dict[Path, Path] = {}
    shown: dict[Path, str] = {}
    for path in files:
        if path.is_symlink():
            real = path.resolve()
        else:
            folder = folders.get(path.parent)
            if folder is None:
                folder = folders[path.parent] = path.parent.resolve()
            real = folder / path.name
        try:
            shown[path] = real.relative_to(real_base).as_posix()
        except ValueError:
            shown[path] = str(path)
    return shown


def load_spec_set(
    specs_dir: Path,
    base: Path | None = None,
    files: Sequence[Path] | None = None,
    parse: Callable[[Path, str], list[Document]] = parse_file,
) -> SpecSet:
    """Read, schema-check and type every document under `specs_dir`.

    Raises FindingsError with every problem found, so one run shows them all. `files`: find_spec_files(specs_dir),
    when the caller has it; `parse`: as for read_documents.
    """
    files = find_spec_files(specs_dir) if files is None else files
    base = base or Path.cwd()
    displays = _displays(files, base)
    documents = read_documents(files, base, displays, parse)
    folder = specs_dir.resolve().name
    sources = {displays[p]: f"{folder}/{p.relative_to(specs_dir).as_posix()}" for p in files}
    problems: list[Diagnostic] = []
    spec_docs, target_docs = classify(documents, problems)
    for document in spec_docs:
        problems.extend(ours.check(document, "tuningspec"))
    for document in target_docs:
        problems.extend(ours.check(document, "targets"))
    if not problems:
        problems.extend(p for d in spec_docs + target_docs for p in name_problems(d))
    if len(target_docs) != 1:
        problems.append(_targets_count_problem(specs_dir, target_docs))
    if problems:
        raise FindingsError(problems)
    specs = sorted((parse_spec(d, sources[d.file]) for d in spec_docs), key=lambda s: (s.name, s.source))
    return SpecSet(parse_targets(target_docs[0], sources[target_docs[0].file]), tuple(specs))


def classify(documents: Sequence[Document], problems: list[Diagnostic]) -> tuple[list[Document], list[Document]]:
    specs, targets = [], []
    for document in documents:
        kind = document.data.get("kind") if isinstance(document.data, dict) else None
        if kind == SPEC_KIND:
            specs.append(document)
        elif kind == TARGETS_KIND:
            targets.append(document)
        else:
            problems.append(_unknown_document(document, kind))
    return specs, targets


def _unknown_document(document: Document, kind: Any) -> Diagnostic:
    what = f"kind {kind!r}" if kind is not None else "a document without 'kind'"
    return document.diagnostic(
        ["kind"] if kind is not None else [],
        SCHEMA_KIND_RULE,
        f"{what} does not belong in the specs folder",
        hint=f"specs/ holds '{SPEC_KIND}' and one '{TARGETS_KIND}' document ({API_VERSION})",
    )


SCHEMA_KIND_RULE = ours.SCHEMA.id  # a specs folder that holds the wrong documents fails its schema
# Names that become folder names under the output: ASCII DNS labels, matched to the end of the text
# (a JSON Schema `pattern` ending in `$` also accepts a trailing newline).
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
MAX_LABEL = 63


def name_problems(document: Document) -> list[Diagnostic]:
    """Names that become paths (spec name, namespaces, profiles) are ASCII DNS labels.

    No '/', '..', control characters or look-alikes.
    """
    data = document.data
    spec = data.get("spec") or {}
    found: list[tuple[list[str | int], Any]] = []
    if data.get("kind") == SPEC_KIND:
        found.append((["metadata", "name"], (data.get("metadata") or {}).get("name")))
        targets = spec.get("targets") or {}
        found += [
            (["spec", "targets", field, i], v)
            for field in ("namespaces", "profiles")
            for i, v in enumerate(targets.get(field) or [])
        ]
    else:
        found += [(["spec", "namespaces", i], v) for i, v in enumerate(spec.get("namespaces") or [])]
        found += [(["spec", "profiles", k], k) for k in (spec.get("profiles") or {})]
    return [
        document.diagnostic(
            path,
            SCHEMA_KIND_RULE,
            f"{value!r} is not a DNS label (lowercase ASCII letters, digits and '-', at most {MAX_LABEL})",
            hint="it names a folder of the output and a Kubernetes object",
            at_key=path[-2:-1] == ["profiles"] and isinstance(path[-1], str),
        )
        for path, value in found
        if not isinstance(value, str) or not DNS_LABEL.match(value) or len(value) > MAX_LABEL
    ]


def _targets_count_problem(specs_dir: Path, target_docs: Sequence[Document]) -> Diagnostic:
    if not target_docs:
        return Diagnostic(
            str(specs_dir),
            1,
            1,
            SCHEMA_KIND_RULE,
            f"no '{TARGETS_KIND}' document found",
            hint="add specs/targets.yaml declaring namespaces and profiles",
        )
    second = target_docs[1]
    return second.diagnostic(
        [], SCHEMA_KIND_RULE, f"more than one '{TARGETS_KIND}' document (first in {target_docs[0].file})"
    )
