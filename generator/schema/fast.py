"""The fast path of schema validation: jsonschema-rs says whether a document is valid.

Most documents are valid, and jsonschema-rs answers that in microseconds where the
Python engine takes about a millisecond. Only an invalid document goes through the
Python engine (katib_gitops.schema.manifests), which explains each error with its path;
both engines read the same schemas, and a test holds them to the same verdicts.

Schemas that reference Kubernetes core definitions are bundled once: the reachable
definitions are copied into the schema, so that a run does not parse kubernetes-validate's
whole definitions file (1.8 MB). Bundles are cached under the user's cache folder
($XDG_CACHE_HOME/katib-gitops, or ~/.cache/katib-gitops), keyed by the schema's
content and the Kubernetes version, and rebuilt when either changes.

A bundle holds what jsonschema-rs needs to judge and nothing else: the `description`
of every schema in it is left out (three quarters of the text of the Kubernetes
definitions). Descriptions are annotations, no part of a verdict, and the Python engine,
which writes the messages, reads the schemas as they are. Loading the smaller bundle and
compiling it takes about 2.5 ms less of a one-file run (docs/performance.md, "Start-up").
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.files import cache_dir, store_cached_json
from katib_gitops.schema import manifests
from katib_gitops.schema.ours import SUFFIX, schema_path, schema_text

REF = re.compile(r"(?:https://kubernetes\.io)?/api/_definitions\.json#/\$defs/")
CACHE_VERSION = "2"  # 2: descriptions left out


def _source(key: tuple[str, ...], version: str) -> tuple[str, str]:
    """(label, schema text) of ('ours', name), our schema, or ('core', api_version, kind), kubernetes-validate's."""
    if key[0] == "ours":
        return f"ours-{schema_path(key[1]).name.removesuffix(SUFFIX)}", schema_text(key[1])
    path = manifests.core_schema_path(key[1], key[2], version)
    return f"core-{path.stem}", path.read_text(encoding="utf-8")


def _reachable(schema: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    pending = _refs(schema)
    while pending:
        name = pending.pop()
        if name in found or name not in definitions:
            continue
        found[name] = definitions[name]
        pending.extend(_refs(definitions[name]))
    return found


def _refs(node: Any) -> list[str]:
    text = json.dumps(node)
    return re.findall(r'"\$ref": "(?:(?:https://kubernetes\.io)?/api/_definitions\.json)?#/\$defs/([^"]+)"', text)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (REF.sub("#/$defs/", v) if k == "$ref" and isinstance(v, str) else _rewrite(v)) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def bundle(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every Kubernetes definition it reaches under its own `$defs`, without descriptions."""
    reached = _reachable(schema, definitions)
    out: dict[str, Any] = _rewrite(schema)
    out.pop("$id", None)  # refs are now local; a remote $id would make them resolve elsewhere
    out["$defs"] = {**_rewrite(reached), **out.get("$defs", {})}
    lean: dict[str, Any] = _without_descriptions(out)
    return lean


# Where a schema holds schemas: by name (a property called `description` is kept), one, or a list.
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_ONE_SCHEMA = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contains",
        "propertyNames",
        "not",
        "if",
        "then",
        "else",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


def _without_descriptions(schema: Any) -> Any:
    """`schema` without the `description` annotation of any schema in it.

    Only schema positions are walked: a value of `const`, `enum`, `default` or an unknown
    keyword is data and stays as it is, descriptions in it included.
    """
    if not isinstance(schema, dict):
        return schema  # a boolean schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "description":
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):
            out[key] = {name: _without_descriptions(v) for name, v in value.items()}
        elif key in _ONE_SCHEMA or (key in _SCHEMA_LISTS and isinstance(value, list)):
            out[key] = (
                [_without_descriptions(v) for v in value] if isinstance(value, list) else _without_descriptions(value)
            )
        else:
            out[key] = value
    return out


def bundled_schema(key: tuple[str, ...], version: str) -> dict[str, Any]:
    label, text = _source(key, version)
    # A checksum, not a cryptographic hash: the key only tells our own bundles apart, and
    # zlib is already loaded where hashlib would load OpenSSL (~3 ms of every start-up).
    data = f"{CACHE_VERSION}\0{version}\0{text}".encode()
    digest = f"{zlib.crc32(data):08x}{len(data):x}"
    name = f"{label}-{version}-{digest}.json"
    try:
        cached: dict[str, Any] = json.loads((cache_dir() / name).read_text(encoding="utf-8"))
        return cached
    except (OSError, ValueError, RecursionError):  # missing, or not what we wrote: build it again
        pass
    definitions = json.loads((manifests.k8s_folder(version) / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
    result = bundle(json.loads(text), definitions)
    store_cached_json(name, result)
    return result


def validator(key: tuple[str, ...], version: str) -> Any | None:
    """A jsonschema-rs validator for `key`, or None when jsonschema-rs is not installed."""
    return _validator(key, version, tuple(kinds.KINDS))  # the TuningSpec schema lists the trial kinds


@functools.lru_cache(maxsize=128)
def _validator(key: tuple[str, ...], version: str, trial_kinds: tuple[str, ...]) -> Any | None:
    # jsonschema-rs imports decimal as it loads, from Rust: a Ctrl-C in that import panics there
    # (a Rust backtrace on stderr). Imported first, here, a Ctrl-C is a plain KeyboardInterrupt.
    import decimal  # noqa: F401

    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(bundled_schema(key, version))


def is_valid(key: tuple[str, ...], version: str, instance: Any) -> bool:
    """True only when the fast engine is sure; False means: ask the Python engine."""
    fast = validator(key, version)
    if fast is None:
        return False
    try:
        return bool(fast.is_valid(instance))
    except (ValueError, TypeError):  # a value JSON cannot hold: let the Python engine explain
        return False
