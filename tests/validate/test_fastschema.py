"""The fast engine (jsonschema-rs) and the Python engine agree on every verdict."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from benchmarks import corpus
from katib_gitops.schema import fast, manifests
from katib_gitops.yamlio.documents import load_documents
from tests.validate.helpers import VALID

VERSION = manifests.latest_kubernetes()


def _python_valid(key: tuple[str, ...], instance: Any) -> bool:
    checker = (
        manifests.validator(key[1], VERSION) if key[0] == "ours" else manifests.core_validator(key[1], key[2], VERSION)
    )
    return not any(True for _ in checker.iter_errors(instance))


def _mutations(document: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """The document, one with a misspelled field, and one with a wrongly typed value, somewhere deep."""
    out = [document]
    for change in ("rename", "retype"):
        copied = copy.deepcopy(document)
        node: Any = copied
        while isinstance(node, dict) and node:
            key = rng.choice(sorted(node))
            if not isinstance(node[key], (dict, list)) or rng.random() < 0.3:
                if change == "rename":
                    node[key + "x"] = node.pop(key)
                else:
                    node[key] = [] if not isinstance(node[key], list) else "text"
                break
            node = (
                node[key]
                if isinstance(node[key], dict)
                else (node[key][0] if node[key] and isinstance(node[key][0], dict) else {})
            )
        out.append(copied)
    return out


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("corpus")
    corpus.build_core(root / "core", 60)
    corpus.build_katib(root / "katib", 20)
    found = [VALID]
    for path in sorted(root.rglob("*.yaml")):
        found.extend(d.data for d in load_documents(path.read_text(), str(path)))
    return found


def _key(document: dict[str, Any]) -> tuple[str, ...] | None:
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if (api_version, kind) in manifests.CATALOG:
        return ("ours", manifests.CATALOG[(api_version, kind)])
    if manifests.has_core_schema(api_version, kind, VERSION):
        return ("core", api_version, kind)
    return None


def test_both_engines_give_the_same_verdict_on_valid_and_broken_documents(documents: list[dict[str, Any]]) -> None:
    rng = random.Random(5)
    checked = disagreements = 0
    for document in documents:
        key = _key(document)
        assert key is not None, document.get("kind")
        for variant in _mutations(document, rng):
            checked += 1
            if fast.is_valid(key, VERSION, variant) != _python_valid(key, variant):
                disagreements += 1
    assert checked > 200 and disagreements == 0


def test_bundles_are_cached_and_rebuilt_from_the_schema_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fast._validator.cache_clear()
    bundle = fast.bundled_schema(("ours", "experiment"), VERSION)
    assert "io.k8s.api.core.v1.Container" in bundle["$defs"] and "$id" not in bundle
    assert len(list((tmp_path / "katib-gitops").glob("ours-experiment-*.json"))) == 1
    assert fast.bundled_schema(("ours", "experiment"), VERSION) == bundle
    fast._validator.cache_clear()


def test_bundles_leave_out_descriptions_but_keep_fields_and_data_of_that_name() -> None:
    """A description is an annotation (JSON Schema 2020-12, Meta-Data vocabulary): it never changes a verdict,
    so a bundle leaves it out; a property called `description` (a trialParameter's) is a field and stays."""
    bundle = fast.bundled_schema(("ours", "experiment"), VERSION)
    text = str(bundle)
    assert "'description': {" in text  # spec.trialTemplate.trialParameters[].description, a field
    assert "'description': '" not in text  # no annotation left
    schema = {
        "description": "gone",
        "properties": {"description": {"type": "string", "description": "gone"}},
        "items": [{"description": "gone"}],
        "oneOf": [{"const": {"description": "data"}}],
        "enum": [{"description": "data"}],
    }
    assert fast._without_descriptions(schema) == {
        "properties": {"description": {"type": "string"}},
        "items": [{}],
        "oneOf": [{"const": {"description": "data"}}],
        "enum": [{"description": "data"}],
    }
