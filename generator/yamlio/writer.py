"""Canonical YAML: one small emitter of our own, so output is byte-identical across runs, platforms and libraries.

Every string that YAML 1.1 (kubectl, kustomize, sigs.k8s.io/yaml) or YAML 1.2 could read
as anything else is quoted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_./-][A-Za-z0-9_./=-]*\Z")
_NUMBER_LIKE = re.compile(r"[-+]?(\.?[0-9]|\.inf|\.nan)", re.IGNORECASE)
_YAML11_WORDS = {
    "y",
    "yes",
    "n",
    "no",
    "true",
    "false",
    "on",
    "off",
    "null",
    "~",
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
    return "".join(
        c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in text
    )


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


def _string(value: str) -> str:
    """A string scalar as written (`_scalar`), remembered: the same keys and values recur across a run's files."""
    text = _STRINGS.get(value)
    if text is None:
        text = _scalar(value)
        if len(value) <= _MEMO_LENGTH:
            if len(_STRINGS) >= _MEMO_ENTRIES:
                _STRINGS.clear()
            _STRINGS[value] = text
    return text


def _key(key: str) -> str:
    """A mapping key as written, with its colon."""
    text = _KEYS.get(key)
    if text is None:
        text = _scalar(key) + ":"
        if len(key) <= _MEMO_LENGTH:
            if len(_KEYS) >= _MEMO_ENTRIES:
                _KEYS.clear()
            _KEYS[key] = text
    return text


_STRINGS: dict[str, str] = {}
_KEYS: dict[str, str] = {}
_MEMO_LENGTH = 256  # longer strings are written without being remembered
_MEMO_ENTRIES = 1 << 16  # the memo is emptied when it holds this many


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            head = pad + (_key(key) if type(key) is str else _scalar(str(key)) + ":")
            if type(item) is str:  # the common cases first, each exactly what the general branches below write
                if "\n" in item and (block := _literal_block(item, indent)):
                    out.append(f"{head} {block}")
                else:
                    out.append(f"{head} {_string(item)}")
            elif isinstance(item, (dict, list)) and item:
                out.append(head)
                _emit(item, indent + 2, out)
            elif isinstance(item, str) and (block := _literal_block(item, indent)):
                out.append(f"{head} {block}")
            else:
                out.append(f"{head} {_inline(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                start = len(out)
                _emit(item, indent + 2, out)
                out[start] = f"{pad}- {out[start][indent + 2 :]}"  # the item's first line, after its dash
            else:
                out.append(f"{pad}- {_string(item) if type(item) is str else _inline(item)}")
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
