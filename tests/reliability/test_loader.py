"""The YAML reader on hostile and odd input: a clear finding, fast, never a crash (generator/yamlio/)."""

from __future__ import annotations

import math
import time
import tracemalloc

import pytest

from katib_gitops.core.diagnostics import FindingsError
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.reader import LIMITS, decode
from katib_gitops.yamlio.scalars import resolve_plain


def problems(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(FindingsError) as caught:
        load_documents(text, "f.yaml")
    return [(d.line, d.column, d.rule_id, d.message) for d in caught.value.diagnostics]


def rules(text: str) -> set[str]:
    return {rule for _, _, rule, _ in problems(text)}


def billion_laughs(levels: int = 9) -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        billion_laughs(),
        # quadratic: one big anchored list, aliased many times
        "big: &big [" + ", ".join(["x"] * 20_000) + "]\n" + "".join(f"k{i}: *big\n" for i in range(200)),
    ],
    ids=["billion-laughs", "quadratic"],
)
def test_alias_bombs_are_refused_fast_and_in_bounded_memory(text: str) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    found = problems(text)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [r for _, _, r, _ in found] == ["yaml-limit"] and "alias bomb" in found[0][3]
    assert elapsed < 1.0
    assert peak < 64 * 1024 * 1024


def test_a_few_aliases_are_fine_and_are_independent_copies() -> None:
    (document,) = load_documents("env: &env [{name: A, value: x}]\nc1: {env: *env}\nc2: {env: *env}\n", "f.yaml")
    document.data["c1"]["env"][0]["value"] = "changed"
    assert document.data["c2"]["env"][0]["value"] == "x"
    assert document.position(["c2", "env", 0, "value"]) == (1, 29)  # the anchored node


def test_a_node_cannot_contain_itself() -> None:
    assert rules("a: &x [1, *x]\n") == {"yaml-syntax"}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000 + "]" * 200_000,
        "".join("  " * i + f"k{i}:\n" for i in range(2000)) + "  " * 2000 + "v\n",
        "".join("- " * 1 + "\n" + "  " * (i + 1) for i in range(300)) + "x\n",
    ],
    ids=["flow", "block-mapping", "block-sequence"],
)
def test_very_deep_nesting_is_refused_without_recursion_errors(text: str) -> None:
    started = time.perf_counter()
    assert rules(text) == {"yaml-limit"}
    assert time.perf_counter() - started < 2.0


def test_nesting_through_aliases_counts_too() -> None:
    deep = "a: &a " + "[" * 60 + "]" * 60 + "\n" + "b: " + "[" * 50 + "*a" + "]" * 50 + "\n"
    assert rules(deep) == {"yaml-limit"}


def test_the_depth_limit_leaves_room_for_real_objects() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(LIMITS.max_depth - 1)) + "  " * (LIMITS.max_depth - 1) + "v\n"
    assert load_documents(text, "f.yaml")


@pytest.mark.parametrize(
    "text, line",
    [
        ("a: 1\na: 2\n", 2),
        (
            "spec:\n  template:\n    spec:\n      containers:\n"
            "        - name: a\n          image: one\n          image: two\n",
            7,
        ),
        ("- {a: 1, b: {c: 1, c: 2}}\n", 1),
    ],
)
def test_duplicate_keys_are_errors_at_any_depth(text: str, line: int) -> None:
    (found,) = problems(text)
    assert found[0] == line and found[2] == "yaml-syntax" and "duplicate key" in found[3]


def test_merge_keys_are_expanded_as_kubernetes_does() -> None:
    text = "base: &base {image: a, cpu: '1'}\nc:\n  <<: *base\n  cpu: '2'\nd:\n  <<: [{p: 1}, {p: 2, q: 3}]\n"
    (document,) = load_documents(text, "f.yaml")
    assert document.data["c"] == {"image": "a", "cpu": "2"}
    assert document.data["d"] == {"p": 1, "q": 3}  # the earlier mapping wins (go-yaml v2 decode.go `merge`)
    assert document.position(["c", "image"]) == (1, 21)  # where the merged value is written


