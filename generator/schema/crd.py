"""CustomResourceDefinitions as JSON Schemas: what the API server enforces, plus strict unknown fields.

`schema_for` turns the `openAPIV3Schema` of one served version of a CRD (a parsed
`apiextensions.k8s.io/v1` object) into a Draft 2020-12 JSON Schema for `jsonschema`:

- `x-kubernetes-int-or-string` accepts an integer or a string (not a float);
- `nullable: true` accepts null; elsewhere null is reported (the API server drops it);
- `x-kubernetes-preserve-unknown-fields` keeps unknown keys at that level;
- every other object schema gets `additionalProperties: false`: a field the API
  server would prune, or reject under `fieldValidation=Strict`, is an error;
- `x-kubernetes-embedded-resource` objects take `apiVersion`, `kind` (both
  required) and `metadata` (ObjectMeta), and so does the root, whose
  `apiVersion` and `kind` must name the CRD and the version;
- `x-kubernetes-list-type: set` lists have unique items, and `map` lists unique
  `x-kubernetes-list-map-keys` (checked by `check`/`validate`);
- OpenAPI 3.0 boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers.

`validate` first admits the object as the API server does (`admitted`: nulls pruned where
not nullable, defaults applied), then checks the schema, then runs the CRD's CEL rules
(`cel_results`) with a CEL library, where it can evaluate them; rules naming `oldSelf` (update
only) are skipped. Not checked: `format` and the syntax of names and labels in `metadata`.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

CrdKey = tuple[str, str]
Schema = dict[str, Any]
DIALECT = "https://json-schema.org/draft/2020-12/schema"
CRD_API_GROUP = "apiextensions.k8s.io"
YAML_SUFFIXES = (".yaml", ".yml", ".json")
SUBSCHEMA_KEYS = ("properties", "items", "additionalProperties", "allOf", "anyOf", "oneOf", "not")
NULL_GUARDED = ("enum", "const", "allOf", "anyOf", "oneOf", "not")
MAP_KEYS = "x-kubernetes-list-map-keys"
INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
_STRING: Schema = {"type": "string"}
_STRING_MAP: Schema = {"type": "object", "additionalProperties": _STRING}
_OBJECTS: Schema = {"type": "array", "items": {"type": "object"}}
OBJECT_META: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _STRING,
        "generateName": _STRING,
        "namespace": _STRING,
        "uid": _STRING,
        "resourceVersion": _STRING,
        "selfLink": _STRING,
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": _STRING,
        "deletionGracePeriodSeconds": {"type": "integer"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": _STRING},
        "ownerReferences": _OBJECTS,
        "managedFields": _OBJECTS,
    },
}


class CrdError(ValueError):
    """The CRD cannot give a schema: not a CRD, no such served version, or no schema."""


# ------------------------------------------------------------- loading


def is_crd(document: Any) -> bool:
    if not isinstance(document, Mapping) or document.get("kind") != "CustomResourceDefinition":
        return False
    return str(document.get("apiVersion", "")).startswith(f"{CRD_API_GROUP}/")


def crd_key(crd: Mapping[str, Any]) -> CrdKey:
    """(group, kind) of the resources the CRD defines."""
    spec = crd.get("spec") or {}
    return str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))


def load_crds(path: Path) -> dict[CrdKey, dict[str, Any]]:
    """Every CRD in a YAML/JSON file, or in the files under a folder, by (group, kind).

    A `kind: List` gives the CRDs among its items. Other documents are skipped; a later file wins
    over an earlier one for the same key.
    """
    from katib_gitops.core.diagnostics import FindingsError
    from katib_gitops.yamlio.documents import expand_lists, load_documents
    from katib_gitops.yamlio.reader import read_text, walk

    # Read as every input is (generator/yamlio/): stat before open, size, depth and alias limits, UTF-8;
    # links never lead out of the folder.
    files = (
        sorted(here / n for here, _, names in walk(path) for n in names if Path(n).suffix in YAML_SUFFIXES)
        if path.is_dir()
        else [path]
    )
    found: dict[CrdKey, dict[str, Any]] = {}
    for file in files:
        try:
            # `kind: List`, as `kubectl get crd a b -o yaml` prints them, stands for its items.
            loaded = load_documents(read_text(file, str(file)), str(file), strict=False)
            documents = [d.data for d in expand_lists(loaded)]
        except FindingsError as exc:
            raise CrdError("; ".join(d.format() for d in exc.diagnostics)) from None
        for document in documents:
            if is_crd(document):
                found[crd_key(document)] = document
    return found


# ------------------------------------------------------------- versions


def served_versions(crd: Mapping[str, Any]) -> list[str]:
    return [str(v["name"]) for v in _versions(crd) if v.get("served")]


def default_version(crd: Mapping[str, Any]) -> str:
    """The storage version if it is served, else the first served version."""
    served = [v for v in _versions(crd) if v.get("served")]
    if not served:
        raise CrdError(f"{_crd_name(crd)}: serves no version")
    storage = [v for v in served if v.get("storage")]
    return str((storage or served)[0]["name"])


def version_of(obj: Any, crd: Mapping[str, Any]) -> str | None:
    """The version named by `obj`'s apiVersion, when its group is the CRD's group."""
    api_version = obj.get("apiVersion") if isinstance(obj, Mapping) else None
    if not isinstance(api_version, str) or "/" not in api_version:
        return None
    group, _, version = api_version.rpartition("/")
    return version if group == crd_key(crd)[0] else None


def _versions(crd: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if not is_crd(crd):
        raise CrdError("not an apiextensions.k8s.io CustomResourceDefinition")
    return list((crd.get("spec") or {}).get("versions") or [])


def _crd_name(crd: Mapping[str, Any]) -> str:
    return str((crd.get("metadata") or {}).get("name") or "/".join(crd_key(crd)))


def _version_entry(crd: Mapping[str, Any], version: str | None) -> Mapping[str, Any]:
    wanted = version or default_version(crd)
    for entry in _versions(crd):
        if entry.get("name") == wanted and entry.get("served"):
            return entry
    raise CrdError(
        f"{_crd_name(crd)}: version {wanted!r} is not served (served: {', '.join(served_versions(crd)) or 'none'})"
    )


def deprecation(crd: Mapping[str, Any], version: str | None) -> str | None:
    """The warning the API server sends with every request to a served version marked `deprecated`, else None.

    apiextensions-apiserver: the CRD's deprecationWarning, or "<group>/<version> <Kind> is deprecated".
    """
    try:
        entry = _version_entry(crd, version)
    except CrdError:
        return None
    if not entry.get("deprecated"):
        return None
    custom = entry.get("deprecationWarning")
    if isinstance(custom, str) and custom:
        return custom
    group, kind = crd_key(crd)
    return f"{group}/{entry.get('name')} {kind} is deprecated"


# ------------------------------------------------------------- conversion


def schema_for(crd: Mapping[str, Any], version: str | None = None) -> Schema:
    """A JSON Schema (Draft 2020-12) for objects of one served version (default: see `default_version`)."""
    entry = _version_entry(crd, version)
    raw = (entry.get("schema") or {}).get("openAPIV3Schema")
    if not isinstance(raw, Mapping):
        raise CrdError(f"{_crd_name(crd)}: version {entry['name']!r} has no openAPIV3Schema")
    group, kind = crd_key(crd)
    root = _structural(raw)
    _add_resource_fields(root, raw, api_version=f"{group}/{entry['name']}", kind=kind)
    _close(root, raw)
    return {"$schema": DIALECT, **root}


def _structural(node: Mapping[str, Any]) -> Schema:
    """Convert one structural schema node and everything below it."""
    out = _shallow(node, _structural)
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
        if out.get("anyOf") == INT_OR_STRING_ANY_OF:
            del out["anyOf"]  # the same as `type`, which gives the clearer message
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if node.get("x-kubernetes-embedded-resource"):
        _add_resource_fields(out, node)
    _close(out, node)
    if node.get("nullable"):
        _allow_null(out)
    return out


def _value(node: Mapping[str, Any]) -> Schema:
    """Convert a value-validation node (inside allOf/anyOf/oneOf/not): nothing is added."""
    return _shallow(node, _value)


def _shallow(node: Mapping[str, Any], convert: Callable[[Mapping[str, Any]], Schema]) -> Schema:
    """Copy `node`, converting its subschemas: with `convert` where structural, `_value` under logic."""
    out = {k: copy.deepcopy(v) for k, v in node.items() if k not in SUBSCHEMA_KEYS}
    _exclusive_bounds(out)
    if "properties" in node:
        out["properties"] = {k: convert(v) for k, v in node["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        sub = node.get(key)
        if isinstance(sub, Mapping):
            out[key] = _value(sub) if key == "not" else convert(sub)
        elif key in node:
            out[key] = copy.deepcopy(sub)  # additionalProperties: true/false
    for key in ("allOf", "anyOf", "oneOf"):
        if key in node:
            out[key] = [_value(s) for s in node[key]]
    return out


def _exclusive_bounds(out: Schema) -> None:
    """OpenAPI 3.0 `exclusiveMinimum: true` + `minimum: n` is 2020-12 `exclusiveMinimum: n`."""
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if isinstance(out.get(exclusive), bool):
            flag = out.pop(exclusive)
            if flag and bound in out:
                out[exclusive] = out.pop(bound)


def _close(out: Schema, node: Mapping[str, Any]) -> None:
    """Unknown fields are errors, unless the schema keeps them."""
    if node.get("x-kubernetes-preserve-unknown-fields") or "additionalProperties" in node:
        return
    if "properties" in out or node.get("type") == "object":
        out["additionalProperties"] = False


def _allow_null(out: Schema) -> None:
    """null passes `type`, and skips enum/const and the logical keywords."""
    kinds = out.get("type")
    if kinds is not None:
        out["type"] = [*([kinds] if isinstance(kinds, str) else kinds), "null"]
    guarded = {k: out.pop(k) for k in NULL_GUARDED if k in out}
    if guarded:
        out["if"] = {"not": {"type": "null"}}
        out["then"] = guarded


def _add_resource_fields(out: Schema, node: Mapping[str, Any], api_version: str = "", kind: str = "") -> None:
    """apiVersion, kind (required) and metadata of a resource; `api_version`/`kind` pin them (the root)."""
    properties = out.setdefault("properties", {})
    properties["apiVersion"] = {"const": api_version} if api_version else {"type": "string", "minLength": 1}
    properties["kind"] = {"const": kind} if kind else {"type": "string", "minLength": 1}
    properties["metadata"] = _object_meta((node.get("properties") or {}).get("metadata") or {})
    out["required"] = sorted({*out.get("required", []), "apiVersion", "kind"})


def _object_meta(declared: Mapping[str, Any]) -> Schema:
    """ObjectMeta, with any constraints the CRD declares on its fields (e.g. name's maxLength)."""
    meta = copy.deepcopy(OBJECT_META)
    for name, field in (declared.get("properties") or {}).items():
        meta["properties"][name] = {**meta["properties"].get(name, {}), **_structural(field)}
    return meta


# ------------------------------------------------------------- validation


def validate(obj: Any, crd: Mapping[str, Any], version: str | None = None) -> list[str]:
    """Problems of `obj` against the CRD, each as '<json path>: <message>'; [] when valid.

    The version is `version`, else the one `obj`'s apiVersion names, else the default. As the
    API server: nulls pruned and defaults applied first (`admitted`), then the schema, then the
    CEL rules the CEL library evaluates (`cel_results`; those it cannot are left out here).
    """
    version = version or version_of(obj, crd)
    try:
        schema = schema_for(crd, version)
    except CrdError as exc:
        return [f"apiVersion: {exc}"]
    obj = admitted(obj, crd, version)
    broken = [f"{format_path(r.path)}: {r.message}" for r in cel_results(obj, crd, version) if r.evaluated]
    return sorted({*check(obj, schema), *broken})


def check(obj: Any, schema: Schema) -> list[str]:
    """Problems of `obj` against a schema from `schema_for` (build it once to validate many objects)."""
    messages: dict[str, None] = {}
    for error in _validator_class()(schema).iter_errors(obj):
        for message in _messages(error):
            messages[message] = None
    return sorted(messages)


def validator(schema: Schema) -> Any:
    """A jsonschema validator for a schema from `schema_for` (errors carry their JSON path)."""
    return _validator_class()(schema)


@functools.cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {MAP_KEYS: _unique_map_keys})  # type: ignore[no-untyped-call]


