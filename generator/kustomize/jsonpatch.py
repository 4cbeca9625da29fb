"""RFC 6902 JSON Patch: computing the patch between two documents and applying one.

Kustomize applies our overlay patches; the generator applies the same patches in
process (render) and checks they give exactly the Experiment it built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katib_gitops.core.plain import clone

Op = dict[str, Any]


class PatchError(ValueError):
    """A patch does not apply to its document."""


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(path: Sequence[str | int]) -> str:
    return "".join("/" + escape(p) for p in path)


def split_pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchError(f"path {text!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in text[1:].split("/")]


# ------------------------------------------------------------- diff


def diff(old: Any, new: Any, path: tuple[str | int, ...] = ()) -> list[Op]:
    """Operations that turn `old` into `new`.

    Lists of equal length are patched item by item; before touching an item that
    has a `name` (a container, a volume, an env var) a `test` on that name guards
    against a base whose list order has changed. Other list changes replace the
    whole list.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dicts(old, new, path)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return _diff_lists(old, new, path)
    if type(old) is type(new) and old == new:
        return []
    return [{"op": "replace", "path": pointer(path), "value": clone(new)}]


def _diff_dicts(old: dict[str, Any], new: dict[str, Any], path: tuple[str | int, ...]) -> list[Op]:
    ops: list[Op] = [{"op": "remove", "path": pointer(path + (key,))} for key in old if key not in new]
    for key, value in new.items():
        if key in old:
            ops.extend(diff(old[key], value, path + (key,)))
        else:
            ops.append({"op": "add", "path": pointer(path + (key,)), "value": clone(value)})
    return ops


def _diff_lists(old: list[Any], new: list[Any], path: tuple[str | int, ...]) -> list[Op]:
    ops: list[Op] = []
    for index, (before, after) in enumerate(zip(old, new, strict=True)):
        item_ops = diff(before, after, path + (index,))
        if item_ops and isinstance(before, dict) and isinstance(before.get("name"), str):
            ops.append({"op": "test", "path": pointer(path + (index, "name")), "value": before["name"]})
        ops.extend(item_ops)
    return ops


# ------------------------------------------------------------- apply


def apply(document: Any, ops: Sequence[Op]) -> Any:
    """Apply `ops` to a copy of `document` (add, remove, replace, move, copy, test)."""
    result = clone(document)
    for op in ops:
        result = _apply_one(result, op)
    return result


def _apply_one(doc: Any, op: Op) -> Any:
    kind = op.get("op")
    path = split_pointer(op.get("path", ""))
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise PatchError(f"test failed at {op['path']}")
        return doc
    if kind in ("move", "copy"):
        source = split_pointer(op.get("from", ""))
        value = clone(_get(doc, source))
        if kind == "move":
            doc = _remove(doc, source)
        return _add(doc, path, value)
    if kind == "add":
        return _add(doc, path, clone(op.get("value")))
    if kind == "remove":
        return _remove(doc, path)
    if kind == "replace":
        _get(doc, path)
        return _set(doc, path, clone(op.get("value")))
    raise PatchError(f"unknown op {kind!r}")


def _parent(doc: Any, path: list[str]) -> Any:
    return _get(doc, path[:-1])


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"{token!r} is not a list index")
    index = int(token)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"index {index} out of range")
    return index


def _get(doc: Any, path: list[str]) -> Any:
    node = doc
    for token in path:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"missing path /{'/'.join(path)}")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            raise PatchError(f"missing path /{'/'.join(path)}")
    return node


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _parent(doc, path)
    if isinstance(parent, list):
        parent.insert(_index(parent, path[-1], allow_end=True), value)
    elif isinstance(parent, dict):
        parent[path[-1]] = value
    else:
        raise PatchError(f"cannot add below a scalar at /{'/'.join(path)}")
    return doc


def _set(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _parent(doc, path)
    if isinstance(parent, list):
        parent[_index(parent, path[-1], allow_end=False)] = value
    else:
        parent[path[-1]] = value
    return doc


def _remove(doc: Any, path: list[str]) -> Any:
    _get(doc, path)
    parent = _parent(doc, path)
    if isinstance(parent, list):
        del parent[_index(parent, path[-1], allow_end=False)]
    else:
        del parent[path[-1]]
    return doc
