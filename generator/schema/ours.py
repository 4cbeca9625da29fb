"""Our JSON Schemas (schemas/*.schema.json) and schema errors as positioned diagnostics."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from katib_gitops.core import kinds
from katib_gitops.core.diagnostics import Diagnostic, Severity
from katib_gitops.core.registry import declare
from katib_gitops.yamlio.documents import Document

SCHEMA = declare("schema", "TOOL", "The object matches its schema: known fields only, right types.")
CEL_UNCHECKED = declare(
    "crd-cel-unchecked",
    "TOOL",
    "A --crd CEL rule (x-kubernetes-validations) the CEL library cannot evaluate is named, not passed silently.",
    severity=Severity.WARNING,
)
SUFFIX = ".schema.json"
# Where the TuningSpec schema takes the trial kinds of the short form: those of katib_gitops.core.kinds.KINDS.
TRIAL_KIND_PATH = ("properties", "spec", "properties", "trial", "properties", "kind")


def schema_dir() -> Path:
    """The schemas folder: inside the installed wheel, or at the top of a source checkout."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "schemas"  # the wheel puts them in the package (pyproject.toml)
    if packaged.is_dir():
        return packaged
    return package.parent / "schemas"


def schema_path(name: str) -> Path:
    """The file of schema `name`: schemas/<name>.schema.json, or `name` itself when it is the path of a schema file."""
    if name.endswith(SUFFIX):
        return Path(name)
    return schema_dir() / f"{name}{SUFFIX}"


def schema_text(name: str) -> str:
    """The text of schema `name` as the validators read it: the file's, the TuningSpec's trial kinds filled in."""
    return _schema_text(name, tuple(kinds.KINDS))


@functools.cache
def _schema_text(name: str, trial_kinds: tuple[str, ...]) -> str:
    text = schema_path(name).read_text(encoding="utf-8")
    if name != "tuningspec":
        return text
    schema = json.loads(text)
    node = schema
    for key in TRIAL_KIND_PATH:
        node = node[key]
    node["enum"] = list(trial_kinds)
    return json.dumps(schema)


def validator(name: str) -> Any:
    return _validator(schema_text(name))


@functools.cache
def _validator(text: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads(text))


def check(document: Document, name: str) -> list[Diagnostic]:
    """Validate one document against schema `name`; one diagnostic per failing node.

    jsonschema-rs answers first; only a document it rejects is checked again by the
    Python engine, whose errors carry the paths and hints the diagnostics need.
    """
    fast = fast_validator(name)
    try:
        if fast is not None and fast.is_valid(document.data):
            return []
    except (ValueError, TypeError):  # a value JSON cannot hold: the Python engine explains
        pass
    return diagnostics(document, validator(name), document.data)


def fast_validator(name: str) -> Any | None:
    """A jsonschema-rs validator of one of our self-contained schemas, or None without jsonschema-rs."""
    return _fast_validator(schema_text(name))


@functools.cache
def _fast_validator(text: str) -> Any | None:
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.validator_for(json.loads(text))


RuleFor = Callable[[Any], str]


def diagnostics(
    document: Document, checker: Any, instance: Any, base: Sequence[str | int] = (), rule_for: RuleFor | None = None
) -> list[Diagnostic]:
    """Schema errors of `instance` (found at `base` inside `document`) as positioned diagnostics."""
    from jsonschema.exceptions import best_match

    found = []
    for error in checker.iter_errors(instance):
        best = _described(best_match([error]))
        rule_id = rule_for(best) if rule_for else SCHEMA.id
        found.extend(_diagnostics(document, best, list(base), rule_id))
    return sorted(set(found))


def _described(error: Any) -> Any:
    """Prefer an enclosing anyOf that describes its alternatives over one alternative's complaint."""
    parent = error.parent
    if (
        parent is not None
        and parent.validator == "anyOf"
        and isinstance(parent.schema, dict)
        and parent.schema.get("description")
    ):
        return parent
    return error


def _diagnostics(document: Document, error: Any, base: list[str | int], rule_id: str) -> list[Diagnostic]:
    """One diagnostic per failing node: each unknown field of a mapping at its own key, not only the first."""
    path = base + list(error.absolute_path)
    unknown = (
        _unknown_keys(error) if error.validator == "additionalProperties" and isinstance(error.instance, dict) else []
    )
    if not unknown:
        message, hint = _describe(error)
        return [document.diagnostic(path, rule_id, message, hint)]
    allowed = sorted(error.schema.get("properties", {}))
    return [
        document.diagnostic(path + [key], rule_id, f"unknown field '{key}'", _unknown_hint(key, allowed), at_key=True)
        for key in unknown
    ]


def _unknown_hint(key: str, allowed: list[str]) -> str:
    import difflib  # only for an unknown field's suggestion

    close = difflib.get_close_matches(key, allowed, n=1)
    return f"did you mean '{close[0]}'?" if close else f"allowed here: {', '.join(allowed)}"


def _unknown_keys(error: Any) -> list[str]:
    if error.validator_value is not False:
        return []
    allowed = set(error.schema.get("properties", {}))
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return sorted(k for k in error.instance if k not in allowed and not any(p.search(k) for p in patterns))


def _describe(error: Any) -> tuple[str, str]:
    if error.validator == "required":
        return error.message.replace("is a required property", "is required"), ""
    if error.validator in ("enum", "const"):
        options = error.validator_value if error.validator == "enum" else [error.validator_value]
        return f"{error.instance!r} is not one of {', '.join(map(str, options))}", ""
    if error.validator == "not" and isinstance(error.schema, dict) and error.schema.get("description"):
        return str(error.schema["description"]), ""
    if error.validator == "anyOf" and isinstance(error.schema, dict) and error.schema.get("description"):
        return f"{error.instance!r}: expected {error.schema['description']}", ""
    if error.validator == "pattern" and isinstance(error.schema, dict) and error.schema.get("description"):
        return f"{error.instance!r} does not match its pattern: expected {error.schema['description']}", ""
    if error.validator == "oneOf" and error.schema is not None:
        return _one_of_message(error), ""
    return error.message, ""


def _one_of_message(error: Any) -> str:
    if isinstance(error.instance, dict) and "trialSpec" in error.instance:
        return "give either the short form (kind, image, ...) or a raw trialSpec, not both"
    if isinstance(error.instance, dict):
        return "the short form needs at least 'kind' and 'image' (or give a raw 'trialSpec')"
    return str(error.message)
