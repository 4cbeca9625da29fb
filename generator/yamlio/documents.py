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

# No postponed annotations (PEP 563) here: see docs/performance.md, "Start-up" (NamedTuples).

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from katib_gitops.core.diagnostics import Diagnostic, FindingsError
from katib_gitops.core.registry import declare
from katib_gitops.yamlio.builder import Fail, build

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

# A node's position, 0-based as parsed (builder.py): (line, column) for a scalar, (line, column, keys, children)
# for a mapping or a list.
Pos = tuple[Any, ...]


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

    `node` is a position tree from `load_documents` (a tuple), or a ruamel round-trip node.
    """
    if isinstance(node, tuple):
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
    line, column = pos[0], pos[1]
    for index, part in enumerate(path):
        children = pos[3] if len(pos) > 2 else None
        if isinstance(part, int) and isinstance(children, list) and 0 <= part < len(children):
            pos = children[part]
            line, column = pos[0], pos[1]
        elif isinstance(part, str) and isinstance(children, dict) and part in children:
            line, column = pos[2][part]
            pos = children[part]
            if index == len(path) - 1 and not at_key and len(pos) == 2:
                line, column = pos
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


def _events(text: str) -> Iterator[Any]:
    """libyaml's events for `text` (the pure-Python parser's where PyYAML was built without libyaml)."""
    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML without libyaml
        from yaml import SafeLoader

        return iter(SafeLoader(text).get_event, None)
    return iter(CParser(text).get_event, None)


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
    children = node[3].get("items") if isinstance(node, tuple) and len(node) > 2 and node[2] is not None else None
    items = children[3] if isinstance(children, tuple) and len(children) > 2 else None
    out: list[Document] = []
    for i, item in enumerate(data["items"]):
        if isinstance(items, list) and i < len(items):
            item_node: Any = items[i]
        elif isinstance(node, tuple):
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

    problems: list[Diagnostic] = []
    try:
        built = build(_events(text), display, problems)
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
    except Fail as fail:
        raise FindingsError(
            [*problems, Diagnostic(display, fail.line, fail.column, fail.rule, fail.message, hint=fail.hint)]
        ) from None
    except RecursionError:  # defence in depth: the builder is iterative, this should not happen
        raise FindingsError([Diagnostic(display, 1, 1, "yaml-limit", "structure too deep to read")]) from None
    if problems:
        raise FindingsError(problems)
    return [Document(display, *document) for document in built]


def _syntax_hint(problem: str, offending: str) -> str:
    if "tab" in problem or offending == "\t":
        return "a tab character: YAML is indented with spaces only"
    return ""


def _char_at(text: str, index: int | None) -> str:
    return text[index] if index is not None and 0 <= index < len(text) else ""


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
