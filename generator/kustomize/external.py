"""Kustomizations katib-gitops did not write, built by the real kustomize.

The in-process renderer (`render`) is proven identical to kustomize only on katib-gitops' own
overlays. Any other kustomization is built by `kustomize build DIR` or `kubectl kustomize DIR`
(found on PATH, `kustomize` first, or named with `--kustomize-command`); when neither is there,
the kustomization is refused (exit 2) with a message naming `--no-render`, never rendered
differently.

The output carries no positions in the user's files, so each resource is traced back by
(apiVersion, kind, name) to the document of the kustomization's resource files it came from
(`sources`), or by (apiVersion, kind) when only one document has them (a renamed resource); a
finding then points at the field there when it holds the rendered value unchanged, else (a
field the kustomization changed; a resource no file holds, such as a generator's) at the
kustomization file.
"""

from __future__ import annotations

import os
import posixpath
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.kustomize import render
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_text

TIMEOUT = 300  # seconds; a build that hangs (a remote base that never answers) is stopped, not waited for


def command(configured: str = "") -> list[str]:
    """The command line that builds a kustomization when the folder is appended to it."""
    if configured:
        words = shlex.split(configured)
        if not words:
            raise UsageError("--kustomize-command is empty: name `kustomize` or `kubectl`, or a command line")
        program = os.path.basename(words[0])
        if len(words) == 1 and program in ("kustomize", "kustomize.exe"):
            words.append("build")
        elif len(words) == 1 and program in ("kubectl", "kubectl.exe"):
            words.append("kustomize")
        if shutil.which(words[0]) is None:
            raise UsageError(f"--kustomize-command: {words[0]}: no such program")
        return words
    for program, verb in (("kustomize", "build"), ("kubectl", "kustomize")):
        found = shutil.which(program)
        if found is not None:
            return [found, verb]
    raise UsageError(
        "cannot render kustomizations katib-gitops did not write: neither `kustomize` nor `kubectl` is on PATH; "
        "install one, name it with --kustomize-command, or pass --no-render to check the folder's files as they are"
    )


def build(directory: str, configured: str = "") -> tuple[list[dict[str, Any]], list[render.Trace]]:
    """The resources the real kustomize prints for `directory` (relative to the working folder), traced."""
    argv = [*command(configured), directory]
    kustomization = _kustomization_file(directory)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise FindingsError(
            [Diagnostic(kustomization, 1, 1, render.RULE, f"`{shlex.join(argv)}` did not finish in {TIMEOUT} s")]
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    if done.returncode != 0:
        reason = _reason(done.stderr) or f"exit status {done.returncode}"
        raise FindingsError(
            [
                Diagnostic(
                    kustomization,
                    1,
                    1,
                    render.RULE,
                    f"kustomize refuses this kustomization: {reason}",
                    hint=f"the output of `{shlex.join([os.path.basename(argv[0]), *argv[1:]])}`",
                )
            ]
        )
    try:
        documents = load_documents(done.stdout, f"{directory} (rendered)", strict=False)
    except FindingsError as exc:  # what kustomize printed is not YAML Kubernetes reads: say so at the kustomization
        first = exc.diagnostics[0]
        raise FindingsError(
            [Diagnostic(kustomization, 1, 1, first.rule_id, f"kustomize's output: {first.message}", hint=first.hint)]
        ) from None
    resources = [d.data for d in documents if isinstance(d.data, dict)]
    return resources, _traces(resources, directory, kustomization)


def _reason(stderr: str) -> str:
    """kustomize's error without klog's prefix (`E1204 10:00:00.1 1 run.go:72] "command failed" err="..."`,
    or `err=<` and the message's lines up to `>`), on one line."""
    text = " ".join(stderr.split())
    quoted = re.search(r'err="((?:[^"\\]|\\.)*)"', text)
    block = re.search(r"err=< (.*?) >$", text)
    if quoted is not None:
        text = quoted.group(1).replace('\\"', '"').replace("\\\\", "\\")
    elif block is not None:
        text = block.group(1)
    return text.removeprefix("Error: ").removeprefix("error: ")


def _kustomization_file(directory: str) -> str:
    for name in render.KUSTOMIZATION_NAMES:
        if os.path.isfile(os.path.join(directory, name)):
            return posixpath.join(Path(directory).as_posix(), name)
    return Path(directory).as_posix()


def _traces(resources: list[dict[str, Any]], directory: str, kustomization: str) -> list[render.Trace]:
    """Each resource's source document: the one of the same (apiVersion, kind, name), else the only one of its
    (apiVersion, kind) (a renamed resource), else none (the kustomization itself)."""
    found: dict[tuple[str, str, str], Document] = {}
    by_kind: dict[tuple[str, str], list[Document]] = {}
    for source in sources(directory):
        key = _identity(source.data)
        found.setdefault(key, source)
        by_kind.setdefault(key[:2], []).append(source)
    here = (kustomization, 1, 1)
    fallback = render.Trace(Document(kustomization, 0, {}, None), (render.Override((), *here),))
    traces = []
    for resource in resources:
        key = _identity(resource)
        document: Document | None = found.get(key)
        if document is None and len(by_kind.get(key[:2], ())) == 1:
            document = by_kind[key[:2]][0]
        traces.append(render.Trace(document, changed_at=here) if document is not None else fallback)
    return traces


def _identity(data: dict[str, Any]) -> tuple[str, str, str]:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return str(data.get("apiVersion")), str(data.get("kind")), str(name)


def sources(directory: str, _seen: frozenset[str] = frozenset()) -> list[Document]:
    """The documents of the kustomization's local resource files, bases and components, recursively."""
    real = os.path.realpath(directory)
    if real in _seen or len(_seen) >= render.MAX_BASE_DEPTH:
        return []
    seen = _seen | {real}
    kustomization = _kustomization_file(directory)
    documents = _read(kustomization)
    data = documents[0].data if len(documents) == 1 and isinstance(documents[0].data, dict) else {}
    out: list[Document] = []
    for field in ("resources", "bases", "components"):
        entries = data.get(field)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str) or "://" in entry or entry.startswith(("/", "git@", "github.com/")):
                continue
            path = os.path.join(directory, entry)
            if os.path.isdir(path):
                out.extend(sources(path, seen))
            elif os.path.isfile(path):
                out.extend(d for d in _read(Path(os.path.normpath(path)).as_posix()) if isinstance(d.data, dict))
    return out


def _read(path: str) -> list[Document]:
    try:
        return load_documents(read_text(Path(path), path), path, strict=False)
    except (FindingsError, UsageError, OSError):
        return []