def _unique_map_keys(_validator: Any, keys: list[str], instance: Any, _schema: Schema) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, list):
        return
    seen: set[str] = set()
    for item in instance:
        if not isinstance(item, Mapping):
            continue
        key = json.dumps([item.get(k) for k in keys], sort_keys=True)
        if key in seen:
            yield ValidationError(
                f"duplicate entry with {', '.join(keys)} = {', '.join(json.dumps(item.get(k)) for k in keys)}"
            )
        seen.add(key)


def _messages(error: Any) -> list[str]:
    path = list(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and error.validator_value is False and isinstance(instance, Mapping):
        allowed = error.schema.get("properties", {})
        return [f"{format_path([*path, k])}: unknown field {k!r}" for k in instance if k not in allowed]
    if error.validator == "required" and isinstance(instance, Mapping):
        return [
            f"{format_path([*path, k])}: required field is missing" for k in error.validator_value if k not in instance
        ]
    return [f"{format_path(path)}: {error.message}"]


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def format_path(path: list[Any]) -> str:
    """`spec.containers[0].resources.limits[nvidia.com/gpu]`; `<root>` for the object itself."""
    text = ""
    for part in path:
        if isinstance(part, int) or not _PLAIN_KEY.match(str(part)):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "<root>"


# ------------------------------------------------------------- admission: nulls, defaults, CEL


def admitted(obj: Any, crd: Mapping[str, Any], version: str | None = None) -> Any:
    """`obj` as the API server validates it: nulls pruned where not nullable, then defaults applied.

    The apiextensions-apiserver decodes a custom resource, drops each null field whose schema is
    not `nullable` and has no `default` (structuraldefaulting.PruneNonNullableNullsWithoutDefaults),
    then fills each absent field, or null non-nullable one, that has a `default`
    (structuraldefaulting.Default), and only then validates. Object fields only, below existing
    parents; `metadata` is ObjectMeta's, not the schema's. `obj` itself is not changed.
    """
    raw = _raw_schema(crd, version or version_of(obj, crd))
    if raw is None or not isinstance(obj, Mapping):
        return obj
    out = copy.deepcopy(dict(obj))
    _prune_and_default(out, raw, root=True)
    return out


def with_defaults(obj: Any, raw: Mapping[str, Any]) -> Any:
    """`admitted` for a schema given itself: `obj` with nulls pruned and the schema's `default`s filled in."""
    if not isinstance(obj, Mapping):
        return obj
    out = copy.deepcopy(dict(obj))
    _prune_and_default(out, raw, root=True)
    return out


def _raw_schema(crd: Mapping[str, Any], version: str | None) -> Mapping[str, Any] | None:
    try:
        entry = _version_entry(crd, version)
    except CrdError:
        return None
    raw = (entry.get("schema") or {}).get("openAPIV3Schema")
    return raw if isinstance(raw, Mapping) else None


def _prune_and_default(value: Any, node: Mapping[str, Any], root: bool = False) -> None:
    if isinstance(value, dict):
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for key in list(value):
            if (root or node.get("x-kubernetes-embedded-resource")) and key in ("apiVersion", "kind", "metadata"):
                continue
            sub = properties.get(key) if key in properties else (extra if isinstance(extra, Mapping) else None)
            if sub is None:
                continue
            if value[key] is None and not sub.get("nullable"):
                if "default" in sub:
                    value[key] = copy.deepcopy(sub["default"])
                else:
                    del value[key]
                    continue
            _prune_and_default(value[key], sub)
        for key, sub in properties.items():
            if key not in value and isinstance(sub, Mapping) and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
                _prune_and_default(value[key], sub)
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for item in value:
            _prune_and_default(item, node["items"])


class CelResult(NamedTuple):
    """One CEL rule of the CRD on one node: violated (`evaluated`), or not evaluated (`evaluated` False)."""

    path: list[str | int]
    message: str
    evaluated: bool


def cel_results(obj: Any, crd: Mapping[str, Any], version: str | None = None) -> list[CelResult]:
    """The `x-kubernetes-validations` rules `obj` (as `admitted` returns it) breaks, and those not evaluated.

    Each rule runs with `self` bound to the value of its node, wherever that node is present,
    as the API server runs it on create. Rules that name `oldSelf` are transition rules, which
    the API server runs on update only: skipped. A rule the CEL library cannot compile or
    evaluate (a Kubernetes extension such as `isURL` or `quantity`, a missing optional field)
    is reported as not evaluated, never as broken.
    """
    raw = _raw_schema(crd, version or version_of(obj, crd))
    if raw is None:
        return []
    return schema_cel_results(obj, raw)


def schema_cel_results(obj: Any, raw: Mapping[str, Any]) -> list[CelResult]:
    """`cel_results` for a schema of the CRD's form given itself (`openAPIV3Schema`, or one of ours that carries
    `x-kubernetes-validations`): the rules `obj` breaks, and those not evaluated."""
    found: list[CelResult] = []
    for node, value, path in _nodes(obj, raw, []):
        for validation in node.get("x-kubernetes-validations") or []:
            rule = validation.get("rule") if isinstance(validation, Mapping) else None
            if not isinstance(rule, str) or re.search(r"\boldSelf\b", rule):
                continue
            result = _evaluate(rule, value)
            where = [*path, *_field_path(validation.get("fieldPath"))]
            if result is None:
                found.append(CelResult(where, f"CEL rule not evaluated: {rule}", evaluated=False))
            elif result is False:
                message = validation.get("message") or f"failed rule: {rule}"
                found.append(CelResult(where, str(message), evaluated=True))
    return found


def _nodes(
    value: Any, node: Mapping[str, Any], path: list[str | int]
) -> Iterator[tuple[Mapping[str, Any], Any, list[str | int]]]:
    if value is None:
        return
    yield node, value, path
    if isinstance(value, dict):
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        for key, child in value.items():
            sub = properties.get(key) if key in properties else (extra if isinstance(extra, Mapping) else None)
            if isinstance(sub, Mapping):
                yield from _nodes(child, sub, [*path, key])
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _nodes(item, node["items"], [*path, index])


def _field_path(field_path: Any) -> list[str | int]:
    """A rule's `fieldPath` (`.spec.replicas`, `.items[0]`) as path parts; [] when absent or unusual."""
    if not isinstance(field_path, str) or not re.fullmatch(r"(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])+", field_path):
        return []
    return [int(p[1:-1]) if p.startswith("[") else p[1:] for p in re.findall(r"\.[^.\[]+|\[\d+\]", field_path)]


def _evaluate(rule: str, value: Any) -> bool | None:
    """True or False as the rule says of `value`; None when the CEL library cannot say."""
    program = _compiled(rule)
    if program is None:
        return None
    try:
        result = program.execute({"self": value})
    except Exception:  # an evaluation error: not a verdict (the library's errors are plain ones)
        return None
    return result if isinstance(result, bool) else None


@functools.lru_cache(maxsize=1024)
def _compiled(rule: str) -> Any:
    """The compiled rule (common-expression-language, the Python binding of the Rust CEL interpreter), or None."""
    try:
        import cel
    except ImportError:
        return None
    try:
        return cel.compile(rule)
    except Exception:  # syntax the library does not know
        return None
