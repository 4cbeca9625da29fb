"""katib_gitops.schema.crd on small hand-written CRDs: each rule of the conversion, and version selection."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from katib_gitops.schema import crd

WIDGET_SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "integer", "minimum": 1},
        "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "quantity": {
            "x-kubernetes-int-or-string": True,
            "pattern": "^[0-9]+(m|Gi)?$",
            "anyOf": [{"type": "integer"}, {"type": "string"}],
        },
        "note": {"type": "string", "nullable": True},
        "mode": {"type": "string", "enum": ["fast", "slow"], "nullable": True},
        "strict": {"type": "string"},
        "extra": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {"count": {"type": "integer"}},
        },
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "empty": {"type": "object"},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}, "value": {"type": "string"}}},
        },
        "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "number": {"type": "integer"}},
            },
        },
        "template": {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}},
        },
        "raw": {"type": "object", "x-kubernetes-embedded-resource": True, "x-kubernetes-preserve-unknown-fields": True},
    },
}


def make_crd(*versions: tuple[str, bool, bool, dict[str, Any]]) -> dict[str, Any]:
    """A CRD of example.com/Widget with (name, served, storage, spec schema) versions."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": name,
                    "served": served,
                    "storage": storage,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec,
                            },
                        }
                    },
                }
                for name, served, storage, spec in versions
            ],
        },
    }


WIDGET = make_crd(("v1", True, True, WIDGET_SPEC))


def widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1, **spec}}


def problems(**spec: Any) -> list[str]:
    return crd.validate(widget(**spec), WIDGET)


def test_a_valid_object_has_no_problems_and_the_schema_is_valid_2020_12() -> None:
    schema = crd.schema_for(WIDGET)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == crd.DIALECT
    assert problems(port=80, note="x", mode="fast", labels={"a": "b"}, tags=["a", "b"]) == []


def test_schema_for_does_not_change_the_crd() -> None:
    before = copy.deepcopy(WIDGET)
    crd.schema_for(WIDGET)
    assert before == WIDGET


@pytest.mark.parametrize("value", [8080, "http", "0"])
def test_int_or_string_accepts_an_integer_or_a_string(value: Any) -> None:
    assert problems(port=value) == []


@pytest.mark.parametrize("value", [0.5, True, None, ["80"]])
def test_int_or_string_rejects_anything_else(value: Any) -> None:
    # The schema itself (crd.check): `validate` prunes a null first, as the API server does.
    assert any(p.startswith("spec.port: ") for p in crd.check(widget(port=value), crd.schema_for(WIDGET)))


def test_int_or_string_keeps_its_pattern_for_strings() -> None:
    assert problems(quantity="500m") == [] and problems(quantity=2) == []
    assert any(p.startswith("spec.quantity: ") for p in problems(quantity="lots"))


def test_nullable_accepts_null_and_nothing_else_does() -> None:
    schema = crd.schema_for(WIDGET)
    assert crd.check(widget(note=None), schema) == []
    assert crd.check(widget(strict=None), schema) == ["spec.strict: None is not of type 'string'"]


def test_validate_prunes_a_null_where_not_nullable_as_the_api_server_does() -> None:
    # apiextensions-apiserver drops a null field whose schema is not nullable and has no default
    # (structuraldefaulting.PruneNonNullableNullsWithoutDefaults) before it validates.
    assert problems(note=None) == [] and problems(strict=None) == [] and problems(port=None) == []


def test_nullable_enum_accepts_null_but_still_checks_other_values() -> None:
    assert problems(mode=None) == []
    assert any(p.startswith("spec.mode: 'medium' is not one of") for p in problems(mode="medium"))


def test_an_unknown_field_is_reported_at_its_path() -> None:
    assert problems(sise=2) == ["spec.sise: unknown field 'sise'"]
    assert problems(items=[{"name": "a"}, {"name": "b", "valeu": "x"}]) == [
        "spec.items[1].valeu: unknown field 'valeu'"
    ]


def test_an_object_without_properties_keeps_no_field() -> None:
    # The API server prunes every field of `type: object` without properties.
    assert problems(empty={"anything": 1}) == ["spec.empty.anything: unknown field 'anything'"]


def test_additional_properties_are_kept_and_checked() -> None:
    assert problems(labels={"nvidia.com/gpu": "1"}) == []
    assert problems(labels={"nvidia.com/gpu": 1}) == ["spec.labels[nvidia.com/gpu]: 1 is not of type 'string'"]


def test_preserve_unknown_fields_keeps_extra_keys_but_checks_declared_ones() -> None:
    assert problems(extra={"anything": {"goes": [1]}, "count": 2}) == []
    assert problems(extra={"count": "two"}) == ["spec.extra.count: 'two' is not of type 'integer'"]


def test_required_fields_are_reported_at_their_path() -> None:
    obj = widget()
    del obj["spec"]["size"]
    assert crd.validate(obj, WIDGET) == ["spec.size: required field is missing"]


def test_openapi_boolean_exclusive_minimum_becomes_a_number() -> None:
    assert crd.schema_for(WIDGET)["properties"]["spec"]["properties"]["ratio"]["exclusiveMinimum"] == 0
    assert problems(ratio=0.1) == []
    assert problems(ratio=0) == ["spec.ratio: 0 is less than or equal to the minimum of 0"]


