"""Which inputs of `validate` are checked strictly, which are ignored, and which YAML is clearly no manifest.

The configuration file (`.katib-gitops.yaml`, read by katib_gitops.cli.config) names the paths a
team checks and the paths it ignores. A pre-commit hook hands `validate` every staged YAML file,
so a repository's other YAML (`.yamllint`, `mkdocs.yml`, `docker-compose.yml`, Helm `values.yaml`)
arrives too. A file outside the configured paths whose every document is clearly not a Kubernetes
object (a mapping without `apiVersion`, `kind` and `metadata`) is passed over with a note. Inside the
configured paths, and for kustomization files by name, every document is checked as before.

Patterns of `ignore` are matched like .gitignore lines, relative to the configuration file's folder:
a pattern without '/' matches a file or folder of that name at any depth (`values.yaml`), one with
'/' matches the path from that folder (`charts/`, `docs/*.yml`); `*` and `?` are fnmatch's. A
folder that matches ignores everything below it.
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import os
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")  # as kustomize.render
RENDERED_SUFFIX = " (rendered)"
# Top-level keys whose presence makes a document look like a Kubernetes object, however broken.
MANIFEST_KEYS = ("apiVersion", "kind", "metadata")


class Scope(NamedTuple):
    """Paths are absolute and normalised; `ignore` patterns are relative to `root`."""

    root: str = ""
    paths: tuple[str, ...] = ()  # checked strictly (with the kustomization files anywhere)
    ignore: tuple[str, ...] = ()
    pass_over: bool = True  # YAML that is clearly no manifest, outside `paths`, gets a note instead of an error

    def ignored(self, display: str) -> bool:
        """True when `display` (a path as `validate` shows it) or a folder above it matches an ignore pattern."""
        if not self.ignore or display == "<stdin>":
            return False
        relative = _relative(display, self.root or os.getcwd())
        if relative is None:
            return False
        parts = relative.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        for pattern in self.ignore:
            anchored = pattern.strip("/")
            if "/" in anchored:
                if any(fnmatchcase(prefix, anchored) for prefix in prefixes):
                    return True
            elif any(fnmatchcase(part, anchored) for part in parts):
                return True
        return False

    def configured(self, display: str) -> bool:
        """True when `display` is one of the configured paths or lies below one."""
        if display == "<stdin>":
            return True  # what is piped in is meant to be checked
        here = os.path.abspath(_path_of(display))
        return any(here == path or here.startswith(path.rstrip(os.sep) + os.sep) for path in self.paths)


def not_a_manifest(display: str, documents: Sequence[Any], rendered: bool) -> bool:
    """Every document is clearly no Kubernetes object: a mapping without apiVersion, kind and metadata.

    A list or a scalar is no manifest either, but no tool's configuration looks like that: it stays an error.

    A kustomization file (by name) and a rendered kustomization are never passed over.
    """
    if rendered or not documents or os.path.basename(display) in KUSTOMIZATION_NAMES:
        return False
    return all(isinstance(data, dict) and not any(key in data for key in MANIFEST_KEYS) for data in documents)


def is_kustomization_file(display: str) -> bool:
    return os.path.basename(_path_of(display)) in KUSTOMIZATION_NAMES


def _path_of(display: str) -> str:
    return display.removesuffix(RENDERED_SUFFIX)


def _relative(display: str, root: str) -> str | None:
    relative = os.path.relpath(os.path.abspath(_path_of(display)), root)
    if relative == ".." or relative.startswith(".." + os.sep):
        return None
    return relative.replace(os.sep, "/")
