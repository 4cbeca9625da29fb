"""YAML at the edges: reading with node positions, and one canonical writer.

Reading keeps ruamel's round-trip nodes next to plain Python values so that any
JSON path found by a later stage can be turned back into file:line:column.
Writing uses a small emitter of our own so that output is byte-identical across
runs, platforms and library versions, and quotes every string that YAML 1.1
(kubectl, kustomize, sigs.k8s.io/yaml) or YAML 1.2 could read as anything else.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, FindingsError, UsageError

JsonPath = Sequence[str | int]
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Document:
    """One YAML document: its plain value and the node tree that knows positions."""

    file: str
    index: int
    data: Any
    node: Any

    def position(self, path: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the node at `path`, or of its deepest existing parent."""
        return locate(self.node, path, at_key=at_key)

    def diagnostic(self, path: JsonPath, rule_id: str, message: str, hint: str = "", *, at_key: bool = False) -> Diagnostic:
        line, column = self.position(path, at_key=at_key)
        return Diagnostic(self.file, line, column, rule_id, message, path=format_path(path), hint=hint)


def format_path(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def locate(node: Any, path: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
    """Position of the node at `path`: a scalar value itself (unless `at_key`), a mapping or list by its key."""
    line, column = _own_position(node)
    for index, part in enumerate(path):
        child_pos = _child_position(node, part)
        if child_pos is None:
            break
        line, column = child_pos
        if index == len(path) - 1 and isinstance(part, str) and not at_key:
            line, column = _value_position(node, part) or (line, column)
        node = node[part]
    return line, column


def _value_position(node: Any, key: str) -> tuple[int, int] | None:
    if isinstance(node[key], (dict, list)):
        return None
    try:
        line, col = node.lc.value(key)
    except (KeyError, TypeError, AttributeError):
        return None
    return line + 1, col + 1


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 1, 1
    return lc.line + 1, lc.col + 1


def _child_position(node: Any, part: str | int) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            line, col = lc.item(part)
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            line, col = lc.key(part)
        else:
            return None
    except (KeyError, IndexError, TypeError):
        return None
    return line + 1, col + 1


def read_text(path: Path, display: str) -> str:
    try:
        if not path.is_file():
            raise UsageError(f"{display}: not a regular file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"{display}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, refused")
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{display}: cannot read: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diag = Diagnostic(display, line, 1, "yaml-syntax", "file is not valid UTF-8")
        raise FindingsError([diag]) from exc


def load_documents(text: str, display: str) -> list[Document]:
    """Parse a multi-document YAML stream; syntax errors become diagnostics."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        nodes = [n for n in yaml.load_all(text)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "duplicate key" in problem:
            problem = f"duplicate key: {problem}"
        raise FindingsError([Diagnostic(display, line, col, "yaml-syntax", problem)]) from exc
    except YAMLError as exc:
        raise FindingsError([Diagnostic(display, 1, 1, "yaml-syntax", str(exc).strip())]) from exc
    documents = []
    for index, node in enumerate(nodes):
        if node is None:
            continue
        documents.append(Document(display, index, to_plain(node, display), node))
    return documents


def to_plain(node: Any, display: str = "<input>") -> Any:
    """Turn ruamel's round-trip values into plain dict/list/str/int/float/bool/None."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                line, col = _child_position(node, key) or _own_position(node)
                raise FindingsError([Diagnostic(display, line, col, "yaml-syntax", f"mapping key {key!r} is not a string", hint="quote the key")])
            out[str(key)] = to_plain(value, display)
        return out
    if isinstance(node, list):
        return [to_plain(item, display) for item in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    # Timestamps and other tagged values: keep their text, the schema will complain.
    return str(node)


# ---------------------------------------------------------------- writing

_PLAIN = re.compile(r"[A-Za-z_./-][A-Za-z0-9_./=-]*\Z")
_NUMBER_LIKE = re.compile(r"[-+]?(\.?[0-9]|\.inf|\.nan)", re.IGNORECASE)
_YAML11_WORDS = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
}


def _needs_quotes(text: str) -> bool:
    """True unless `text` reads back as the same string in YAML 1.1 and 1.2."""
    if not _PLAIN.match(text) or text.lower() in _YAML11_WORDS:
        return True
    return bool(_NUMBER_LIKE.match(text)) or text == "-" or text.startswith("---")


def _literal_block(value: str, indent: int) -> str | None:
    """A `|` block for multi-line text, when it reads back byte for byte."""
    if "\n" not in value.rstrip("\n") or value.endswith("\n\n") or value.startswith((" ", "\n")):
        return None
    lines = value.rstrip("\n").split("\n")
    if any(line != line.rstrip() or not line.isprintable() for line in lines):
        return None
    pad = " " * (indent + 2)
    chomp = "" if value.endswith("\n") else "-"
    return f"|{chomp}\n" + "\n".join(pad + line if line else "" for line in lines)


def _double_quoted(value: str) -> str:
    """JSON-style quoting (valid YAML), with every non-printable character escaped."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in text)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        mantissa, e, exponent = repr(value).partition("e")
        # YAML 1.1 (PyYAML, go-yaml v2) needs a '.' in an exponent float.
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else repr(value)
    if isinstance(value, str):
        if not _needs_quotes(value):
            return value
        if "'" not in value and value.isprintable():
            return f"'{value}'"
        return _double_quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            head = f"{pad}{_scalar(str(key))}:"
            if isinstance(item, (dict, list)) and item:
                out.append(head)
                _emit(item, indent + 2, out)
            elif isinstance(item, str) and (block := _literal_block(item, indent)):
                out.append(f"{head} {block}")
            else:
                out.append(f"{head} {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                sub: list[str] = []
                _emit(item, indent + 2, sub)
                first = sub[0][indent + 2 :]
                out.append(f"{pad}- {first}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
    else:
        out.append(pad + _scalar(value))


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value)


def _comments(header: str) -> str:
    return "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())


def dump(data: Any, header: str = "") -> str:
    """Canonical YAML for one document; `header` lines are written as comments."""
    lines: list[str] = []
    if isinstance(data, (dict, list)) and data:
        _emit(data, 0, lines)
    else:
        lines.append(_inline(data))
    return _comments(header) + "\n".join(lines) + "\n"


def dump_all(documents: Iterable[Any], header: str = "") -> str:
    """Canonical multi-document YAML stream."""
    return _comments(header) + "---\n".join(dump(doc) for doc in documents)