def test_list_type_set_and_map_reject_duplicates() -> None:
    assert problems(tags=["a", "a"]) == ["spec.tags: ['a', 'a'] has non-unique elements"]
    assert problems(ports=[{"name": "http", "number": 80}, {"name": "grpc"}]) == []
    assert problems(ports=[{"name": "http", "number": 80}, {"name": "http", "number": 81}]) == [
        'spec.ports: duplicate entry with name = "http"'
    ]


def test_embedded_resource_takes_api_version_kind_and_object_meta() -> None:
    embedded = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"a": "x"}}
    assert problems(template=embedded) == []
    assert problems(template={**embedded, "metadata": {"nmae": "p"}}) == [
        "spec.template.metadata.nmae: unknown field 'nmae'"
    ]
    assert problems(template={**embedded, "status": {}}) == ["spec.template.status: unknown field 'status'"]


def test_embedded_resource_requires_api_version_and_kind() -> None:
    assert problems(template={"spec": {}}) == [
        "spec.template.apiVersion: required field is missing",
        "spec.template.kind: required field is missing",
    ]
    assert problems(template={"apiVersion": "", "kind": "Pod"}) == ["spec.template.apiVersion: '' should be non-empty"]


def test_embedded_resource_with_preserve_unknown_fields_keeps_anything_else() -> None:
    assert problems(raw={"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}) == []
    assert problems(raw={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"a": 1}}}) == [
        "spec.raw.metadata.labels.a: 1 is not of type 'string'"
    ]


def test_the_root_has_implicit_api_version_kind_and_metadata() -> None:
    assert crd.validate({**widget(), "kind": "Gadget"}, WIDGET) == ["kind: 'Widget' was expected"]
    assert crd.validate({**widget(), "metadata": {"name": "w", "lables": {}}}, WIDGET) == [
        "metadata.lables: unknown field 'lables'"
    ]
    assert crd.validate({**widget(), "metadata": {"name": "w", "creationTimestamp": None}}, WIDGET) == []
    assert crd.validate({"spec": {"size": 1}}, WIDGET) == [
        "apiVersion: required field is missing",
        "kind: required field is missing",
    ]


def test_constraints_the_crd_puts_on_root_metadata_are_kept() -> None:
    named = copy.deepcopy(WIDGET)
    named["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 3}},
    }
    assert crd.validate({**widget(), "metadata": {"name": "abcd", "labels": {"a": "b"}}}, named) == [
        "metadata.name: 'abcd' is too long"
    ]


TWO_VERSIONS = make_crd(
    ("v1alpha1", True, False, {"type": "object", "properties": {"old": {"type": "string"}}}),
    ("v1", True, True, {"type": "object", "properties": {"new": {"type": "string"}}}),
    ("v0", False, False, {"type": "object"}),
)


def test_version_selection_defaults_to_the_served_storage_version() -> None:
    assert crd.served_versions(TWO_VERSIONS) == ["v1alpha1", "v1"]
    assert crd.default_version(TWO_VERSIONS) == "v1"
    assert crd.schema_for(TWO_VERSIONS)["properties"]["apiVersion"] == {"const": "example.com/v1"}
    assert "old" in crd.schema_for(TWO_VERSIONS, "v1alpha1")["properties"]["spec"]["properties"]


def test_validate_uses_the_version_the_object_names() -> None:
    old = {"apiVersion": "example.com/v1alpha1", "kind": "Widget", "spec": {"old": "x"}}
    assert crd.validate(old, TWO_VERSIONS) == []
    assert crd.validate({**old, "apiVersion": "example.com/v1"}, TWO_VERSIONS) == ["spec.old: unknown field 'old'"]
    assert crd.validate(old, TWO_VERSIONS, version="v1") == [
        "apiVersion: 'example.com/v1' was expected",
        "spec.old: unknown field 'old'",
    ]


def test_an_unserved_version_is_an_error() -> None:
    with pytest.raises(crd.CrdError, match="'v0' is not served"):
        crd.schema_for(TWO_VERSIONS, "v0")
    problems_ = crd.validate({"apiVersion": "example.com/v9", "kind": "Widget"}, TWO_VERSIONS)
    assert problems_ == ["apiVersion: widgets.example.com: version 'v9' is not served (served: v1alpha1, v1)"]


def test_a_document_that_is_not_a_crd_is_refused() -> None:
    with pytest.raises(crd.CrdError):
        crd.schema_for({"apiVersion": "v1", "kind": "ConfigMap"})


def test_load_crds_reads_files_and_folders_and_skips_other_documents(tmp_path: Path) -> None:
    from katib_gitops.yamlio.writer import dump_all

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "widgets.yaml").write_text(
        dump_all([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, WIDGET])
    )
    other = copy.deepcopy(WIDGET)
    other["spec"]["names"]["kind"] = "Gadget"
    (tmp_path / "gadgets.yml").write_text(dump_all([other]))
    (tmp_path / "notes.txt").write_text("not yaml: [")
    found = crd.load_crds(tmp_path)
    assert sorted(found) == [("example.com", "Gadget"), ("example.com", "Widget")]
    assert found[("example.com", "Widget")] == WIDGET
    assert list(crd.load_crds(tmp_path / "gadgets.yml")) == [("example.com", "Gadget")]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ([], "<root>"),
        (["spec", "containers", 0, "name"], "spec.containers[0].name"),
        (["limits", "nvidia.com/gpu"], "limits[nvidia.com/gpu]"),
    ],
)
def test_format_path(path: list[Any], text: str) -> None:
    assert crd.format_path(path) == text
