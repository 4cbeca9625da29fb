"""validate, generate and render on bad input: a clear message, exit 1 or 2, never a traceback or a hang."""

from __future__ import annotations

import contextlib
import copy
import os
import time
from pathlib import Path
from typing import Any

import pytest

from katib_gitops.commands.generate import planning
from katib_gitops.yamlio.writer import dump
from tests.helpers import SPEC, TARGETS, spec, write_specs
from tests.reliability.helpers import as_generated, assert_clean_exit, cli, process, tree
from tests.reliability.test_loader import billion_laughs

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"

# name -> (file content, exit code of validate, text the message must hold)
BAD_FILES: dict[str, tuple[bytes, int, str]] = {
    "billion-laughs": (billion_laughs().encode(), 1, "alias bomb"),
    "deep": (b"[" * 50_000 + b"]" * 50_000, 1, "nesting"),
    "duplicate-deep": (CONFIGMAP.encode() + b"  mode: slow\n", 1, "duplicate key: 'mode'"),
    # A manifest (kind): without apiVersion, kind and metadata it would be passed over as no manifest.
    "merge-conflict": (b"kind: ConfigMap\nx: &x {a: '1'}\ny:\n  a: '2'\n  <<: *x\n", 1, "yaml-ambiguous"),
    "tabs": (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n", 1, "tab character"),
    "utf-16": ("apiVersion: v1\n".encode("utf-16"), 1, "UTF-16"),
    "invalid-utf-8": (b"apiVersion: v1\nkind: \xff\xfe\n", 1, "not valid UTF-8"),
    "binary": (bytes(range(256)), 1, "NUL bytes"),
    "empty": (b"", 1, "empty-input"),
    "comment-only": (b"# nothing here\n", 1, "empty-input"),
    "bare-separator": (b"---\n", 1, "empty-input"),
    "list-document": (b"- a\n- b\n", 1, "must be a mapping"),
    "scalar-document": (b"just text\n", 1, "must be a mapping"),
    "no-kind": (b"apiVersion: v1\nmetadata: {name: x}\n", 1, "kind missing"),
    "no-apiversion": (b"kind: ConfigMap\nmetadata: {name: x}\n", 1, "apiVersion missing"),
    "namespace-no": (CONFIGMAP.replace("name: settings", "name: settings\n  namespace: no").encode(), 1, "quote it"),
    "categorical-yes-no": (CONFIGMAP.encode() + b"  choices: [yes, no]\n", 1, "yaml-ambiguous"),
    "version-1.10": (CONFIGMAP.encode() + b"  version: 1.10\n", 1, "trailing zero"),
    "inf": (CONFIGMAP.encode() + b"  x: .inf\n", 1, "yaml-value"),
    "nan": (CONFIGMAP.encode() + b"  x: .nan\n", 1, "yaml-value"),
    "huge-int": (CONFIGMAP.encode() + b"  x: 123456789012345678901234567890\n", 1, "64-bit"),
    "control-char": (
        CONFIGMAP.replace("name: settings", 'name: "set\\x07tings"').encode() + b"  x: \x07\n",
        1,
        "control character",
    ),
    "wrong-types": (b"apiVersion: v1\nkind: ConfigMap\nmetadata: [a, b]\ndata: 7\n", 1, "schema"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_validate_reports_bad_files(tmp_path: Path, name: str) -> None:
    content, code, message = BAD_FILES[name]
    (tmp_path / "in.yaml").write_bytes(content)
    started = time.perf_counter()
    output = assert_clean_exit(cli(tmp_path, "validate", "in.yaml"), code)
    assert message in output
    assert time.perf_counter() - started < 5
    if code == 1 and name not in ("empty", "comment-only", "bare-separator"):
        assert "in.yaml:" in output  # file:line:column


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_generate_reports_bad_spec_files_and_writes_nothing(tmp_path: Path, name: str) -> None:
    content = BAD_FILES[name][0]
    write_specs(tmp_path)
    (tmp_path / "specs" / "bad.yaml").write_bytes(content)
    result = cli(tmp_path, "generate")
    if name in ("empty", "comment-only", "bare-separator"):
        assert_clean_exit(result, 0)  # a spec file without documents is simply nothing
        return
    output = assert_clean_exit(result, 1)
    assert "specs/bad.yaml:" in output
    assert not (tmp_path / "overlays").exists()


@pytest.mark.parametrize("name", sorted(n for n in BAD_FILES if BAD_FILES[n][1] == 1 and "empty" not in n))
def test_render_reports_bad_kustomization_resources(tmp_path: Path, name: str) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [in.yaml]\n")
    (tmp_path / "app" / "in.yaml").write_bytes(BAD_FILES[name][0])
    assert_clean_exit(cli(tmp_path, "render", "app"), 0, 1)


def test_stdin_is_read_like_a_file(tmp_path: Path) -> None:
    assert "alias bomb" in assert_clean_exit(cli(tmp_path, "validate", "-", stdin=billion_laughs()), 1)
    assert "empty-input" in assert_clean_exit(cli(tmp_path, "validate", "-", stdin=""), 1)
    assert_clean_exit(cli(tmp_path, "validate", "-", stdin=b"\xef\xbb\xbf" + CONFIGMAP.encode()), 0)


def test_a_utf8_bom_and_crlf_are_accepted_with_positions_right(tmp_path: Path) -> None:
    broken = spec(objective={"type": "maximise", "metric": "accuracy"})
    write_specs(tmp_path, broken)
    path = tmp_path / "specs" / "demo.yaml"
    text = path.read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    output = assert_clean_exit(cli(tmp_path, "generate"), 1)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "maximise" in row)
    column = text.splitlines()[line - 1].index("maximise") + 1
    assert f"specs/demo.yaml:{line}:{column}: error: 'maximise' is not one of" in output
    write_specs(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert_clean_exit(cli(tmp_path, "generate"), 0)


def test_the_size_limit_is_a_finding_and_the_flag_raises_it(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text(CONFIGMAP + "  blob: " + "x" * 200_000 + "\n")
    output = assert_clean_exit(cli(tmp_path, "validate", "--max-file-size", "64KiB", "big.yaml"), 1)
    assert (
        "big.yaml:1:1: error: file is larger than the 64 KiB limit" in output.replace("65536 bytes", "64 KiB")
        or "larger than" in output
    )
    assert "--max-file-size" in output
    assert_clean_exit(cli(tmp_path, "validate", "--max-file-size", "1MiB", "big.yaml"), 0)
    assert_clean_exit(cli(tmp_path, "validate", "--max-file-size", "lots", "big.yaml"), 2)


def test_generate_and_render_take_the_size_flag(tmp_path: Path) -> None:
    write_specs(tmp_path)
    assert "larger than" in assert_clean_exit(cli(tmp_path, "generate", "--max-file-size", "100"), 1)
    assert_clean_exit(cli(tmp_path, "generate", "--max-file-size", "1MiB"), 0)
    assert "larger than" in assert_clean_exit(
        cli(tmp_path, "render", "--max-file-size", "100", "overlays/demo/team-a/gpu"), 1
    )


@pytest.mark.parametrize("command", ["migrate", "import"])
def test_migrate_and_import_take_the_size_flag(tmp_path: Path, command: str) -> None:
    (tmp_path / "big.yaml").write_text(CONFIGMAP + "  blob: " + "x" * 5_000 + "\n")
    assert "big.yaml:1:1: error: file is larger than" in assert_clean_exit(
        cli(tmp_path, command, "--max-file-size", "1KiB", "big.yaml"), 1
    )
    assert "larger than" not in cli(tmp_path, command, "--max-file-size", "1MiB", "big.yaml").stderr


# ------------------------------------------------------------------ specs with wrong types everywhere


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaf_paths(item, (*path, index))
    return found


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(data)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


WRONG_VALUES = [None, 7, -1, 2.5, "text", True, [], ["a"], {}, {"x": 1}]


@pytest.mark.parametrize("document", ["spec", "targets"])
def test_wrong_types_anywhere_in_specs_are_findings_never_crashes(tmp_path: Path, document: str) -> None:
    """Every node of a valid TuningSpec and Targets replaced by every wrong type.

    generate's later stages only see schema-valid specs.
    """
    from katib_gitops.core.diagnostics import FindingsError

    original = SPEC if document == "spec" else TARGETS
    for index, path in enumerate(_leaf_paths(original)):
        for value in WRONG_VALUES:
            folder = tmp_path / f"{index}-{WRONG_VALUES.index(value)}"
            mutated = _replaced(original, path, value)
            specs = folder / "specs"
            specs.mkdir(parents=True)
            (specs / "targets.yaml").write_text(dump(TARGETS if document == "spec" else mutated))
            (specs / "demo.yaml").write_text(dump(mutated if document == "spec" else SPEC))
            with contextlib.suppress(FindingsError):
                planning.planned_files(planning.load(specs))


# ------------------------------------------------------------------ names that become paths


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "../escape"),
        ("name", "a/b"),
        ("name", "demo\n"),
        ("name", "dеmo"),  # noqa: RUF001 - Cyrillic e on purpose: a look-alike name
        ("name", "demo\u200b"),
        ("namespace", "../../etc"),
        ("namespace", "team-a/x"),
        ("namespace", "team-\u0430"),
        ("profile", "../gpu"),
        ("profile", "gpu\n"),
    ],
)
def test_names_that_would_leave_the_output_folder_are_refused_before_any_path_is_built(
    tmp_path: Path, field: str, value: str
) -> None:
    targets = copy.deepcopy(TARGETS)
    data = spec()
    if field == "name":
        data["metadata"]["name"] = value
    elif field == "namespace":
        targets["spec"]["namespaces"].append(value)
        data["spec"]["targets"]["namespaces"] = [value]
    else:
        targets["spec"]["profiles"][value] = {}
        data["spec"]["targets"]["profiles"] = [value]
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "targets.yaml").write_text(dump(targets))
    (tmp_path / "specs" / "demo.yaml").write_text(dump(data))
    before = tree(tmp_path)
    output = assert_clean_exit(cli(tmp_path, "generate"), 1)
    assert "specs/" in output
    assert tree(tmp_path) == before


