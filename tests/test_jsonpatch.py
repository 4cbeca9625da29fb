"""JSON6902 diff and apply: the patch the generator writes turns the base into the target."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katib_gitops.kustomize import jsonpatch

leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
docs = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=15,
)


@given(docs, docs)
def test_applying_the_diff_gives_the_target(old: object, new: object) -> None:
    assert jsonpatch.apply(old, jsonpatch.diff(old, new)) == new


def test_items_with_a_name_are_guarded_by_a_test_op() -> None:
    old = {"containers": [{"name": "pytorch", "image": "a"}]}
    new = {"containers": [{"name": "pytorch", "image": "b"}]}
    assert jsonpatch.diff(old, new) == [
        {"op": "test", "path": "/containers/0/name", "value": "pytorch"},
        {"op": "replace", "path": "/containers/0/image", "value": "b"},
    ]


def test_keys_with_slashes_are_escaped() -> None:
    ops = jsonpatch.diff({"limits": {}}, {"limits": {"nvidia.com/gpu": 1}})
    assert ops == [{"op": "add", "path": "/limits/nvidia.com~1gpu", "value": 1}]


def test_a_failed_test_op_stops_the_patch() -> None:
    with pytest.raises(jsonpatch.PatchError, match="test failed"):
        jsonpatch.apply({"a": [{"name": "x"}]}, [{"op": "test", "path": "/a/0/name", "value": "y"}])


def test_add_needs_an_existing_parent() -> None:
    with pytest.raises(jsonpatch.PatchError, match="missing path"):
        jsonpatch.apply({}, [{"op": "add", "path": "/resources/limits", "value": {}}])
