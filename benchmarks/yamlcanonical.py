"""What the position-keeping YAML reader gives for a text, in one comparable string.

    python -m benchmarks.yamlcanonical FILE... > answers.txt

Used to hold two versions of the reader (before and after a change to the builder) to the same answers:
the values (by `repr`, so 1, 1.0 and True differ, and key order counts), the position of
every node and key as `Document.position` reports it, the documents' findings, and the
file's problems when it is refused, and the path that a rendered finding's line:column
leads back to. It prints one line per input (the odd snippets below, then each file), so
that two versions, each run in its own interpreter, can be compared with `cmp`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from katib_gitops.core.diagnostics import Diagnostic, FindingsError
from katib_gitops.yamlio.documents import Document, expand_lists, read_documents

# Odd and hostile YAML, beside real manifests: every branch of the builder.
SNIPPETS = [
    "a: 1\nb: [x, 'y', \"z\", ~, null, yes, No, on, OFF, y, n, true, False]\n",
    "n: [0, 010, 0o17, 0x1F, 0b101, -0b11, 1_000, +12, -7, 1.10, .5, 1e3, 1.5e+3]\n",
    "m: [.inf, -.Inf, .NaN, 9223372036854775808]\n",
    "u: [18446744073709551615, 18446744073709551616, -9223372036854775809, 1e400, 0777, 08, 1:30, 2024-01-01]\n",
    "t: [!!str 1, !!int '7', !!float '3', !!bool 'true', !!null '', !custom x]\n",
    "t: [!!binary aGk=, !!timestamp 2001-12-14, ! x, &a !!str y, *a]\n",
    "bad: !!int x\n",
    "base: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\nm1:\n  <<: *b\n  c: 5\nm2:\n  a: 0\n  <<: [*o, *b]\n  d: 6\n",
    "base: &b {a: 1}\nm:\n  a: 1\n  <<: *b\n",
    "base: &b {a: 1}\nm: {<<: *b, <<: *b}\n",
    "m: {!!merge <<: {x: 1}}\n",
    "m: {<<: [1, 2]}\n",
    "m: {<<: scalar}\n",
    "a: 1\na: 2\nb: {c: 1, c: 2}\n",
    "? [a]\n: 1\n",
    "? {a: 1}\n: 1\n",
    "yes: 1\n1: 2\nnull: 3\n",
    "a: &x [1, *x]\n",
    "a: *nowhere\n",
    "env: &env [{name: A, value: x}]\nc1: {env: *env}\nc2: {env: *env}\ns: &s text\nt: *s\n",
    "---\n---\n# only a comment\n---\n~\n---\nkind: A\n---\n- 1\n- 2\n",
    "kind: List\napiVersion: v1\nitems:\n- kind: A\n  x: yes\n- kind: List\n  items:\n  - {kind: B}\n",
    "a:\n\tb: 1\n",
    "a: [1, 2\n",
    "a: {b: [c, {d: e}], f: []}\ng: {}\nh: ''\n",
    "- - - deep\n    - x\n  - y\n- z\n",
    "key with spaces: value with: colon\n'quoted key': \"quoted \\u00e9\"\nnon-ascii: \u00e9t\u00e9\n",
    "lit: |\n  line one\n  line two\nfold: >-\n  folded\n  text\n",
    "<<: {a: 1}\nb: 2\n",
    "d: [\u0661\u0662, 1\u0662, 123456789012345678, 1234567890123456789, 99999999999999999999, 7, 0, 1e, 12a]\n",
    "w: [Yes, yES, nULL, ~x, nope, t, f, o, True1, offset, 'on', \"no\"]\nYes: 1\nnull: 2\n~: 3\n",
    "a: -\nb: +\nc: .\nd: -.\ne: +.5\nf: -.5e3\ng: 0.\nh: 00\ni: -0\nj: 0x\nk: _1\nl: 1__0\n",
]


def _paths(value: Any, path: list[str | int]) -> Iterator[list[str | int]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, [*path, index])


def _diagnostics(found: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[str]:
    return [repr(tuple(d)) for d in found]


def _document(document: Document) -> list[Any]:
    from katib_gitops.kustomize.inputs import _path_at  # how a rendered finding finds its way back

    positions = [
        [path, document.position(path), document.position(path, at_key=True)] for path in _paths(document.data, [])
    ]
    back = [_path_at(document.node, *where) for _, where, _ in positions[:40]]
    return [
        document.file,
        document.index,
        repr(document.data),
        positions,
        _diagnostics(document.findings),
        _diagnostics(document.unless_accepted),
        back,
    ]


def canonical(text: str, name: str) -> str:
    """Everything the reader says about `text`, as one JSON string."""
    try:
        documents = read_documents(text, name)
    except FindingsError as refused:
        return json.dumps(["refused", _diagnostics(refused.diagnostics)])
    flat = expand_lists(documents)
    return json.dumps(["read", [_document(d) for d in documents], [_document(d) for d in flat]])


def main(paths: list[str]) -> int:
    """One line per input: the snippets, then each named file."""
    for index, text in enumerate(SNIPPETS):
        print(canonical(text, f"snippet-{index}.yaml"))
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            print(canonical(handle.read(), path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
