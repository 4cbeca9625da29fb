"""Render stage: build a kustomization in process, the way `kustomize build` does.

Covers the kustomization features katib-gitops emits (resources, namespace and
JSON6902 patches); anything else is refused with a clear message rather than
rendered differently from kustomize. Works on disk or on files not yet written,
so generate can prove every overlay renders to the Experiment it built before it
writes anything.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.plain import clone
from katib_gitops.core.registry import declare
from katib_gitops.kustomize import jsonpatch
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "patches"}
RULE = declare(
    "render",
    "TOOL",
    "A kustomization renders: its fields are ones the in-process renderer knows and its patches apply.",
).id
MAX_BASE_DEPTH = 100  # bases of bases: rendering recurses, and no real overlay nests this deep
CLUSTER_SCOPED = {
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
    "Node",
    "ClusterIssuer",
    "ClusterTrainingRuntime",
}


class Files(Protocol):
    rendered: dict[str, list[dict[str, Any]]]  # folders already rendered in this run: files do not change during one

    def read(self, path: str) -> str | None:
        """Text of the file at `path`, or None when there is no such file."""

    def is_dir(self, path: str) -> bool: ...


class DiskFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.rendered: dict[str, list[dict[str, Any]]] = {}

    def read(self, path: str) -> str | None:
        """The file's text; None when nothing is there. Never opens a FIFO or device (read_text stats first)."""
        full = self.root / path
        if not os.path.lexists(full):
            return None
        if os.path.islink(full) and not os.path.exists(full):
            raise UsageError(f"{path}: a broken or looping symbolic link")
        return read_text(full, path)

    def is_dir(self, path: str) -> bool:
        return (self.root / path).is_dir()

    def inside(self, path: str, directory: str) -> bool:
        """Whether `path`, symbolic links resolved, lies in or under `directory`."""
        top = os.path.realpath(self.root / directory)
        target = os.path.realpath(self.root / path)
        return target == top or target.startswith(top + os.sep)


class MemoryFiles:
    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = dict(files)
        self.dirs = {posixpath.dirname(p) for p in files}
        for d in list(self.dirs):
            while d:
                d = posixpath.dirname(d)
                self.dirs.add(d)
        self.rendered: dict[str, list[dict[str, Any]]] = {}

    def read(self, path: str) -> str | None:
        return self.files.get(posixpath.normpath(path))

    def is_dir(self, path: str) -> bool:
        return posixpath.normpath(path) in self.dirs

    def inside(self, path: str, directory: str) -> bool:
        top = posixpath.normpath(directory)
        return top == "." or posixpath.normpath(path).startswith(top + "/")


