"""Edits of ruamel round-trip YAML that keep comments where they stood, and one file's documents as text segments."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
from collections.abc import Iterator, Sequence
from typing import Any

# ruamel keeps a full-line comment as text, indented as it was in its source, on
# the entry printed before it. The template's comments are indented for the
# template, not for where trialSpec ends up, so each one is marked with its
# indent relative to the line that followed it (`mark_comments`), and put back
# in place after dumping (`dump_segment`).

_MARK = "\x00mig{}\x00"
_MARKED = re.compile(r"^[ \t]*\x00mig(-?\d+)\x00")


def round_trip_yaml(indent: tuple[int, int, int] = (2, 2, 0)) -> Any:
    """ruamel's round-trip YAML, keeping quotes, with the (mapping, sequence, offset) indentation given."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return yaml


def indent_of(line: str) -> int:
    """The number of spaces a line starts with."""
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith(("#", "\x00"))


# ------------------------------------------------------------------ comment marks


def mark_comments(node: Any, lines: Sequence[str]) -> None:
    """Mark every full-line comment inside `node` (parsed from `lines`) with its relative indent."""
    seen: set[int] = set()
    for collection in _collections(node):
        ca = collection.ca
        for token in (ca.comment[1] or []) if ca.comment and len(ca.comment) > 1 else []:
            _mark(token, lines, seen, pre=True)
        for entry in ca.items.values():
            for slot in entry:
                for token in slot if isinstance(slot, list) else [slot]:
                    _mark(token, lines, seen, pre=isinstance(slot, list))


def _collections(node: Any) -> Iterator[Any]:
    if hasattr(node, "ca") and isinstance(node, (dict, list)):
        yield node
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from _collections(child)


def _mark(token: Any, lines: Sequence[str], seen: set[int], *, pre: bool) -> None:
    if token is None or id(token) in seen or not isinstance(getattr(token, "value", None), str):
        return
    seen.add(id(token))
    parts = token.value.split("\n")
    first = token.start_mark.line - (0 if pre or not token.value.startswith("\n") else 1)
    for index in range(0 if pre else 1, len(parts)):
        text = parts[index].strip()
        found = _find_line(lines, text, first + index) if text.startswith("#") else None
        if found is not None:
            following = next((line for line in lines[found + 1 :] if _is_content(line)), lines[found])
            parts[index] = _MARK.format(indent_of(lines[found]) - indent_of(following)) + text
    token.value = "\n".join(parts)


def _find_line(lines: Sequence[str], text: str, estimate: int) -> int | None:
    matches = [i for i, line in enumerate(lines) if line.strip() == text]
    return min(matches, key=lambda i: abs(i - estimate)) if matches else None


def _place_comments(text: str) -> str:
    lines = text.split("\n")
    for index, line in enumerate(lines):
        match = _MARKED.match(line)
        if match is None:
            continue
        following = [indent_of(x) for x in lines[index + 1 :] if _is_content(x)]
        before = [indent_of(x) for x in lines[:index] if _is_content(x)]
        base = following[0] if following else (before[-1] if before else 0)
        lines[index] = " " * max(0, base + int(match.group(1))) + line[match.end() :]
    return "\n".join(lines)


# ------------------------------------------------------------------ edits that keep comments in place


def _last_entry(node: Any) -> tuple[Any, Any] | None:
    """The collection and key (or index) of the entry printed last inside a block collection."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    holder = None
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) and not node.fa.flow_style():
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        holder, node = (node, key), node[key]
    return holder


def _post_slot(collection: Any) -> int:
    return 2 if isinstance(collection, dict) else 0


def take_full_lines(mapping: Any, key: str) -> str:
    """Detach the full-line comments printed after `mapping[key]`, and return them as text."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    collection, at = _last_entry(mapping[key]) or (mapping, key)
    entry = collection.ca.items.get(at)
    slot = _post_slot(collection)
    token = entry[slot] if entry and len(entry) > slot else None
    if token is None or not isinstance(token.value, str):
        return ""
    value: str = token.value
    if isinstance(collection[at], (LiteralScalarString, FoldedScalarString)) and not value.startswith("\n"):
        value = "\n" + " " * token.start_mark.column + value  # nothing follows a block scalar on its last line
    cut = value.find("\n") + 1
    eol, rest = value[:cut], value[cut:]
    if not rest.strip():
        return ""
    if eol.strip():
        token.value = eol
    else:
        entry[slot] = None
    return rest


