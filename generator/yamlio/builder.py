"""Plain values and a position tree from libyaml's parser events: the hot loop of reading YAML.

`build` is one loop over the events, without recursion and with the state of the open
collection in local variables: most of `katib-gitops validate`'s time is spent here
(docs/performance.md). What it keeps (the facts behind them are in documents.py and
scalars.py): every node's position, duplicate keys refused, merge keys `<<` expanded as
go-yaml v2 does, plain scalars resolved as go-yaml v2 does, the reader's limits (nesting
depth, nodes reached through aliases), and the findings yaml-ambiguous and yaml-value.

Positions are tuples, 0-based as parsed: a scalar's is `(line, column)`; a mapping's
`(line, column, keys, children)`, `keys` holding each key's `(line, column)` and
`children` each value's position by key; a list's `(line, column, None, children)`,
`children` a list. An alias shares its anchor's position.

Plain scalars are resolved by their first character: only a scalar starting with a
digit, a sign, a dot, `~`, `<` or one of the letters of the YAML 1.1 words (y, n, t, f,
o) can be anything but a string, so all others are taken as they are without a lookup.

The module is plain Python that mypyc can compile (`make compiled`); the pure-Python
module is used when no compiled one is built, and both give the same answers (a test
holds them to it).
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any, Final

import yaml.events

from katib_gitops.core.diagnostics import Diagnostic
from katib_gitops.yamlio.reader import LIMITS
from katib_gitops.yamlio.scalars import INT64, V2_WORDS, ambiguity, resolve_plain

# A document as `build` gives it: (index in its file, value, position tree, findings, number spellings).
Built = tuple[int, Any, tuple[Any, ...], tuple[Diagnostic, ...], tuple[Diagnostic, ...]]

_SCALAR: Final = yaml.events.ScalarEvent
_MAPPING_START: Final = yaml.events.MappingStartEvent
_SEQUENCE_START: Final = yaml.events.SequenceStartEvent
_MAPPING_END: Final = yaml.events.MappingEndEvent
_SEQUENCE_END: Final = yaml.events.SequenceEndEvent
_ALIAS: Final = yaml.events.AliasEvent
_DOCUMENT_START: Final = yaml.events.DocumentStartEvent
_DOCUMENT_END: Final = yaml.events.DocumentEndEvent

# First characters of plain scalars that may resolve to something else than their text (see above).
_NOT_ONLY_TEXT: Final = frozenset("0123456789+-.~<yYnNtTfFoO")
_WORD_START: Final = frozenset("~yYnNtTfFoO")  # such a scalar is one of the words of V2_WORDS, or text
_DIGIT_START: Final = frozenset("123456789")
_INTEGER_LITERAL: Final = re.compile(r"[-+]?[0-9_]+")


class Merge:
    """The merge key `<<` (plain, or tagged !!merge), pending in a mapping."""


class Skip:
    """A pending key that was reported: its value is read and dropped."""


MERGE: Final = Merge()
SKIP: Final = Skip()


class Fail(Exception):
    """What stops the file from being read at all (a limit, an alias to nothing, an unreadable tagged scalar)."""

    def __init__(self, line: int, column: int, rule: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.line = line + 1
        self.column = column + 1
        self.rule = rule
        self.message = message
        self.hint = hint


def build(events: Any, display: str, problems: list[Diagnostic]) -> list[Built]:
    """The documents of an event stream; what stops the file from being read as written goes to `problems`.

    Raises Fail for a problem after which nothing more can be read.
    """
    max_depth: int = LIMITS.max_depth
    max_alias_nodes: int = LIMITS.max_alias_nodes
    documents: list[Built] = []
    findings: list[Diagnostic] = []  # the current document's own findings
    unless_accepted: list[Diagnostic] = []  # the current document's number spellings
    index = -1
    alias_nodes = 0
    anchors: dict[str, tuple[Any, tuple[Any, ...], int, int]] = {}
    root: Any = None
    root_pos: tuple[Any, ...] | None = None
    stack: list[tuple[Any, ...]] = []  # the enclosing collections' state
    depth = 0
    # The open collection: a mapping (value, keys and children dicts) or a list (value and children lists).
    is_map = False
    value: Any = None
    keys: dict[str, tuple[int, int]] = {}
    children: Any = None
    line = 0
    column = 0
    anchor: str | None = None
    size = 1  # nodes in it, itself included
    height = 0  # nesting below it
    key: Any = None  # the pending key of a mapping: None (a key comes next), a str, MERGE or SKIP
    key_at: tuple[int, int] = (0, 0)
    merges: list[tuple[int, list[tuple[dict[str, Any], tuple[Any, ...]]], tuple[int, int]]] | None = None
    merge_at: tuple[int, int] | None = None  # where this mapping's '<<' is

    for event in events:
        kind = type(event)
        if kind is _SCALAR:
            text: str = event.value
            mark = event.start_mark
            pos: tuple[Any, ...] = (mark.line, mark.column)
            tag = event.tag
            first = text[:1]
            if tag is None and (not event.implicit[0] or (first and first not in _NOT_ONLY_TEXT)):
                item: Any = text  # quoted, a block scalar, or a plain one that can only be text
            elif tag is None and first in _WORD_START:
                item = V2_WORDS.get(text, text)  # a word (yes, null, ...) or text, as resolve_plain() reads it
                if item is not text and not (depth > 0 and is_map and key is None):
                    _check_scalar(text, item, True, mark, findings, unless_accepted, display)
            elif tag is None and first in _DIGIT_START and len(text) < 19 and text.isdigit() and text.isascii():
                item = int(text)  # a decimal integer without a leading 0: in range, read alike by every reader
            else:
                in_key = depth > 0 and is_map and key is None
                plain = tag is None
                if plain:
                    item = MERGE if in_key and text == "<<" else resolve_plain(text)
                elif tag == "!" or tag == "tag:yaml.org,2002:str":
                    item = text
                else:
                    item = _tagged(tag, text, mark, findings, display)
                if not in_key and item is not MERGE:
                    _check_scalar(text, item, plain, mark, findings, unless_accepted, display)
            item_size = 1
            item_height = 0
            scalar_anchor = event.anchor
            if scalar_anchor is not None and item is not MERGE:
                anchors[scalar_anchor] = (item, pos, 1, 0)
        elif kind is _MAPPING_END or kind is _SEQUENCE_END:
            if merges is not None:
                value, keys, children = _merged(value, keys, children, merges, findings, display)
            item = value
            pos = (line, column, keys if is_map else None, children)
            item_size = size
            item_height = height
            done_anchor = anchor
            depth -= 1
            if depth:
                (is_map, value, keys, children, line, column, anchor, size, height, key, key_at, merges, merge_at) = (
                    stack.pop()
                )
            if done_anchor is not None:
                anchors[done_anchor] = (item, pos, item_size, item_height)
        elif kind is _MAPPING_START or kind is _SEQUENCE_START:
            mark = event.start_mark
            if depth >= max_depth:
                raise Fail(
                    mark.line,
                    mark.column,
                    "yaml-limit",
                    f"nesting deeper than {max_depth} levels",
                    "flatten the document; no Kubernetes object nests this deep",
                )
            if depth:
                stack.append(
                    (is_map, value, keys, children, line, column, anchor, size, height, key, key_at, merges, merge_at)
                )
            depth += 1
            is_map = kind is _MAPPING_START
            if is_map:
                value = {}
                keys = {}
                children = {}
            else:
                value = []
                children = []
            line = mark.line
            column = mark.column
            anchor = event.anchor
            size = 1
            height = 0
            key = None
            merges = None
            merge_at = None
            continue
        elif kind is _ALIAS:
            mark = event.start_mark
            found = anchors.get(event.anchor)
            if found is None:
                raise Fail(
                    mark.line,
                    mark.column,
                    "yaml-syntax",
                    f"alias *{event.anchor} refers to no anchor defined before it",
                    "an alias must follow its anchor, outside of it (a node cannot contain itself)",
                )
            item, pos, item_size, item_height = found
            alias_nodes += item_size
            if alias_nodes > max_alias_nodes:
                raise Fail(
                    mark.line,
                    mark.column,
                    "yaml-limit",
                    f"aliases expand to more than {max_alias_nodes} nodes (an alias bomb?)",
                    "write the repeated parts out, or use fewer aliases",
                )
            if depth + item_height > max_depth:
                raise Fail(
                    mark.line,
                    mark.column,
                    "yaml-limit",
                    f"nesting deeper than {max_depth} levels once aliases are expanded",
                )
            if isinstance(item, (dict, list)):
                item = copy.deepcopy(item)
        elif kind is _DOCUMENT_START:
            index += 1
            anchors = {}
            root = None
            root_pos = None
            findings = []
            unless_accepted = []
            continue
        elif kind is _DOCUMENT_END:
            if root is not None and root_pos is not None:
                documents.append((index, root, root_pos, tuple(findings), tuple(unless_accepted)))
            continue
        else:
            continue

        # Attach the node just read (item, at pos) to the open collection.
        if not depth:
            root = item
            root_pos = pos
            continue
        size += item_size
        if item_height >= height:
            height = item_height + 1
        if not is_map:
            value.append(item)
            children.append(pos)
        elif key is None:  # the node is a key
            if type(item) is str:  # a scalar: its position is (line, column)
                key_at = pos
                if item in keys or (item == "<<" and merge_at is not None):
                    earlier = keys.get(item) or merge_at or pos
                    _problem(
                        problems,
                        display,
                        pos,
                        "yaml-syntax",
                        f"duplicate key: '{item}' (first on line {earlier[0] + 1})",
                        "Kubernetes rejects or silently drops one of them; keep one",
                    )
                    key = SKIP
                else:
                    key = item
                continue
            where = (pos[0], pos[1])
            key_at = where
            if item is MERGE:
                seen = merge_at if merge_at is not None else keys.get("<<")
                if seen is not None:
                    message = f"duplicate key '<<' (first on line {seen[0] + 1})"
                    _problem(problems, display, where, "yaml-syntax", message)
                    key = SKIP
                else:
                    merge_at = where
                    key = MERGE
            else:
                _key_problem(problems, display, where, item, len(pos) > 2)
                key = SKIP
        else:
            pending = key
            key = None
            if pending is MERGE:
                if merges is None:
                    merges = []
                merges.append((len(value), _merge_sources(item, pos, key_at, problems, display), key_at))
            elif pending is not SKIP:
                value[pending] = item
                keys[pending] = key_at
                children[pending] = pos
    return documents


def _check_scalar(
    text: str,
    item: Any,
    plain: bool,
    mark: Any,
    findings: list[Diagnostic],
    unless_accepted: list[Diagnostic],
    display: str,
) -> None:
    """The findings on a scalar value: readers that disagree on it (plain ones only), values JSON cannot carry."""
    if type(item) is str:
        return  # ambiguity() is '' for a value that stays text, and every string is storable
    reason = ambiguity(text, item) if plain else ""
    if reason:
        finding = Diagnostic(
            display,
            mark.line + 1,
            mark.column + 1,
            "yaml-ambiguous",
            reason,
            hint=f'quote it ("{text}") if it is text, or write what you mean unambiguously',
        )
        (findings if isinstance(item, bool) else unless_accepted).append(finding)
    if isinstance(item, float) and (math.isinf(item) or math.isnan(item)):
        findings.append(
            Diagnostic(
                display,
                mark.line + 1,
                mark.column + 1,
                "yaml-value",
                f"'{text}' is not a number JSON can carry, so Kubernetes cannot store it",
                hint="quote it if it is text",
            )
        )
    elif (isinstance(item, int) and not isinstance(item, bool) and not INT64[0] <= item <= INT64[1]) or (
        isinstance(item, float) and abs(item) >= 2**63 and _INTEGER_LITERAL.fullmatch(text)
    ):
        findings.append(
            Diagnostic(
                display,
                mark.line + 1,
                mark.column + 1,
                "yaml-value",
                f"integer {text} is outside the 64-bit range Kubernetes stores",
                hint="quote it if it is text",
            )
        )


def _tagged(tag: str, text: str, mark: Any, findings: list[Diagnostic], display: str) -> Any:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    if short == "!!merge" and text == "<<":
        return MERGE
    if short == "!!binary":
        findings.append(
            Diagnostic(
                display,
                mark.line + 1,
                mark.column + 1,
                "yaml-value",
                "!!binary values are not supported by Kubernetes' YAML reader",
                hint="write the base64 text without the tag",
            )
        )
        return text
    if short in ("!!int", "!!float", "!!bool", "!!null"):
        value: Any = resolve_plain(text) if text else None
        if short == "!!int":
            wrong = not isinstance(value, int) or isinstance(value, bool)
        elif short == "!!float":
            wrong = not isinstance(value, (int, float)) or isinstance(value, bool)
        elif short == "!!bool":
            wrong = not isinstance(value, bool)
        else:
            wrong = value is not None
        if wrong:
            raise Fail(mark.line, mark.column, "yaml-syntax", f"cannot read {text!r} as {short}")
        return float(value) if short == "!!float" else value
    return text  # !!timestamp and unknown tags: go-yaml v2 gives the text


def _key_problem(problems: list[Diagnostic], display: str, where: tuple[int, int], key: Any, collection: bool) -> None:
    if collection:
        _problem(problems, display, where, "yaml-syntax", "a mapping key must be a string, not a mapping or list")
    elif isinstance(key, bool):
        _problem(
            problems,
            display,
            where,
            "yaml-ambiguous",
            f"this key is the boolean {str(key).lower()} to Kubernetes (YAML 1.1), not a string",
            "quote the key",
        )
    else:
        _problem(problems, display, where, "yaml-syntax", f"mapping key {key!r} is not a string", "quote the key")


def _merge_sources(
    item: Any, pos: tuple[Any, ...], where: tuple[int, int], problems: list[Diagnostic], display: str
) -> list[tuple[dict[str, Any], tuple[Any, ...]]]:
    if isinstance(item, dict):
        return [(item, pos)]
    if isinstance(item, list) and all(isinstance(element, dict) for element in item):
        return list(zip(item, pos[3] if len(pos) > 2 else [], strict=False))
    _problem(problems, display, where, "yaml-syntax", "'<<' merges a mapping or a list of mappings")
    return []


def _merged(
    explicit: dict[str, Any],
    explicit_keys: dict[str, tuple[int, int]],
    explicit_children: dict[str, tuple[Any, ...]],
    merges: list[tuple[int, list[tuple[dict[str, Any], tuple[Any, ...]]], tuple[int, int]]],
    findings: list[Diagnostic],
    display: str,
) -> tuple[dict[str, Any], dict[str, tuple[int, int]], dict[str, tuple[Any, ...]]]:
    """A mapping with its merge keys applied in key order (decode.go `mapping` and `merge`)."""
    value: dict[str, Any] = {}
    keys: dict[str, tuple[int, int]] = {}
    children: dict[str, tuple[Any, ...]] = {}
    explicit_before: set[str] = set()
    names = list(explicit)
    done = 0
    ends: list[tuple[int, list[tuple[dict[str, Any], tuple[Any, ...]]], tuple[int, int]]] = [*merges]
    ends.append((len(names), [], (0, 0)))  # the keys after the last '<<'
    for count, sources, _ in ends:
        for name in names[done:count]:
            value[name] = explicit[name]
            keys[name] = explicit_keys[name]
            children[name] = explicit_children[name]
            explicit_before.add(name)
        done = count
        merged: dict[str, tuple[Any, tuple[int, int], tuple[Any, ...]]] = {}
        for source, source_pos in sources[::-1]:  # earlier mappings take precedence (decode.go `merge`)
            source_keys = source_pos[2] if len(source_pos) > 2 else None
            source_children = source_pos[3] if len(source_pos) > 2 else None
            for name, element in source.items():
                key_at = source_keys[name] if source_keys and name in source_keys else (source_pos[0], source_pos[1])
                child = (
                    source_children[name]
                    if isinstance(source_children, dict) and name in source_children
                    else source_pos
                )
                merged[name] = (element, key_at, child)
        for name, (element, key_at, child) in merged.items():
            if name in explicit_before and value[name] != element:
                where = keys[name]
                findings.append(
                    Diagnostic(
                        display,
                        where[0] + 1,
                        where[1] + 1,
                        "yaml-ambiguous",
                        f"'{name}' is set here and again by the '<<' after it: kubectl (go-yaml v2) "
                        "takes the merged value, kustomize and the YAML merge-key spec keep this one",
                        hint="move the key after the '<<' line",
                    )
                )
            value[name] = element
            keys[name] = key_at
            children[name] = child
    return value, keys, children


def _problem(
    problems: list[Diagnostic], display: str, where: tuple[int, int], rule: str, message: str, hint: str = ""
) -> None:
    problems.append(Diagnostic(display, where[0] + 1, where[1] + 1, rule, message, hint=hint))