def render(files: Files, directory: str, _seen: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The resources `kustomize build directory` would print, in load order."""
    directory = posixpath.normpath(directory)
    if directory in _seen:
        raise UsageError(f"{directory}: kustomization cycle: {' -> '.join((*_seen, directory))}")
    if len(_seen) >= MAX_BASE_DEPTH:
        raise UsageError(
            f"{directory}: kustomization bases nested deeper than {MAX_BASE_DEPTH} levels "
            f"({_seen[0]} -> ... -> {directory})"
        )
    document = _kustomization(files, directory)
    data = document.data
    _refuse_unsupported(document)
    _check_types(document)
    resources: list[dict[str, Any]] = []
    for index, entry in enumerate(data.get("resources") or []):
        resources.extend(_load_resource(files, directory, entry, document, index, _seen + (directory,)))
    for index, patch in enumerate(data.get("patches") or []):
        resources = _apply_patch(files, directory, resources, patch, document, index)
    if data.get("namespace"):
        for resource in resources:
            if resource.get("kind") not in CLUSTER_SCOPED:
                metadata = resource.setdefault("metadata", {})
                if not isinstance(metadata, dict):
                    raise FindingsError(
                        [
                            document.diagnostic(
                                ["namespace"],
                                RULE,
                                "cannot set the namespace of a resource whose metadata is not a mapping "
                                f"({resource.get('kind')})",
                            )
                        ]
                    )
                metadata["namespace"] = data["namespace"]
    return resources


def _kustomization(files: Files, directory: str) -> Document:
    for name in KUSTOMIZATION_NAMES:
        path = posixpath.join(directory, name)
        text = files.read(path)
        if text is not None:
            documents = load_documents(text, path)
            if len(documents) != 1 or not isinstance(documents[0].data, dict):
                raise FindingsError([Diagnostic(path, 1, 1, RULE, "a kustomization must be one YAML mapping")])
            return documents[0]
    raise UsageError(f"{directory}: no kustomization.yaml here")


def _check_types(document: Document) -> None:
    data = document.data
    wrong = [
        (field, kind.__name__.replace("str", "string").replace("list", "list").replace("dict", "mapping"))
        for field, kind in (
            ("resources", list),
            ("patches", list),
            ("namespace", str),
            ("apiVersion", str),
            ("kind", str),
        )
        if data.get(field) is not None and not isinstance(data[field], kind)
    ]
    if wrong:
        raise FindingsError(
            [document.diagnostic([field], RULE, f"'{field}' must be a {kind}") for field, kind in wrong]
        )


def _refuse_unsupported(document: Document) -> None:
    unknown = sorted(set(document.data) - SUPPORTED_FIELDS)
    if unknown:
        raise FindingsError(
            [
                document.diagnostic(
                    [field],
                    RULE,
                    f"kustomization field '{field}' is not supported by the in-process renderer",
                    hint="katib-gitops emits only resources, namespace and JSON6902 patches; "
                    "use `kubectl kustomize` for others",
                    at_key=True,
                )
                for field in unknown
            ]
        )


def _load_resource(
    files: Files, directory: str, entry: Any, owner: Document, index: int, seen: tuple[str, ...]
) -> list[dict[str, Any]]:
    if not isinstance(entry, str) or "://" in entry or entry.startswith("/"):
        raise FindingsError(
            [owner.diagnostic(["resources", index], RULE, f"resource {entry!r} must be a relative path")]
        )
    if not entry.strip():
        raise FindingsError(
            [owner.diagnostic(["resources", index], RULE, "resource is empty: name a file or a folder")]
        )
    path = posixpath.normpath(posixpath.join(directory, entry))
    if path in seen:
        cycle = " -> ".join((*seen[seen.index(path) :], path))
        raise FindingsError(
            [owner.diagnostic(["resources", index], RULE, f"resource {entry!r} is a kustomization cycle: {cycle}")]
        )
    if files.is_dir(path):
        if path not in files.rendered:  # a base shared by many overlays is rendered once
            files.rendered[path] = render(files, path, seen)
        cloned: list[dict[str, Any]] = clone(files.rendered[path])  # patches and namespaces change what they get
        return cloned
    _restrict(files, path, directory, owner, ["resources", index])
    text = files.read(path)
    if text is None:
        raise FindingsError([owner.diagnostic(["resources", index], RULE, f"resource {entry!r} does not exist")])
    return [d.data for d in load_documents(text, path) if isinstance(d.data, dict)]


def _restrict(files: Files, path: str, directory: str, owner: Document, where: list[str | int]) -> None:
    """kustomize's default load restriction (LoadRestrictionsRootOnly).

    A file must lie in or under its kustomization's folder.
    """
    inside = getattr(files, "inside", None)
    if inside is not None and not inside(path, directory):
        raise FindingsError(
            [
                owner.diagnostic(
                    where,
                    RULE,
                    f"{path} is not in or under {directory}",
                    hint="kustomize loads files only from the kustomization's own folder (symbolic links resolved)",
                )
            ]
        )


def _apply_patch(
    files: Files, directory: str, resources: list[dict[str, Any]], patch: Any, owner: Document, index: int
) -> list[dict[str, Any]]:
    where: list[str | int] = ["patches", index]
    if not isinstance(patch, dict):
        raise FindingsError(
            [owner.diagnostic(where, RULE, "a patch must be a mapping with 'target' and 'patch' or 'path'")]
        )
    text = patch.get("patch")
    if text is not None and not isinstance(text, str):
        raise FindingsError([owner.diagnostic([*where, "patch"], RULE, "'patch' must be a string holding the patch")])
    display = f"{owner.file} patches[{index}]"
    if text is None:
        if "path" not in patch:
            raise FindingsError([owner.diagnostic(where, RULE, "a patch needs 'patch' (the operations) or 'path'")])
        entry = patch["path"]
        if not isinstance(entry, str) or not entry.strip() or "://" in entry or entry.startswith("/"):
            raise FindingsError(
                [owner.diagnostic([*where, "path"], RULE, f"patch path {entry!r} must be a relative file path")]
            )
        patch_path = posixpath.normpath(posixpath.join(directory, entry))
        _restrict(files, patch_path, directory, owner, [*where, "path"])
        if files.is_dir(patch_path):
            raise FindingsError(
                [owner.diagnostic([*where, "path"], RULE, f"patch file {entry!r} is a folder, not a file")]
            )
        text = files.read(patch_path)
        if text is None:
            raise FindingsError([owner.diagnostic([*where, "path"], RULE, f"patch file {entry!r} does not exist")])
        display = patch_path
    ops = load_documents(text, display)
    if not ops:
        raise FindingsError([owner.diagnostic(where, RULE, "patch is empty: no operations")])
    if len(ops) != 1 or not isinstance(ops[0].data, list):
        raise FindingsError(
            [
                owner.diagnostic(
                    where,
                    RULE,
                    "only JSON6902 patches (a list of operations) are supported",
                    hint="strategic merge patches replace lists inside custom resources; use JSON6902",
                )
            ]
        )
    target = patch.get("target") or {}
    if not isinstance(target, dict):
        raise FindingsError(
            [
                owner.diagnostic(
                    [*where, "target"], RULE, "'target' must be a mapping (group, version, kind, name, namespace)"
                )
            ]
        )
    matched = False
    out = []
    for resource in resources:
        if _matches(resource, target):
            matched = True
            try:
                resource = jsonpatch.apply(resource, ops[0].data)
            except jsonpatch.PatchError as exc:
                raise FindingsError([owner.diagnostic(where, RULE, f"patch does not apply: {exc}")]) from exc
        out.append(resource)
    if not matched:
        raise FindingsError([owner.diagnostic(where, RULE, "patch target matches no resource")])
    return out


def _matches(resource: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    group, _, version = str(resource.get("apiVersion", "")).rpartition("/")
    meta = resource.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    actual = {
        "group": group,
        "version": version,
        "kind": resource.get("kind"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
    }
    for key, wanted in target.items():
        if key in ("labelSelector", "annotationSelector"):
            return False
        if key in actual and not _full_match(str(wanted), str(actual[key] or "")):
            return False
    return True


def _full_match(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return pattern == text
