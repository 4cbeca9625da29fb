"""A Go text/template interpreter for v1alpha3 trial templates: the actions they used become v1beta1 placeholders."""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterator, Mapping

_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.DOTALL)
_WITH = re.compile(r"with\s+\$?\.HyperParameters")
_RANGE = re.compile(r"range\s+\$?\.HyperParameters")
_FIELD = re.compile(r"(\$)?\.(Trial|NameSpace|Experiment)")
_ITEM = re.compile(r"\.(Name|Value)")
_BLOCK = re.compile(r"(if|range|with|block|define)\b")
_SPACE = " \t\r\n"
_UNSUPPORTED_HINT = (
    "v1beta1 substitutes only ${trialParameters.<name>} placeholders; katib-gitops converts {{.Trial}}, "
    "{{.NameSpace}}, {{.Experiment}} and the .HyperParameters loop: rewrite this part of the template by hand"
)

Problem = tuple[int, str, str]
"""An action that cannot be converted: its offset in the template, a message and a hint."""


class TemplateError(Exception):
    """Actions of a Go template that cannot be converted: (offset in the template, message, hint) each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(message for _, message, _ in problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class TemplateData:
    """What a v1alpha3 template saw, as v1beta1 text: fields by name, and (Name, Value) per HyperParameter."""

    fields: Mapping[str, str]
    parameters: tuple[tuple[str, str], ...]


@dataclasses.dataclass
class _Node:
    kind: str  # root, text, field, item, with, range, end, skip (a block already reported)
    offset: int
    text: str = ""
    children: list[_Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Rendered:
    """Rendered template text, and for each piece of it the template offset it came from."""

    text: str
    starts: tuple[int, ...]
    sources: tuple[int, ...]
    literal: tuple[bool, ...]

    def source_offset(self, offset: int) -> int:
        index = bisect.bisect_right(self.starts, offset) - 1
        if index < 0:
            return 0
        shift = offset - self.starts[index] if self.literal[index] else 0
        return self.sources[index] + shift


def render_template(raw: str, data: TemplateData) -> Rendered:
    """Render a v1alpha3 Go template with v1beta1 placeholders; unknown actions raise TemplateError."""
    problems: list[Problem] = []
    root = _parse_template(raw, problems)
    pieces: list[tuple[str, int, bool]] = []
    _render(root.children, data, None, pieces, problems)
    if problems:
        raise TemplateError(sorted(problems))
    starts, text = [], ""
    for piece, _, _ in pieces:
        starts.append(len(text))
        text += piece
    return Rendered(text, tuple(starts), tuple(p[1] for p in pieces), tuple(p[2] for p in pieces))


def _tokens(raw: str) -> Iterator[tuple[str, str, int]]:
    """("text", text, offset) and ("action", body, offset), with Go's {{- and -}} trimming applied."""
    position, trim = 0, False
    for match in _ACTION.finditer(raw):
        yield from _text(raw, position, match.start(), trim, bool(match.group(1)))
        yield "action", match.group(2).strip(), match.start()
        position, trim = match.end(), bool(match.group(3))
    yield from _text(raw, position, len(raw), trim, False)


def _text(raw: str, start: int, end: int, trim_left: bool, trim_right: bool) -> Iterator[tuple[str, str, int]]:
    text = raw[start:end]
    if trim_left:
        kept = text.lstrip(_SPACE)
        start, text = start + len(text) - len(kept), kept
    if trim_right:
        text = text.rstrip(_SPACE)
    if text:
        yield "text", text, start


def _parse_template(raw: str, problems: list[Problem]) -> _Node:
    stack = [_Node("root", 0)]
    for kind, text, offset in _tokens(raw):
        if kind == "text":
            if "{{" in text:
                problems.append((offset + text.index("{{"), "a Go template action is not closed with }}", ""))
            stack[-1].children.append(_Node("text", offset, text))
            continue
        node = _action(text, offset, stack[-1].kind, problems)
        if node is None:
            continue
        if node.kind == "end" and len(stack) == 1:
            problems.append((offset, "{{end}} without {{with}} or {{range}}", ""))
        elif node.kind == "end":
            stack.pop()
        else:
            stack[-1].children.append(node)
            if node.kind in ("with", "range", "skip"):
                stack.append(node)
    problems.extend(
        (block.offset, f"{{{{{block.kind}}}}} is not closed with {{{{end}}}}", "")
        for block in stack[1:]
        if block.kind != "skip"
    )
    return stack[0]


def _action(body: str, offset: int, scope: str, problems: list[Problem]) -> _Node | None:
    """The node for one action, in a scope: root (dot is the trial), with (the HyperParameters), range (one of them)."""
    if body.startswith("/*") and body.endswith("*/"):
        return None  # a Go template comment renders nothing
    if body == "end":
        return _Node("end", offset)
    if scope == "skip":  # inside a block already reported: only its nesting matters
        return _Node("skip", offset) if _BLOCK.match(body) else None
    if _WITH.fullmatch(body) and scope == "root":
        return _Node("with", offset)
    if (body == "range ." and scope == "with") or (_RANGE.fullmatch(body) and scope != "range"):
        return _Node("range", offset)
    field = _FIELD.fullmatch(body)
    if field and (field.group(1) or scope == "root"):
        return _Node("field", offset, field.group(2))
    item = _ITEM.fullmatch(body)
    if item and scope == "range":
        return _Node("item", offset, item.group(1))
    problems.append((offset, f"unsupported Go template action {{{{{body}}}}}", _UNSUPPORTED_HINT))
    return _Node("skip", offset) if _BLOCK.match(body) else None


def _render(
    nodes: list[_Node],
    data: TemplateData,
    item: tuple[str, str] | None,
    pieces: list[tuple[str, int, bool]],
    problems: list[Problem],
) -> None:
    for node in nodes:
        if node.kind == "text":
            pieces.append((node.text, node.offset, True))
        elif node.kind == "field" and node.text not in data.fields:
            problems.append(
                (
                    node.offset,
                    f"{{{{.{node.text}}}}} has no value: the Experiment has no metadata.name",
                    "name the Experiment",
                )
            )
        elif node.kind == "field":
            pieces.append((data.fields[node.text], node.offset, False))
        elif node.kind == "item" and item is not None:
            pieces.append((item[0] if node.text == "Name" else item[1], node.offset, False))
        elif node.kind == "with" and data.parameters:
            _render(node.children, data, item, pieces, problems)
        elif node.kind == "range":
            for parameter in data.parameters:
                _render(node.children, data, parameter, pieces, problems)
