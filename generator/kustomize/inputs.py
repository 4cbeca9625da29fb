"""Validator inputs: files, directories (kustomizations rendered), and stdin.

katib-gitops' own overlays are rendered in process (`render.OwnFiles` recognises them); every other
kustomization by the real kustomize (`external`). Either way a finding in the output is moved to the
file a user wrote (`Source.relocate`).
"""

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

import functools
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.registry import declare
from katib_gitops.yamlio.documents import Document, expand_lists, load_documents, read_documents
from katib_gitops.yamlio.reader import read_stream, read_text, walk

if TYPE_CHECKING:
    # The renderer (and the JSON patch code it needs) is imported where a folder is walked or a
    # kustomization built: a run on files alone, as the pre-commit hook's, never loads it.
    from katib_gitops.kustomize import render

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
    traces: tuple["render.Trace", ...] = ()  # of a rendered kustomization: where each document came from

    def relocate(self, found: Sequence[Diagnostic]) -> list[Diagnostic]:
        """Findings in a rendered kustomization moved to the line a user wrote, the rendered path in the message."""
        if not self.rendered:
            return list(found)
        shown = self.documents[0].file if self.documents else ""
        return [_relocated(d, self) if d.file == shown else d for d in found]


class Inputs(NamedTuple):
    sources: tuple[Source, ...]
    problems: tuple[Diagnostic, ...]  # files that could not be parsed


Loader = Callable[[], Source]
Own = Callable[[], "render.OwnFiles"]  # the run's one OwnFiles, made when the first kustomization is built


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


def plan(
    paths: Sequence[str], *, render_kustomizations: bool, stdin: TextIO, kustomize_command: str = ""
) -> list[Unit]:
    """Everything to read, in order; nothing is read yet (usage problems raise UsageError).

    `kustomize_command`: what builds a kustomization katib-gitops did not write (`external.command`).
    """
    if not paths:
        raise UsageError("nothing to validate: name files, folders, or '-' for standard input")
    # One OwnFiles per run (a manifest is read, a shared base rendered, once), made at the first kustomization.
    own: Own = functools.cache(functools.partial(_own_files, Path.cwd()))
    return [
        Unit(display, display == _named(name), loader)
        for name in paths
        for display, loader in _expand(name, render_kustomizations, stdin, kustomize_command, own)
    ]


def collect(paths: Sequence[str], *, render_kustomizations: bool, stdin: TextIO, kustomize_command: str = "") -> Inputs:
    sources: list[Source] = []
    problems: list[Diagnostic] = []
    units = plan(paths, render_kustomizations=render_kustomizations, stdin=stdin, kustomize_command=kustomize_command)
    for unit in units:
        source, found = unit.load()
        sources.append(source)
        problems.extend(found)
        problems.extend(d for document in source.documents for d in document.findings)  # as load_documents
    return Inputs(tuple(sources), tuple(problems))


def _own_files(root: Path) -> "render.OwnFiles":
    from katib_gitops.kustomize import render

    return render.OwnFiles(root)


def _named(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def _expand(
    name: str, render_kustomizations: bool, stdin: TextIO, kustomize_command: str, own: Own
) -> Iterator[tuple[str, Loader]]:
    if name == STDIN:
        yield "<stdin>", lambda: _parse(read_stream(stdin, "<stdin>"), "<stdin>")
        return
    path = Path(name)
    kind = _kind(path, name)
    if kind == "dir":
        yield from _walk(path, render_kustomizations, kustomize_command, own)
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


def _walk(root: Path, render_kustomizations: bool, kustomize_command: str, own: Own) -> Iterator[tuple[str, Loader]]:
    from katib_gitops.kustomize import render

    for here, _subdirs, files in walk(root, skip_hidden=True):
        if render_kustomizations and any(n in files for n in render.KUSTOMIZATION_NAMES):
            display = here.as_posix()
            yield display, functools.partial(_render, here, display, kustomize_command, own)
            continue
        for file_name in sorted(files):
            if file_name.endswith(YAML_SUFFIXES):
                path = here / file_name
                shown = path.as_posix()
                yield shown, functools.partial(_read_and_parse, path, shown)


def _read_and_parse(path: Path, display: str) -> Source:
    return _parse(read_text(path, display), display)


def _parse(text: str, display: str) -> Source:
    """The file's documents, each with the findings on its own values (the validator reports them); a
    `kind: List` (kubectl get -o yaml) stands for its items, as kubectl sends them."""
    return Source(display, tuple(expand_lists(read_documents(text, display))))


def build(
    directory: str, kustomize_command: str = "", own: "render.OwnFiles | None" = None
) -> "tuple[list[dict[str, Any]], list[render.Trace]]":
    """`directory`'s resources (relative to the working folder) and their traces: katib-gitops' own overlays
    in process, any other kustomization by the real kustomize."""
    from katib_gitops.kustomize import render

    try:
        resources, traces = render.render_traced(own or render.OwnFiles(Path.cwd()), directory)
        return resources, traces
    except render.NotOwn:
        from katib_gitops.kustomize import external  # here: our own overlays need no process tools

        return external.build(directory, kustomize_command)


def _render(directory: Path, display: str, kustomize_command: str, own: Own) -> Source:
    """The kustomization's output, re-read so every node has a position in it; findings are relocated."""
    from katib_gitops.yamlio.writer import dump_all  # here, not at the top: validate's start-up needs no writer

    resources, traces = build(os.path.relpath(directory), kustomize_command, own())
    shown = f"{display} (rendered)"
    documents = tuple(load_documents(dump_all(resources), shown))
    return Source(display, documents, rendered=True, traces=tuple(traces))


def _relocated(found: Diagnostic, source: Source) -> Diagnostic:
    """`found` (at a line of the rendered output) at the node of the file it came from."""
    index = found.document
    if not 0 <= index < len(source.documents) or len(source.traces) != len(source.documents):
        return found._replace(file=source.display, line=1, column=1, message=_with_place(found.message, source))
    document = source.documents[index]
    path = _path_at(document.node, found.line, found.column)
    file, line, column = source.traces[index].origin(path, document.data)
    return found._replace(file=file, line=line, column=column, message=_with_place(found.message, source))


def _with_place(message: str, source: Source) -> str:
    return f"{message} (in {source.display}, rendered)"


def _path_at(node: Any, line: int, column: int) -> list[str | int]:
    """The JSON path of the outermost node (or key) at line:column (1-based), else of the last one before it."""
    target = (line - 1, column - 1)
    best: tuple[tuple[int, int], list[str | int]] = ((-1, -1), [])
    stack: list[tuple[Any, list[str | int]]] = [(node, [])]
    while stack:
        pos, path = stack.pop()
        here = (pos[0], pos[1])
        if here == target:
            return path
        if best[0] <= here <= target:
            best = (here, path)
        children = pos[3] if len(pos) > 2 else None
        if isinstance(children, dict):
            for key, child in children.items():
                key_at = tuple(pos[2][key])
                if key_at == target:
                    return [*path, key]
                if best[0] <= key_at <= target:
                    best = (key_at, [*path, key])
                stack.append((child, [*path, key]))
        elif isinstance(children, list):
            stack.extend((child, [*path, number]) for number, child in enumerate(children))
    return best[1]
