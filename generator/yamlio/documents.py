"""YAML documents read as Kubernetes reads them, from parser events, with every node's position kept.

kubectl, Argo CD and Flux turn YAML into JSON with sigs.k8s.io/yaml, which decodes with
go-yaml v2; go-yaml v2's scanner and parser are a line-by-line Go port of libyaml. So the
syntax is parsed by libyaml itself (PyYAML's C parser; its pure-Python port when the C one
is missing) and plain scalars are resolved by `scalars.resolve_plain`. Further facts relied
on (gopkg.in/yaml.v2 v2.4.0 decode.go):

* timestamps decode, into interface{}, as their original text (decode.go keeps them
  strings "for backward compatibility"); a scalar with an unknown tag is its text.
* merge keys `<<` (plain, or tagged !!merge) are expanded: a mapping or a list of
  mappings, applied in key order (decode.go `mapping` and `merge`); in a list the
  earlier mapping wins.

Where readers disagree on a value (rule `yaml-ambiguous`; see `scalars.ambiguity`), the
document is still read as Kubernetes reads it and carries the finding with it
(`Document.findings`), so that every document of the file is checked and `--skip` or the
skip annotation can silence it: a YAML 1.1 boolean word (yes/no/on/off), and a key set
before a `<<` that also sets it (overwritten by go-yaml v2, kept by go-yaml v3 and the
merge-key spec). A number spelled so that only a YAML 1.2 reader or a string field sees it
differently (010, 1_000, 0b1, 1.10) is no finding by itself: every Kubernetes reader
(go-yaml v2 and kustomize's go-yaml v3) reads the same number, so it is kept aside
(`Document.unless_accepted`) and reported only where the field refuses that number (a
string field: the validator's schema finding at the same node). Problems that stop a
document from being read as written (syntax, duplicate keys, a boolean key, limits) still
refuse the file.

Values JSON cannot carry (`.inf`, `.nan`) and integers outside int64 are findings of the
document too (rule `yaml-value`). Resource limits (rule `yaml-limit`, `reader.LIMITS`): nesting depth
and nodes reached through aliases, so alias bombs (CVE-2019-11253) are refused in
milliseconds and bounded memory.

A small position tree is kept next to the plain values so that any JSON path found by
a later stage can be turned back into file:line:column.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, FindingsError
from katib_gitops.core.registry import declare
from katib_gitops.yamlio.reader import LIMITS
from katib_gitops.yamlio.scalars import INT64, ambiguity, resolve_plain

JsonPath = Sequence[str | int]

# Rules of the loader (yaml-syntax and yaml-limit are the reader's, yamlio.reader).
YAML_AMBIGUOUS = declare(
    "yaml-ambiguous",
    "TOOL",
    "A plain scalar that kubectl (go-yaml v2) and kustomize or YAML 1.2 tools read differently "
    "(yes/no/on/off, a key set before '<<'; 010, 1_000, 1.10 in a string field): quote it.",
)
YAML_VALUE = declare(
    "yaml-value", "TOOL", "No value JSON cannot carry: .inf, .nan, integers outside the 64-bit range, !!binary."
)


# ---------------------------------------------------------------- positions


class Pos:
    """Where a node starts (0-based, as parsed), with its keys' and children's positions."""

    __slots__ = ("children", "column", "keys", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.keys: dict[str, tuple[int, int]] | None = None
        self.children: dict[str, Pos] | list[Pos] | None = None


class Document(NamedTuple):
    """One YAML document: its plain value and the position tree (or ruamel node) that knows positions.

    `findings` are the loader's findings on the document's own values (yaml-ambiguous, yaml-value);
    `unless_accepted` the number spellings that matter only where the field refuses the number.
    """

    file: str
    index: int  # type: ignore[assignment]  # the document's place in its file; it hides tuple.index, which nothing here uses
    data: Any
    node: Any
    findings: tuple[Diagnostic, ...] = ()
    unless_accepted: tuple[Diagnostic, ...] = ()

    def position(self, path: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the node at `path`, or of its deepest existing parent."""
        return locate(self.node, path, at_key=at_key)

    def diagnostic(
        self, path: JsonPath, rule_id: str, message: str, hint: str = "", *, at_key: bool = False
    ) -> Diagnostic:
        line, column = self.position(path, at_key=at_key)
        return Diagnostic(
            self.file, line, column, rule_id, message, path=format_path(path), hint=hint, parts=tuple(path)
        )