def test_a_key_before_its_merge_is_ambiguous() -> None:
    (found,) = problems("base: &base {cpu: '1'}\nc:\n  cpu: '2'\n  <<: *base\n")
    assert (found[:3] == (3, 3, "yaml-ambiguous") and "after the '<<'" in found[3]) or "go-yaml v2" in found[3]


def test_merge_needs_mappings() -> None:
    assert rules("a:\n  <<: [1, 2]\n") == {"yaml-syntax"}


def test_tabs_are_reported_with_a_hint() -> None:
    with pytest.raises(FindingsError) as caught:
        load_documents("a:\n\tb: 1\n", "f.yaml")
    (found,) = caught.value.diagnostics
    assert (found.line, found.column) == (2, 1) and "tab" in found.hint
    assert load_documents('a: "x\ty"  # a tab in a string is fine\n', "f.yaml")[0].data == {"a": "x\ty"}


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\xff\xfea\x00:\x00 \x001\x00", "UTF-16"),
        (b"\xfe\xff\x00a\x00:", "UTF-16"),
        (b"a: \xc3\x28\n", "not valid UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL bytes"),
        (b"a: 1\nb: \x07\n", "control character U+0007"),
    ],
)
def test_encodings_and_binary_files_are_findings(raw: bytes, message: str) -> None:
    with pytest.raises(FindingsError) as caught:
        decode(raw, "f.yaml")
    assert message in caught.value.diagnostics[0].message


def test_a_utf8_bom_is_accepted() -> None:
    assert load_documents(decode(b"\xef\xbb\xbfa: 1\n", "f.yaml"), "f.yaml")[0].data == {"a": 1}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "---\n---\n", "--- ~\n", "\n\n"])
def test_empty_streams_hold_no_documents(text: str) -> None:
    assert load_documents(text, "f.yaml") == []


def test_crlf_line_endings_are_read_with_the_right_positions() -> None:
    (document,) = load_documents("a: 1\r\nb:\r\n  c: [x, z]\r\n", "f.yaml")
    assert document.data == {"a": 1, "b": {"c": ["x", "z"]}}
    assert document.position(["b", "c", 1]) == (3, 10)


# ------------------------------------------------------------------ scalars as Kubernetes reads them


