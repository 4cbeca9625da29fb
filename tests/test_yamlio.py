"""The canonical YAML writer reads back as the same data, in YAML 1.2 and 1.1 readers alike."""

from __future__ import annotations

import pytest
import yaml as pyyaml  # PyYAML reads YAML 1.1, like sigs.k8s.io/yaml in kubectl and kustomize
from hypothesis import given
from hypothesis import strategies as st

from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.writer import dump, dump_all

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "N",
            "~",
            "null",
            "1:30",
            "1.10",
            "-1",
            ".5",
            "0x1f",
            "1e3",
            "--lr",
            "${trialParameters.lr}",
            "a: b",
            "#x",
            "- x",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_dump_reads_back_identically_in_yaml_1_2(value: object) -> None:
    assert load_documents(dump({"v": value}), "t.yaml")[0].data == {"v": value}


@given(values)
def test_dump_reads_back_identically_in_yaml_1_1(value: object) -> None:
    assert pyyaml.safe_load(dump({"v": value})) == {"v": value}


def test_words_yaml_1_1_reads_as_booleans_are_quoted() -> None:
    text = dump({"categories": ["yes", "no", "on", "off"], "version": "1.10"})
    assert text == "categories:\n  - 'yes'\n  - 'no'\n  - 'on'\n  - 'off'\nversion: '1.10'\n"


def test_multi_line_strings_become_literal_blocks() -> None:
    assert dump({"patch": "- op: add\n  path: /a\n"}) == "patch: |\n  - op: add\n    path: /a\n"


def test_header_is_written_as_comments_and_documents_are_separated() -> None:
    assert (
        dump_all([{"a": 1}, {"b": 2}], "Generated.\nDo not edit.") == "# Generated.\n# Do not edit.\na: 1\n---\nb: 2\n"
    )


def test_positions_point_at_the_offending_key() -> None:
    document = load_documents("a:\n  b:\n    - x\n    - z: 1\n", "f.yaml")[0]
    assert document.position(["a", "b", 1, "z"]) == (4, 10)  # the value 1
    assert document.position(["a", "missing"]) == (1, 1)  # the deepest key that exists


def test_duplicate_keys_are_reported_with_their_line() -> None:
    with pytest.raises(FindingsError) as caught:
        load_documents("a: 1\nb: 2\na: 3\n", "d.yaml")
    (problem,) = caught.value.diagnostics
    assert (problem.file, problem.line, problem.rule_id) == ("d.yaml", 3, "yaml-syntax")
    assert "duplicate key" in problem.message


def test_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(FindingsError) as caught:
        load_documents("a: [1, 2\nb: 3\n", "s.yaml")
    assert caught.value.diagnostics[0].line == 2
