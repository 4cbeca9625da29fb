"""The position-keeping builder (generator/yamlio/builder.py) against PyYAML, and its fast paths.

Where go-yaml v2 (kubectl, Argo CD, Flux) and PyYAML's YAML 1.1 resolver read a scalar
alike, the builder's values must be exactly `yaml.load_all(text, Loader=yaml.CSafeLoader)`'s:
same types (1, 1.0 and True differ), same key order. They differ by design on what
scalars.py and documents.py cite from go-yaml v2.4.0 resolve.go / decode.go: timestamps stay
text, y/n are booleans, 1e3 and -.5 are floats, 1:30 is text, a key set before `<<` is
overwritten, duplicate keys refuse the file; and keys merged from a list of mappings come
in another order (a Go map has none, and sigs.k8s.io/yaml writes JSON keys sorted). Those
are tested in test_ambiguity.py and reliability/test_loader.py; the inputs here avoid them.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from benchmarks import corpus
from katib_gitops.yamlio.documents import read_documents
from katib_gitops.yamlio.scalars import resolve_plain
from tests.conftest import ROOT

# Scalars and structures that both readers take alike, one family per line.
AGREED = [
    "a: name\nb: Deployment\nc: /path/x\nd: 'quoted'\ne: \"double\"\nf: ''\n",
    "ints: [0, 7, 12, -3, +4, 123456789012345678, 9223372036854775807, 010, 0x1F, 0b101, 1_000]\n",
    "floats: [1.5, 0.25, .5, 1.0, 2.50, 1.5e+3, .inf, -.inf, +.inf]\n",
    "words: [true, false, True, FALSE, yes, No, ON, off, null, Null, ~, '']\nempty:\n",
    "k:\n  name: x\n  namespace: ns\n  nodeName: z\n  type: t\n  operator: o\n  feature: f\n  ~x: 1\n",
    'l: |\n  one\n  two\nm: >\n  folded\n  text\nq: "esc\\tape \\u00e9"\n',
    "base: &b {a: 1, b: [x, z]}\nm1:\n  <<: *b\n  c: 4\nm2:\n  <<: [*b]\n  d: 5\n",
    "s: &s text\nt: *s\nu: &l [1, {v: 2}]\nw: *l\n",
    "- a\n- [b, [c, {d: e}]]\n- {f: [], g: {}}\n---\nsecond: document\n---\n# empty\n",
    "t: [!!str 1, !!int '7', !!float '3', !!bool 'true', !!null '']\n",
]


def values(text: str) -> list[object]:
    return [document.data for document in read_documents(text, "f.yaml")]


def pyyaml_values(text: str) -> list[object]:
    return [value for value in yaml.load_all(text, Loader=yaml.CSafeLoader) if value is not None]


@pytest.mark.parametrize("text", AGREED, ids=range(len(AGREED)))
def test_values_are_pyyamls_where_go_yaml_v2_and_pyyaml_agree(text: str) -> None:
    assert repr(values(text)) == repr(pyyaml_values(text))


def assert_files_read_as_pyyaml_reads_them(paths: list[Path]) -> None:
    assert paths
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert repr(values(text)) == repr(pyyaml_values(text)), path


def test_generated_manifests_and_experiments_read_as_pyyaml_reads_them(tmp_path: Path) -> None:
    corpus.build_core(tmp_path / "core", 60)
    corpus.build_katib(tmp_path / "katib", 20)
    assert_files_read_as_pyyaml_reads_them(sorted(tmp_path.glob("*/*.yaml")))


def test_the_repositorys_yaml_reads_as_pyyaml_reads_it() -> None:
    paths = [*(ROOT / "specs").rglob("*.yaml"), *(ROOT / "overlays").rglob("*.yaml")]
    assert_files_read_as_pyyaml_reads_them(sorted(paths))


def test_real_world_and_upstream_yaml_reads_as_pyyaml_reads_it(shared: Path) -> None:
    """Real manifests, Katib's and the Training Operator's CRDs and configs: no scalar there is read differently."""
    paths = sorted(p for p in shared.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    assert_files_read_as_pyyaml_reads_them(paths)


def test_each_fast_path_keeps_the_scalars_position_and_findings() -> None:
    """Text, words, small integers and quoted scalars are resolved without a call; positions and findings stay."""
    text = "a: name\nb: 12\nc: yes\nd: 'q'\ne: [x, 7, null, on]\nf: 012\n"
    (document,) = read_documents(text, "f.yaml")
    assert document.data == {"a": "name", "b": 12, "c": True, "d": "q", "e": ["x", 7, None, True], "f": 10}
    assert [document.position([key]) for key in "abcd"] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [document.position(["e", i]) for i in range(4)] == [(5, 5), (5, 8), (5, 11), (5, 17)]
    assert [(d.line, d.column, d.rule_id) for d in document.findings] == [
        (3, 4, "yaml-ambiguous"),
        (5, 17, "yaml-ambiguous"),
    ]
    assert [(d.line, d.column, d.rule_id) for d in document.unless_accepted] == [(6, 4, "yaml-ambiguous")]


def test_digits_that_are_not_ascii_stay_text() -> None:
    """Go's strconv.ParseInt takes ASCII digits only; Python's int() would take these."""
    assert values("a: \u0661\u0662\nb: 1\u0662\n") == [{"a": "\u0661\u0662", "b": "1\u0662"}]


def test_every_first_character_resolves_as_resolve_plain_does() -> None:
    """Plain scalars starting with every letter, digit and sign: the fast paths agree with go-yaml v2's resolution."""
    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+._~"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))) for _ in range(2000)]
    words += ["yes", "y", "No", "n", "true", "Off", "on", "null", "NULL", "~", "0", "00", "07", "08", "1_0", "-1", "+1"]
    words = [w for w in words if not w.startswith(("-", "~")) or len(w) > 1]  # '- x' would be a list item
    text = "".join(f"- {word}\n" for word in words)
    (document,) = read_documents(text, "f.yaml")
    assert [repr(value) for value in document.data] == [repr(resolve_plain(word)) for word in words]