# ------------------------------------------------------------------ paths: missing, odd, linked


def test_missing_paths_are_usage_errors(tmp_path: Path) -> None:
    assert "no such file or directory" in assert_clean_exit(cli(tmp_path, "validate", "nowhere.yaml"), 2)
    assert "no such directory" in assert_clean_exit(cli(tmp_path, "generate", "--specs", "nowhere"), 2)
    assert "not a directory" in assert_clean_exit(cli(tmp_path, "render", "nowhere"), 2)


def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    """A FIFO with no writer would block a reader forever: every command must stat first.

    Run as real processes, with a timeout.
    """
    os.mkfifo(tmp_path / "pipe.yaml")
    assert "not a regular file" in assert_clean_exit(process(tmp_path, "validate", "pipe.yaml", timeout=20), 2)
    assert "not a regular file" in assert_clean_exit(process(tmp_path, "validate", ".", timeout=20), 2)
    assert "not a regular file" in assert_clean_exit(process(tmp_path, "validate", "/dev/zero", timeout=20), 2)
    write_specs(tmp_path)
    os.mkfifo(tmp_path / "specs" / "pipe.yaml")
    assert "not a regular file" in assert_clean_exit(process(tmp_path, "generate", timeout=20), 2)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [../pipe.yaml]\n")
    os.symlink("../pipe.yaml", tmp_path / "app" / "in.yaml")
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [in.yaml]\n")
    assert_clean_exit(process(tmp_path, "render", "app", timeout=20), 1, 2)


