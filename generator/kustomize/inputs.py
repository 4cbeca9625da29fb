"""Validator inputs: files, directories (kustomizations rendered in process), and stdin."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.registry import declare
from katib_gitops.kustomize import render
from katib_gitops.yamlio.documents import Document, expand_lists, load_documents
from katib_gitops.yamlio.reader import read_stream, read_text, walk

YAML_SUFFIXES = (".yaml", ".yml")
STDIN = "-"
EMPTY_INPUT = declare(
    "empty-input",
    "TOOL",
    "The input holds at least one document: an empty input is an error, never a silent pass.",
)


class Source(NamedTuple):
    """One input the user named (or a file found in a folder they named), parsed."""

    display: str
    documents: tuple[Document, ...]
    rendered: bool = False


class Inputs(NamedTuple):
    sources: tuple[Source, ...]
    problems: tuple[Diagnostic, ...]  # files that could not be parsed


Loader = Callable[[], Source]


class Unit(NamedTuple):
    """One thing to read: a file, a rendered kustomization, or stdin; `named` when the user named it."""

    display: str
    named: bool
    loader: Loader

    def load(self) -> tuple[Source, list[Diagnostic]]:
        """The parsed source and the problems that made it unreadable or empty."""
        try:
            source = self.loader()
        except FindingsError as exc:
            return Source(self.display, ()), list(exc.diagnostics)
        if not source.documents and self.named:
            # A file named on the command line (or stdin) that holds nothing is an error, never a pass.
            return source, [
                Diagnostic(
                    self.display,
                    1,
                    1,
                    EMPTY_INPUT.id,
                    "no YAML documents in this input",
                    hint="an empty file, only comments, or only '---': there is nothing to check",
                )
            ]
        return source, []


def plan(paths: Sequence[str], *, render_kustomizations: bool, stdin: TextIO) -> list[Unit]:
    """Everything to read, in order; nothing is read yet (usage problems raise UsageError)."""
    if not paths:
        raise UsageError("nothing to validate: name files, folders, or '-' for standard input")
    return [
        Unit(display, display == _named(name), loader)
        for name in paths
        for display, loader in _expand(name, render_kustomizations, stdin)
    ]


def collect(paths: Sequence[str], *, render_kustomizations: bool, stdin: TextIO) -> Inputs:
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    for unit in plan(paths, render_kustomizations=render_kustomizations, stdin=stdin):
        source, found = unit.load()
        sources.append(source)
        problems.extend(found)
    return Inputs(tuple(sources), tuple(problems))


def _named(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def _expand(name: str, render_kustomizations: bool, stdin: TextIO) -> Iterator[tuple[str, Loader]]:
    if name == STDIN:
        yield "<stdin>", lambda: _parse(read_stream(stdin, "<stdin>"), "<stdin>")
        return
    path = Path(name)
    kind = _kind(path, name)
    if kind == "dir":
        yield from _walk(path, render_kustomizations)
    else:
        yield name, lambda: _parse(read_text(path, name), name)


def _kind(path: Path, name: str) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file or directory") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        return "dir"
    if not stat.S_ISREG(mode):
        raise UsageError(f"{name}: not a regular file (device, FIFO or socket), not read")
    return "file"


def _walk(root: Path, render_kustomizations: bool) -> Iterator[tuple[str, Loader]]:
    for here, _subdirs, files in walk(root, skip_hidden=True):
        if render_kustomizations and any(n in files for n in render.KUSTOMIZATION_NAMES):
            display = here.as_posix()
            yield display, functools.partial(_render, here, display)
            continue
        for file_name in sorted(files):
            if file_name.endswith(YAML_SUFFIXES):
                path = here / file_name
                shown = path.as_posix()
                yield shown, functools.partial(_read_and_parse, path, shown)


def _read_and_parse(path: Path, display: str) -> Source:
    return _parse(read_text(path, display), display)


def _parse(text: str, display: str) -> Source:
    # `kind: List` (kubectl get -o yaml) stands for its items, as kubectl sends them.
    return Source(display, tuple(expand_lists(load_documents(text, display))))


def _render(directory: Path, display: str) -> Source:
    """The kustomization's output, re-read so every node has a position in it.

    Positions then refer to what `katib-gitops render DIR` prints.
    """
    from katib_gitops.yamlio.writer import dump_all  # here, not at the top: validate's start-up needs no writer

    resources = render.render(render.DiskFiles(Path.cwd()), os.path.relpath(directory))
    shown = f"{display} (rendered)"
    return Source(shown, tuple(load_documents(dump_all(resources), shown)), rendered=True)