@pytest.mark.parametrize(
    "text, value",
    [
        ("yes", True),
        ("Yes", True),
        ("YES", True),
        ("y", True),
        ("Y", True),
        ("on", True),
        ("ON", True),
        ("true", True),
        ("True", True),
        ("no", False),
        ("N", False),
        ("off", False),
        ("Off", False),
        ("FALSE", False),
        ("yEs", "yEs"),
        ("oN", "oN"),  # go-yaml v2 knows only three spellings of each
        ("~", None),
        ("null", None),
        ("NULL", None),
        ("", None),
        ("1:30", "1:30"),
        ("12:30:00", "12:30:00"),  # no base-60 numbers in go-yaml v2
        ("010", 8),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("-0b101", -5),
        ("+12", 12),
        ("1_000", 1000),
        ("08", 8.0),
        ("1e3", 1000.0),
        ("1.10", 1.1),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.", 1.0),
        ("2001-12-14", "2001-12-14"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("9223372036854775807", 2**63 - 1),
        ("18446744073709551615", 2**64 - 1),
        ("1e400", "1e400"),
        ("-", "-"),
        ("+", "+"),
        (".", "."),
        ("0x", "0x"),
        ("lr", "lr"),
    ],
)
def test_plain_scalars_resolve_as_go_yaml_v2(text: str, value: object) -> None:
    got = resolve_plain(text)
    assert got == value and type(got) is type(value)


def test_nan_and_infinities_resolve_as_floats() -> None:
    assert (
        math.isnan(resolve_plain(".NaN")) and resolve_plain("-.Inf") == -math.inf and resolve_plain("+.inf") == math.inf
    )


@pytest.mark.parametrize("text", ["metadata: {namespace: no}\n", "values: [yes, no]\n", "on: push\n"])
def test_scalars_kubectl_and_kustomize_read_differently_are_errors(text: str) -> None:
    # go-yaml v2 (kubectl) reads yes/no/on/off as booleans; go-yaml v3 (kustomize's kyaml) and YAML 1.2 as strings.
    found = problems(text)
    assert {rule for _, _, rule, _ in found} == {"yaml-ambiguous"}


@pytest.mark.parametrize(
    ("text", "value"),
    [("version: 1.10\n", 1.1), ("mode: 0755\n", 493), ("size: 1_000\n", 1000), ("flags: 0b11\n", 3)],
)
def test_number_spellings_every_kubernetes_reader_agrees_on_are_read(text: str, value: float) -> None:
    # go-yaml v2 and v3 both drop '_', read 0b binary and a leading-0 octal (v3 keeps 1.1 octals for
    # compatibility, resolve.go): only a YAML 1.2 reader differs. Kept aside for the validator, which
    # reports them only where the field refuses a number (a string field).
    (document,) = load_documents(text, "f.yaml")
    assert list(document.data.values()) == [value] and not document.findings
    ((line, column, rule),) = [(d.line, d.column, d.rule_id) for d in document.unless_accepted]
    assert (line, column, rule) == (1, text.index(" ") + 2, "yaml-ambiguous")


def test_the_ambiguity_hint_says_to_quote() -> None:
    with pytest.raises(FindingsError) as caught:
        load_documents("metadata:\n  namespace: no\n", "f.yaml")
    (found,) = caught.value.diagnostics
    assert (found.line, found.column) == (2, 14) and "quote it" in found.hint and "kubectl" in found.message


@pytest.mark.parametrize(
    "text",
    ["a: 'no'\n", 'a: "1.10"\n', "a: !!str yes\n", "a: true\n", "a: 1.0\n", "a: 0\n", "a: 1.5e3\n", "a: '1:30'\n"],
)
def test_unambiguous_scalars_pass(text: str) -> None:
    assert load_documents(text, "f.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "a: .inf\n",
        "a: -.Inf\n",
        "a: .nan\n",
        "a: 9223372036854775808\n",
        "a: -9223372036854775809\n",
        "a: 123456789012345678901234567890\n",
        "a: !!binary aGVsbG8=\n",
    ],
)
def test_values_json_cannot_carry_are_errors(text: str) -> None:
    assert rules(text) == {"yaml-value"}


@pytest.mark.parametrize("text", ["a: !!int abc\n", "a: !!bool 1\n", "? [a]\n: b\n", "1: a\n", "~: a\n"])
def test_wrong_tags_and_non_string_keys_are_errors(text: str) -> None:
    assert rules(text) == {"yaml-syntax"}


@pytest.mark.parametrize(
    "text", ["a: !!float 1\n", "a: !!int '7'\n", "a: !custom text\n", "a: !!timestamp 2001-01-01\n"]
)
def test_known_tags_resolve_and_unknown_ones_are_text(text: str) -> None:
    assert load_documents(text, "f.yaml")[0].data["a"] in (1.0, 7, "text", "2001-01-01")


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    found = problems("a: yes\nb: .inf\nc: no\n")
    assert [(line, rule) for line, _, rule, _ in found] == [
        (1, "yaml-ambiguous"),
        (2, "yaml-value"),
        (3, "yaml-ambiguous"),
    ]


def test_a_huge_scalar_within_the_size_limit_is_read_fast() -> None:
    started = time.perf_counter()
    (document,) = load_documents("blob: " + "x" * (6 * 1024 * 1024) + "\n", "f.yaml")
    assert len(document.data["blob"]) == 6 * 1024 * 1024
    assert time.perf_counter() - started < 5