def test_unreadable_files_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "in.yaml").write_text(CONFIGMAP)
    real_open = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("in.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # root reads every file: simulate the permission error
    assert "in.yaml: cannot read: Permission denied" in assert_clean_exit(cli(tmp_path, "validate", "in.yaml"), 2)


def test_symlinks_in_inputs_never_lead_outside_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(CONFIGMAP)
    repo = tmp_path / "repo"
    (repo / "manifests").mkdir(parents=True)
    (repo / "manifests" / "ok.yaml").write_text(CONFIGMAP)
    os.symlink("ok.yaml", repo / "manifests" / "alias.yaml")  # inside: read
    assert_clean_exit(cli(repo, "validate", "manifests"), 0)
    os.symlink(outside / "secret.yaml", repo / "manifests" / "out.yaml")
    assert "symbolic link to outside" in assert_clean_exit(cli(repo, "validate", "manifests"), 2)
    os.unlink(repo / "manifests" / "out.yaml")
    os.symlink(outside, repo / "manifests" / "dir")
    assert "symbolic link to a folder outside" in assert_clean_exit(cli(repo, "validate", "manifests"), 2)
    os.unlink(repo / "manifests" / "dir")
    os.symlink("loop.yaml", repo / "manifests" / "loop.yaml")
    assert "broken or looping" in assert_clean_exit(cli(repo, "validate", "manifests"), 2)
    assert "cannot read" in assert_clean_exit(cli(repo, "validate", "manifests/loop.yaml"), 2)


def test_symlinks_in_specs_never_lead_outside_the_folder(tmp_path: Path) -> None:
    specs = write_specs(tmp_path / "repo")
    (tmp_path / "other.yaml").write_text(dump(spec(name="other")))
    os.symlink(tmp_path / "other.yaml", specs / "other.yaml")
    assert "symbolic link to outside" in assert_clean_exit(cli(tmp_path / "repo", "generate"), 2)
    assert not (tmp_path / "repo" / "overlays").exists()


def test_render_reads_files_only_inside_the_kustomization_like_kustomize(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text(CONFIGMAP)
    (tmp_path / "app").mkdir()
    os.symlink(tmp_path / "secret.yaml", tmp_path / "app" / "cm.yaml")
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    as_generated(tmp_path)  # the in-process renderer (katib-gitops' own trees) restricts loads as kustomize does
    assert "is not in or under app" in assert_clean_exit(cli(tmp_path, "render", "app"), 1)
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: [../secret.yaml]\n")
    as_generated(tmp_path)
    assert "is not in or under app" in assert_clean_exit(cli(tmp_path, "render", "app"), 1)


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: 7\n",
        "resources: [7]\n",
        "namespace: [a]\n",
        "patches: {a: 1}\n",
        "patches: [7]\n",
        "resources: [cm.yaml]\npatches: [{patch: 7}]\n",
        "resources: [cm.yaml]\npatches: [{target: [1], patch: '[]'}]\n",
        "resources: [cm.yaml]\npatches: [{target: {name: '('}, patch: '[{op: add, path: /data/a, value: b}]'}]\n",
        "resources: [cm.yaml]\npatches: [{target: {kind: ConfigMap}, patch: '[{op: nonsense}]'}]\n",
        "resources: [cm.yaml]\npatches: [{path: missing.yaml}]\n",
        "- not a mapping\n",
        "",
    ],
)
def test_render_on_odd_kustomizations_is_a_finding(tmp_path: Path, kustomization: str) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cm.yaml").write_text(CONFIGMAP)
    (tmp_path / "app" / "kustomization.yaml").write_text(kustomization)
    assert_clean_exit(cli(tmp_path, "render", "app"), 1, 2)


def test_crd_files_are_read_with_the_same_limits(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(CONFIGMAP)
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    os.mkfifo(tmp_path / "pipe.yaml")
    for name, message in (
        ("deep.yaml", "nesting depth"),
        ("bomb.yaml", "alias bomb"),
        ("pipe.yaml", "not a regular file"),
    ):
        assert message in assert_clean_exit(process(tmp_path, "validate", "--crd", name, "cm.yaml", timeout=30), 2)


def test_render_of_null_lists_is_kustomizes_verdict(tmp_path: Path, kubectl: str) -> None:
    # Not a katib-gitops tree, so the real kustomize builds it: kustomize 5.5 (`kubectl kustomize`) drops null
    # fields and refuses what is left, nothing, as "kustomization.yaml is empty"; we report its verdict.
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources: ~\npatches: ~\n")
    text = assert_clean_exit(cli(tmp_path, "render", "--kustomize-command", kubectl, "app"), 1)
    assert "app/kustomization.yaml:1:1: error: kustomize refuses this kustomization: kustomization.yaml is empty" in (
        text
    )
    # katib-gitops' own trees are rendered in process, where null lists build nothing.
    as_generated(tmp_path)
    assert_clean_exit(cli(tmp_path, "render", "app"), 0)
