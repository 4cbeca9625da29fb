"""`katib-gitops migrate`'s files: read the given paths, convert them, write them back atomically or print them."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.files import stage
from katib_gitops.migration.convert import FileMigration, config_maps, migrate_text
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import read_stream, read_text

STDIN = "-"  # the path that names standard input, as for validate and import
STDIN_DISPLAY = "<stdin>"


def migrate_paths(
    paths: Sequence[str], *, katib_version: tuple[int, int] = kinds.KATIB_VERSION, stdin: TextIO | None = None
) -> tuple[list[FileMigration], list[Diagnostic]]:
    """Read and convert every file ('-': `stdin`); files that are not valid YAML come back as diagnostics."""
    texts = {
        (STDIN_DISPLAY if path == STDIN else path): (
            read_stream(stdin, STDIN_DISPLAY) if path == STDIN else read_text(Path(path), path)
        )
        for path in dict.fromkeys(paths)
    }
    loaded: dict[str, list[Document]] = {}
    problems: list[Diagnostic] = []
    for display, text in texts.items():
        try:
            loaded[display] = load_documents(text, display)
        except FindingsError as exc:
            problems.extend(exc.diagnostics)
    configmaps = config_maps(d for documents in loaded.values() for d in documents)
    return [migrate_text(texts[d], d, katib_version=katib_version, configmaps=configmaps) for d in loaded], problems


def write_files(migrations: Sequence[FileMigration]) -> list[str]:
    """Replace every changed file atomically: all temporary files are written first, then renamed over."""
    staged: list[tuple[str, Path]] = []
    try:
        staged.extend(
            (migration.display, _stage_beside(Path(os.path.realpath(migration.display)), migration.text))
            for migration in migrations
            if migration.changed
        )
        for display, temporary in staged:
            os.replace(temporary, Path(os.path.realpath(display)))
    except OSError as exc:
        for _, temporary in staged:
            temporary.unlink(missing_ok=True)
        raise UsageError(f"{exc.filename or ''}: cannot write: {exc.strerror or exc}") from exc
    return [display for display, _ in staged]


def _stage_beside(target: Path, text: str) -> Path:
    """A temporary file next to `target` holding `text`, with `target`'s permissions."""
    return stage(target, text, mode=stat.S_IMODE(target.stat().st_mode))


def stdout_text(migrations: Sequence[FileMigration]) -> str:
    """Every file's converted text, each under a `# Source: FILE` comment, separated by `---`."""
    parts = []
    for migration in migrations:
        body = migration.text
        if not body.strip():
            continue
        body = body.removeprefix("---\n")
        parts.append(f"# Source: {migration.display}\n{body}{'' if body.endswith(chr(10)) else chr(10)}")
    return "---\n".join(parts)