def format_path(path: JsonPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def locate(node: Any, path: JsonPath, *, at_key: bool = False) -> tuple[int, int]:
    """Position of the node at `path`: a scalar value itself (unless `at_key`), a mapping or list by its key.

    `node` is a `Pos` tree from `load_documents`, or a ruamel round-trip node.
    """
    if isinstance(node, Pos):
        return _locate_pos(node, path, at_key)
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


def _locate_pos(pos: Pos, path: JsonPath, at_key: bool) -> tuple[int, int]:
    line, column = pos.line, pos.column
    for index, part in enumerate(path):
        children = pos.children
        if isinstance(part, int) and isinstance(children, list) and 0 <= part < len(children):
            pos = children[part]
            line, column = pos.line, pos.column
        elif isinstance(part, str) and isinstance(children, dict) and part in children and pos.keys is not None:
            line, column = pos.keys[part]
            pos = children[part]
            if index == len(path) - 1 and not at_key and pos.children is None:
                line, column = pos.line, pos.column
        else:
            break
    return line + 1, column + 1


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


# ---------------------------------------------------------------- parsing

_MERGE = object()


class _Frame:
    __slots__ = ("anchor", "height", "key", "key_info", "kind", "ops", "pos", "seen", "size", "value")

    def __init__(self, kind: str, pos: Pos, anchor: str | None) -> None:
        self.kind = kind
        self.value: Any = {} if kind == "map" else []
        self.pos = pos
        pos.children = {} if kind == "map" else []
        if kind == "map":
            pos.keys = {}
        self.anchor = anchor
        self.size = 1
        self.height = 0
        self.key: Any = None  # the pending key of a mapping (a str, or _MERGE)
        self.key_info: tuple[int, int] = (0, 0)
        self.seen: dict[str, tuple[int, int]] = {}  # explicit keys and where they are
        self.ops: list[tuple[Any, ...]] = []  # ("key", name) / ("merge", [(dict, Pos), ...], (line, col)) in order


class _Fail(Exception):
    def __init__(self, line: int, column: int, rule: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.diagnostic_args = (line + 1, column + 1, rule, message, hint)


def _events(text: str) -> Iterator[Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    return yaml.parse(text, Loader=loader)


def expand_lists(documents: Iterable[Document]) -> list[Document]:
    """Each `kind: List` document (what `kubectl get a b -o yaml` prints) as the objects of its `items`.

    kubectl's resource builder flattens such a list into its items, recursively, before it
    sends anything (k8s.io/cli-runtime FlattenListVisitor); so do we. An item keeps the
    List's document index and its own positions in the file. A List without a list of
    items stays as it is, for its schema to report.
    """
    out: list[Document] = []
    for document in documents:
        out.extend(_flattened(document))
    return out


def _flattened(document: Document) -> list[Document]:
    data = document.data
    if not (isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list)):
        return [document]
    node = document.node
    children = node.children.get("items") if isinstance(node, Pos) and isinstance(node.children, dict) else None
    items = children.children if isinstance(children, Pos) else None
    out: list[Document] = []
    for i, item in enumerate(data["items"]):
        if isinstance(items, list) and i < len(items):
            item_node: Any = items[i]
        elif isinstance(node, Pos):
            item_node = node
        else:
            try:
                item_node = node["items"][i]
            except (KeyError, IndexError, TypeError):
                item_node = node
        # the List's value findings go with its first item (reported once), its number spellings with every
        # item (each is matched by position to the item's own schema errors)
        findings = document.findings if i == 0 else ()
        item_document = Document(document.file, document.index, item, item_node, findings, document.unless_accepted)
        out.extend(_flattened(item_document))
    return out


def load_documents(text: str, display: str, *, strict: bool = True) -> list[Document]:
    """Parse a multi-document YAML stream the way Kubernetes reads it; every problem becomes a finding.

    Documents that are empty (a bare `---`, only comments, `~`) are left out.
    Raises FindingsError listing every problem of the file (the documents' own findings
    too), or the first syntax error or limit reached. `strict=False` reads what Kubernetes
    reads and lets ambiguous scalars and unstorable values pass (for third-party files
    such as CRDs); syntax errors and limits still apply.
    """
    documents = read_documents(text, display)
    findings = [d for document in documents for d in document.findings] if strict else []
    if findings:
        raise FindingsError(findings)
    return documents


def read_documents(text: str, display: str) -> list[Document]:
    """Like `load_documents`, but a value's finding stays with its document (`Document.findings`).

    Raises FindingsError only for what stops the file from being read as written: syntax
    (duplicate keys, a key that is no string), limits.
    """
    import yaml

    builder = _Builder(display)
    try:
        for event in _events(text):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if "nesting depth" in problem:  # libyaml's own limit on flow collections
            raise FindingsError(
                [Diagnostic(display, line, column, "yaml-limit", problem, hint="flatten the document")]
            ) from None
        offending = _char_at(text, mark.index) if mark else ""
        raise FindingsError(
            [Diagnostic(display, line, column, "yaml-syntax", problem, hint=_syntax_hint(problem, offending))]
        ) from None
    except yaml.YAMLError as exc:
        raise FindingsError([Diagnostic(display, 1, 1, "yaml-syntax", str(exc).strip())]) from None
    except _Fail as fail:
        raise FindingsError(
            [
                *builder.problems,
                Diagnostic(
                    display,
                    *fail.diagnostic_args[:2],
                    fail.diagnostic_args[2],
                    fail.diagnostic_args[3],
                    hint=fail.diagnostic_args[4],
                ),
            ]
        ) from None
    except RecursionError:  # defence in depth: the builder is iterative, this should not happen
        raise FindingsError([Diagnostic(display, 1, 1, "yaml-limit", "structure too deep to read")]) from None
    if builder.problems:
        raise FindingsError(builder.problems)
    return builder.documents


def _syntax_hint(problem: str, offending: str) -> str:
    if "tab" in problem or offending == "\t":
        return "a tab character: YAML is indented with spaces only"
    return ""


def _char_at(text: str, index: int | None) -> str:
    return text[index] if index is not None and 0 <= index < len(text) else ""


class _Builder:
    """Builds plain values and positions from parser events, without recursion."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.documents: list[Document] = []
        self.problems: list[Diagnostic] = []  # what stops the file from being read as written
        self.findings: list[Diagnostic] = []  # the current document's own findings
        self.unless_accepted: list[Diagnostic] = []  # the current document's number spellings
        self.index = -1
        self.alias_nodes = 0
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, Pos, int, int]] = {}
        self.root: tuple[Any, Pos] | None = None

    def feed(self, event: Any) -> None:
        handler = _HANDLERS.get(type(event).__name__)
        if handler is not None:
            handler(self, event)

    def _start(self, event: Any) -> None:
        mark = event.start_mark
        if len(self.stack) >= LIMITS.max_depth:
            raise _Fail(
                mark.line,
                mark.column,
                "yaml-limit",
                f"nesting deeper than {LIMITS.max_depth} levels",
                "flatten the document; no Kubernetes object nests this deep",
            )
        kind = "map" if type(event).__name__ == "MappingStartEvent" else "seq"
        self.stack.append(_Frame(kind, Pos(mark.line, mark.column), event.anchor))

    def _end(self, _event: Any) -> None:
        frame = self.stack.pop()
        if frame.kind == "map":
            self._finish_mapping(frame)
        self._complete(frame.value, frame.pos, frame.size, frame.height, frame.anchor)

    def _document_start(self, _event: Any) -> None:
        self.index += 1
        self.anchors = {}
        self.root = None
        self.findings = []
        self.unless_accepted = []

    def _document_end(self, _event: Any) -> None:
        if self.root is not None and self.root[0] is not None:
            self.documents.append(
                Document(
                    self.display,
                    self.index,
                    self.root[0],
                    self.root[1],
                    tuple(self.findings),
                    tuple(self.unless_accepted),
                )
            )

    # -- nodes

    def _scalar(self, event: Any) -> None:
        mark = event.start_mark
        text: str = event.value
        tag = event.tag
        plain = bool(event.implicit[0]) and tag is None
        if plain:
            value = resolve_plain(text)
            if self.stack and self.stack[-1].kind == "map" and self.stack[-1].key is None and text == "<<":
                self._attach(_MERGE, Pos(mark.line, mark.column), 1, 0)
                return
        elif tag is None or tag == "!" or tag == "tag:yaml.org,2002:str":
            value = text
        else:
            value = self._tagged(tag, text, mark)
            if value is _MERGE:
                self._attach(_MERGE, Pos(mark.line, mark.column), 1, 0)
                return
        if not self._key_position():
            reason = ambiguity(text, value) if plain else ""
            if reason:
                finding = Diagnostic(
                    self.display,
                    mark.line + 1,
                    mark.column + 1,
                    "yaml-ambiguous",
                    reason,
                    hint=f'quote it ("{text}") if it is text, or write what you mean unambiguously',
                )
                (self.findings if isinstance(value, bool) else self.unless_accepted).append(finding)
            self._check_value(value, text, mark)
        self._complete(value, Pos(mark.line, mark.column), 1, 0, event.anchor)

    def _key_position(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind == "map" and self.stack[-1].key is None

    def _tagged(self, tag: str, text: str, mark: Any) -> Any:
        short = tag.replace("tag:yaml.org,2002:", "!!")
        if short == "!!merge" and text == "<<":
            return _MERGE
        if short == "!!binary":
            self._finding(
                mark,
                "yaml-value",
                "!!binary values are not supported by Kubernetes' YAML reader",
                "write the base64 text without the tag",
            )
            return text
        if short in ("!!int", "!!float", "!!bool", "!!null"):
            value: Any = resolve_plain(text) if text else None
            wanted: Any = {"!!int": int, "!!float": (int, float), "!!bool": bool, "!!null": type(None)}[short]
            if not isinstance(value, wanted) or (short != "!!bool" and isinstance(value, bool)):
                raise _Fail(mark.line, mark.column, "yaml-syntax", f"cannot read {text!r} as {short}")
            return float(value) if short == "!!float" else value
        return text  # !!timestamp and unknown tags: go-yaml v2 gives the text

    def _check_value(self, value: Any, text: str, mark: Any) -> None:
        if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
            self._finding(
                mark,
                "yaml-value",
                f"'{text}' is not a number JSON can carry, so Kubernetes cannot store it",
                "quote it if it is text",
            )
        elif (isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]) or (
            isinstance(value, float) and abs(value) >= 2**63 and re.fullmatch(r"[-+]?[0-9_]+", text)
        ):
            self._finding(
                mark,
                "yaml-value",
                f"integer {text} is outside the 64-bit range Kubernetes stores",
                "quote it if it is text",
            )

    def _alias(self, event: Any) -> None:
        mark = event.start_mark
        found = self.anchors.get(event.anchor)
        if found is None:
            raise _Fail(
                mark.line,
                mark.column,
                "yaml-syntax",
                f"alias *{event.anchor} refers to no anchor defined before it",
                "an alias must follow its anchor, outside of it (a node cannot contain itself)",
            )
        value, pos, size, height = found
        self.alias_nodes += size
        if self.alias_nodes > LIMITS.max_alias_nodes:
            raise _Fail(
                mark.line,
                mark.column,
                "yaml-limit",
                f"aliases expand to more than {LIMITS.max_alias_nodes} nodes (an alias bomb?)",
                "write the repeated parts out, or use fewer aliases",
            )
        if len(self.stack) + height > LIMITS.max_depth:
            raise _Fail(
                mark.line,
                mark.column,
                "yaml-limit",
                f"nesting deeper than {LIMITS.max_depth} levels once aliases are expanded",
            )
        self._attach(copy.deepcopy(value) if isinstance(value, (dict, list)) else value, pos, size, height)

    def _complete(self, value: Any, pos: Pos, size: int, height: int, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, pos, size, height)
        self._attach(value, pos, size, height)

    def _attach(self, value: Any, pos: Pos, size: int, height: int) -> None:
        if not self.stack:
            self.root = (value, pos)
            return
        frame = self.stack[-1]
        frame.size += size
        frame.height = max(frame.height, height + 1)
        if frame.kind == "seq":
            frame.value.append(value)
            frame.pos.children.append(pos)  # type: ignore[union-attr]
            return
        if frame.key is None:
            self._take_key(frame, value, pos)
            return
        key, frame.key = frame.key, None
        if key is _MERGE:
            frame.ops.append(("merge", self._merge_sources(value, pos, frame.key_info), frame.key_info))
            return
        if key is _SKIP:
            return
        frame.value[key] = value
        frame.pos.keys[key] = frame.key_info  # type: ignore[index]
        frame.pos.children[key] = pos  # type: ignore[index]
        frame.ops.append(("key", key))

    def _take_key(self, frame: _Frame, key: Any, pos: Pos) -> None:
        where = (pos.line, pos.column)
        frame.key_info = where
        if key is _MERGE:
            if "<<" in frame.seen:
                self._problem_at(where, "yaml-syntax", f"duplicate key '<<' (first on line {frame.seen['<<'][0] + 1})")
                frame.key = _SKIP
                return
            frame.seen["<<"] = where
            frame.key = _MERGE
            return
        if not isinstance(key, str):
            if pos.children is not None:
                self._problem_at(where, "yaml-syntax", "a mapping key must be a string, not a mapping or list")
            elif isinstance(key, bool):
                self._problem_at(
                    where,
                    "yaml-ambiguous",
                    f"this key is the boolean {str(key).lower()} to Kubernetes (YAML 1.1), not a string",
                    "quote the key",
                )
            else:
                self._problem_at(where, "yaml-syntax", f"mapping key {key!r} is not a string", "quote the key")
            frame.key = _SKIP
            return
        if key in frame.seen:
            self._problem_at(
                where,
                "yaml-syntax",
                f"duplicate key: '{key}' (first on line {frame.seen[key][0] + 1})",
                "Kubernetes rejects or silently drops one of them; keep one",
            )
            frame.key = _SKIP
            return
        frame.seen[key] = where
        frame.key = key

    def _merge_sources(self, value: Any, pos: Pos, where: tuple[int, int]) -> list[tuple[dict[str, Any], Pos]]:
        if isinstance(value, dict):
            return [(value, pos)]
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return list(zip(value, pos.children or [], strict=False))  # type: ignore[arg-type]
        self._problem_at(where, "yaml-syntax", "'<<' merges a mapping or a list of mappings", "")
        return []

    def _finish_mapping(self, frame: _Frame) -> None:
        if not any(op[0] == "merge" for op in frame.ops):
            return
        value: dict[str, Any] = {}
        keys: dict[str, tuple[int, int]] = {}
        children: dict[str, Pos] = {}
        explicit_before: set[str] = set()
        explicit = frame.value
        for op in frame.ops:
            if op[0] == "key":
                name = op[1]
                value[name] = explicit[name]
                keys[name] = frame.pos.keys[name]  # type: ignore[index]
                children[name] = frame.pos.children[name]  # type: ignore[index]
                explicit_before.add(name)
                continue
            merged: dict[str, tuple[Any, tuple[int, int], Pos]] = {}
            for source, source_pos in reversed(op[1]):  # earlier mappings take precedence (decode.go `merge`)
                for name, item in source.items():
                    key_at = (
                        source_pos.keys[name]
                        if source_pos.keys and name in source_pos.keys
                        else (source_pos.line, source_pos.column)
                    )
                    child = (
                        source_pos.children[name]
                        if isinstance(source_pos.children, dict) and name in source_pos.children
                        else source_pos
                    )
                    merged[name] = (item, key_at, child)
            for name, (item, key_at, child) in merged.items():
                if name in explicit_before and value[name] != item:
                    self._finding_at(
                        keys[name],
                        "yaml-ambiguous",
                        f"'{name}' is set here and again by the '<<' after it: kubectl (go-yaml v2) "
                        "takes the merged value, kustomize and the YAML merge-key spec keep this one",
                        "move the key after the '<<' line",
                    )
                value[name] = item
                keys[name] = key_at
                children[name] = child
        frame.value = value
        frame.pos.keys = keys
        frame.pos.children = children

    # -- problems

    def _finding(self, mark: Any, rule: str, message: str, hint: str = "") -> None:
        self._finding_at((mark.line, mark.column), rule, message, hint)

    def _finding_at(self, where: tuple[int, int], rule: str, message: str, hint: str = "") -> None:
        """A finding on one value: the document is still read (as go-yaml v2 reads it) and checked."""
        self.findings.append(Diagnostic(self.display, where[0] + 1, where[1] + 1, rule, message, hint=hint))

    def _problem_at(self, where: tuple[int, int], rule: str, message: str, hint: str = "") -> None:
        self.problems.append(Diagnostic(self.display, where[0] + 1, where[1] + 1, rule, message, hint=hint))


_SKIP = object()  # a pending key that was reported: its value is read and dropped
_HANDLERS = {
    "ScalarEvent": _Builder._scalar,
    "AliasEvent": _Builder._alias,
    "MappingStartEvent": _Builder._start,
    "SequenceStartEvent": _Builder._start,
    "MappingEndEvent": _Builder._end,
    "SequenceEndEvent": _Builder._end,
    "DocumentStartEvent": _Builder._document_start,
    "DocumentEndEvent": _Builder._document_end,
}


def to_plain(node: Any, display: str = "<input>") -> Any:
    """Turn ruamel's round-trip values into plain dict/list/str/int/float/bool/None (load_documents' already are)."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                line, col = _child_position(node, key) or _own_position(node)
                raise FindingsError(
                    [
                        Diagnostic(
                            display,
                            line,
                            col,
                            "yaml-syntax",
                            f"mapping key {key!r} is not a string",
                            hint="quote the key",
                        )
                    ]
                )
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