def append_full_lines(mapping: Any, key: str, text: str) -> None:
    """Print `text` (full-line comments from `take_full_lines`) after `mapping[key]`."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not text:
        return
    collection, at = _last_entry(mapping[key]) or (mapping, key)
    entry = collection.ca.items.setdefault(at, [None, None, None, None])
    slot = _post_slot(collection)
    while len(entry) <= slot:
        entry.append(None)
    token = entry[slot]
    if token is None:
        entry[slot] = CommentToken("\n" + text, CommentMark(0))
    else:
        token.value = token.value + ("" if token.value.endswith("\n") else "\n") + text


def insert_after(mapping: Any, after: str | None, key: str, value: Any) -> None:
    """Insert `key` after `after` (or at the end); comments that stood above the next key stay there."""
    keys = list(mapping)
    position = keys.index(after) + 1 if after in keys else len(keys)
    moved = take_full_lines(mapping, keys[position - 1]) if position > 0 else ""
    mapping.insert(position, key, value)
    append_full_lines(mapping, key, moved)


def insert_before(mapping: Any, before: str, key: str, value: Any) -> None:
    """Insert `key` right above `before`, under the comments that stood above `before`."""
    mapping.insert(list(mapping).index(before), key, value)


def remove_key(mapping: Any, key: str) -> None:
    """Delete `key`; comments printed after it move to the entry before it."""
    keys = list(mapping)
    moved = take_full_lines(mapping, key)
    del mapping[key]
    index = keys.index(key)
    if index > 0:
        append_full_lines(mapping, keys[index - 1], moved)


def styled_like(old: Any, new: str) -> Any:
    """`new` with the quoting style of `old`."""
    from ruamel.yaml.scalarstring import ScalarString

    return type(old)(new) if isinstance(old, ScalarString) else new


# ------------------------------------------------------------------ a file's documents


@dataclasses.dataclass(frozen=True)
class Segment:
    """The lines of one YAML document in its file, from its `---` (if any) to the next."""

    start: int
    text: str


def split_segments(text: str) -> list[Segment]:
    """The file's text cut at its `---` and `...` lines: joined again, the segments are the text byte for byte."""
    segments: list[Segment] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(keepends=True)):
        if re.match(r"---(\s|$)", line) and current:
            segments.append(Segment(start, "".join(current)))
            current, start = [], number
        current.append(line)
        if re.match(r"\.\.\.(\s|$)", line):
            segments.append(Segment(start, "".join(current)))
            current, start = [], number + 1
    if current or not segments:
        segments.append(Segment(start, "".join(current)))
    return segments


def segment_of(segments: Sequence[Segment], node: Any) -> int:
    """The index of the segment a round-trip document node was parsed from."""
    line = node.lc.line
    return max(i for i, segment in enumerate(segments) if segment.start <= line or i == 0)


def dump_segment(segment: Segment, node: Any, indent: tuple[int, int, int]) -> str:
    """The text that replaces `segment`: its `---` line, then `node` dumped with the file's indentation."""
    first = segment.text.split("\n", 1)[0].rstrip("\r")
    head = f"{first}\n" if re.fullmatch(r"---\s*(#.*)?", first) else ("---\n" if first.startswith("---") else "")
    comment = node.ca.comment
    if comment and len(comment) > 1 and comment[1]:  # comments above an earlier `---` stay with their segment
        comment[1] = [token for token in comment[1] if token.start_mark.line >= segment.start]
    stream = io.StringIO()
    round_trip_yaml(indent).dump(node, stream)
    return head + _place_comments(stream.getvalue())


def guess_indent(text: str) -> tuple[int, int, int]:
    """The file's (mapping, sequence, offset) indentation, from the first nested mapping and list."""
    mapping = sequence = offset = None
    lines = [line for line in text.splitlines() if _is_content(line)]
    for parent, child in itertools.pairwise(lines):
        if not parent.rstrip().endswith(":") or parent.lstrip().startswith("- "):
            continue
        depth = indent_of(child) - indent_of(parent)
        if child.lstrip().startswith("- ") and offset is None and depth >= 0:
            offset, sequence = depth, depth + 2
        elif not child.lstrip().startswith("- ") and mapping is None and depth > 0:
            mapping = depth
    return mapping or 2, sequence or 2, offset or 0
