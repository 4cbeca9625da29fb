"""Reading YAML files' bytes and text as Kubernetes would accept them, within the reader's limits.

Files are checked with stat before they are opened (never blocking on a FIFO or device), read up to
the size limit (`--max-file-size`, rule `yaml-limit`), and decoded as UTF-8 with YAML's printable
character set. `walk` lists a folder the user named without following symbolic links out of it.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from katib_gitops.core.diagnostics import Diagnostic, FindingsError, UsageError
from katib_gitops.core.registry import declare

# The reader's rules; yamlio.documents reports them too, for what the parser finds.
YAML_SYNTAX = declare("yaml-syntax", "TOOL", "The file is valid UTF-8 YAML without duplicate keys.")
YAML_LIMIT = declare(
    "yaml-limit",
    "TOOL",
    "Files stay within the reader's limits: size (--max-file-size), nesting depth, and nodes reached through aliases.",
)


class Limits:
    """Resource limits of the reader; `--max-file-size` sets max_file_bytes for a run."""

    __slots__ = ("max_alias_nodes", "max_depth", "max_file_bytes")

    def __init__(
        self, max_file_bytes: int = 8 * 1024 * 1024, max_depth: int = 100, max_alias_nodes: int = 100_000
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_depth = max_depth  # nesting levels; Kubernetes objects rarely pass 30
        self.max_alias_nodes = max_alias_nodes  # nodes reached through aliases, per file


LIMITS = Limits()
MAX_FILE_BYTES = LIMITS.max_file_bytes  # the default; kept for callers that show it


def set_max_file_bytes(size: int) -> None:
    if size <= 0:
        raise UsageError("--max-file-size must be positive")
    LIMITS.max_file_bytes = size


def parse_size(text: str) -> int:
    """`8MiB`, `512k`, `1G` or a plain byte count."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)(i?[bB])?\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a size like 8MiB, 512KiB or 1048576")
    return int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def read_bytes(path: Path, display: str) -> bytes:
    """The bytes of a regular file, checked with stat before it is opened: never blocks on a FIFO or device.

    Missing, unreadable and non-regular files are usage/I/O errors (exit 2); a file over
    the size limit is a finding (`yaml-limit`).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{display}: no such file or directory") from None
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    _require_regular(info.st_mode, display)
    limit = LIMITS.max_file_bytes
    if info.st_size > limit:
        raise _too_large(display, info.st_size)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    try:
        _require_regular(os.fstat(fd).st_mode, display)  # it may have been swapped since the stat
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > limit:
        raise _too_large(display, size)
    return b"".join(chunks)


def _require_regular(mode: int, display: str) -> None:
    if stat.S_ISDIR(mode):
        raise UsageError(f"{display}: is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{display}: not a regular file (FIFO, socket or device), not read")


def _refusal(display: str, line: int, column: int, rule_id: str, message: str, hint: str) -> FindingsError:
    """A file the reader refuses, at the position of what it refuses."""
    return FindingsError([Diagnostic(display, line, column, rule_id, message, hint=hint)])


def _too_large(display: str, size: int) -> FindingsError:
    limit = LIMITS.max_file_bytes
    return _refusal(
        display,
        1,
        1,
        "yaml-limit",
        f"file is larger than the {_mib(limit)} limit ({_mib(size)} or more)",
        "raise the limit with --max-file-size if the file is meant to be this large",
    )


def read_stream(stream: Any, display: str) -> str:
    """Standard input (or any stream), read up to the size limit and decoded like a file."""
    if stream is None:  # Python's stdin when descriptor 0 was closed
        raise UsageError(f"{display}: cannot read: standard input is closed")
    limit = LIMITS.max_file_bytes
    binary = getattr(stream, "buffer", None)
    try:
        raw = binary.read(limit + 1) if binary is not None else stream.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    if len(raw) > limit:
        raise _too_large(display, len(raw))
    return decode(raw, display) if isinstance(raw, bytes) else _check_text(raw, display)


_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}


def decode(raw: bytes, display: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); anything else is a `yaml-syntax` finding."""
    for bom, name in _BOMS.items():
        if raw.startswith(bom):
            raise _refusal(display, 1, 1, "yaml-syntax", f"file is {name} text", "save it as UTF-8")
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line, column = _line_col(raw, offset)
        raise _refusal(
            display,
            line,
            column,
            "yaml-syntax",
            "file contains NUL bytes: a binary file, or UTF-16/32 text, not YAML",
            "YAML files are UTF-8 text",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _line_col(raw, exc.start)
        raise _refusal(
            display,
            line,
            column,
            "yaml-syntax",
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            "save it as UTF-8",
        ) from None
    return _check_text(text, display)


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


# YAML's printable set (YAML 1.1 and 1.2 alike): TAB, LF, CR, NEL and U+0020 up, without surrogates and U+FFFE/FFFF.
_NOT_PRINTABLE_ASCII = re.compile("[^\t\n\r\x20-\x7e]")


@functools.cache
def _not_printable() -> re.Pattern[str]:
    """Compiled on the first non-ASCII text: the Unicode ranges cost ~7 ms to compile, most files are ASCII."""
    return re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _check_text(text: str, display: str) -> str:
    text = text.removeprefix("\ufeff")
    bad = (_NOT_PRINTABLE_ASCII if text.isascii() else _not_printable()).search(text)
    if bad:
        offset = bad.start()
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise _refusal(
            display,
            line,
            column,
            "yaml-syntax",
            f"control character U+{ord(bad.group()):04X} is not allowed in YAML",
            "remove it, or write it as an escape (\\x07) inside a double-quoted string",
        )
    return text


def read_text(path: Path, display: str) -> str:
    """A YAML file's text: a regular file within the size limit, UTF-8 (with or without BOM), no control characters."""
    return decode(read_bytes(path, display), display)


def walk(root: Path, *, skip_hidden: bool = False) -> Iterator[tuple[Path, list[str], list[str]]]:
    """os.walk of a folder the user named, sorted, that never leaves it.

    Symbolic links are never followed out of `root`: a link to a directory is not
    descended (its target, if inside `root`, is walked anyway); a link to a file
    inside `root` is listed; a link that points outside `root`, is broken or loops
    is a usage error naming it, never silently skipped.
    """
    top = os.path.realpath(root)

    def inside(path: str) -> bool:
        target = os.path.realpath(path)
        return target == top or target.startswith(top + os.sep)

    def refuse(path: Path, why: str) -> NoReturn:
        raise UsageError(f"{path.as_posix()}: {why}; not followed (name the target itself if it is meant to be read)")

    def on_error(exc: OSError) -> None:
        raise UsageError(f"{exc.filename}: cannot read: {exc.strerror or exc}")

    for directory, subdirs, files in os.walk(root, onerror=on_error):
        here = Path(directory)
        kept = []
        for name in sorted(subdirs):
            if skip_hidden and name.startswith("."):
                continue
            path = here / name
            if path.is_symlink():
                if not inside(str(path)):
                    refuse(path, "a symbolic link to a folder outside " + root.as_posix())
                continue
            kept.append(name)
        subdirs[:] = kept
        listed = []
        for name in sorted(files):
            path = here / name
            if path.is_symlink():
                if not path.exists():
                    refuse(path, "a broken or looping symbolic link")
                if not inside(str(path)):
                    refuse(path, "a symbolic link to outside " + root.as_posix())
            listed.append(name)
        yield here, subdirs, listed
