"""Each spec file's documents as the last run read them, so a run after an edit parses only the files that changed.

Parsing 1,000 spec files with the position-keeping YAML builder is most of loading them
(docs/performance.md, "Generating"). A run keeps what it parsed, and the next one takes a file's
documents from here when everything they were made from is the same: the file's bytes and the
name it is shown by, and the inputs every spec shares (repeat_record.Inputs.shared: katib-gitops'
own code, so a change to the builder is never read past, the reader's limits, the folders).
Only documents without findings are kept (a file with findings is parsed, and reported, again).

The entries are plain values and position tuples written with `marshal`, the format Python's own
bytecode caches use, in the user's cache folder beside the other records of generate; the file
starts with a line naming the format and the Python version that wrote it. Anything else there, or
anything unreadable, means every file is parsed.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from katib_gitops.core.files import atomic_write, cache_dir
from katib_gitops.yamlio.documents import Document, load_documents
from katib_gitops.yamlio.reader import decode

HEADER = f"katib-gitops documents 1 python {sys.version_info[0]}.{sys.version_info[1]}\n".encode()


def cache_name(out_dir: Path) -> str:
    return f"generate/{hashlib.sha256(os.fsencode(out_dir.resolve())).hexdigest()[:24]}.documents"


Entry = list[tuple[str, int, Any, Any]]  # each document's file, index, value and positions


class Documents:
    """A spec loader's `parse` (spec.model.read_documents) that reuses the last run's documents of a file.

    `shared`: what every file's documents depend on besides its own bytes and name (None: nothing is
    reused or kept); `read`: how a file's bytes are read.
    """

    def __init__(self, out_dir: Path, shared: str | None, read: Callable[[Path, str], bytes]) -> None:
        self._out_dir = out_dir
        self._shared = shared
        self._read = read
        self._known: dict[str, Entry] = self._load() if shared is not None else {}
        self._used: dict[str, Entry] = {}

    def parse(self, path: Path, display: str) -> list[Document]:
        raw = self._read(path, display)
        if self._shared is None:
            return load_documents(decode(raw, display), display)
        key = hashlib.sha256(f"{self._shared}\0{display}\0".encode("utf-8", "surrogateescape") + raw).hexdigest()
        entry = self._known.get(key)
        if entry is not None:
            self._used[key] = entry
            return [Document(file, index, data, node) for file, index, data, node in entry]
        documents = load_documents(decode(raw, display), display)
        if not any(d.findings or d.unless_accepted for d in documents):
            self._used[key] = [(d.file, d.index, d.data, d.node) for d in documents]
        return documents

    def store(self) -> None:
        """Keep the documents of this run's files (only theirs); best effort, like every cache of generate."""
        if self._shared is None or self._used.keys() == self._known.keys():
            return
        try:
            atomic_write(cache_dir() / cache_name(self._out_dir), HEADER + marshal.dumps(self._used))
        except (OSError, ValueError):  # no cache folder, or a value marshal cannot write: the next run parses
            return

    def _load(self) -> dict[str, Entry]:
        try:
            data = (cache_dir() / cache_name(self._out_dir)).read_bytes()
            if not data.startswith(HEADER):
                return {}
            known = marshal.loads(data[len(HEADER) :])
            return known if isinstance(known, dict) else {}
        except (OSError, ValueError, EOFError, TypeError):
            return {}
