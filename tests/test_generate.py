"""`katib-gitops generate`: deterministic, minimal writes, ownership of files, --check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from katib_gitops.yamlio.writer import dump
from tests.helpers import SPEC, spec, write_specs


def katib_gitops(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "katib_gitops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_writes_then_reports_up_to_date(tmp_path: Path) -> None:
    write_specs(tmp_path)
    first = katib_gitops(tmp_path, "generate")
    assert first.returncode == 0, first.stderr
    assert "added" in first.stdout
    written = tree(tmp_path / "overlays")
    assert "demo/_base/experiment.yaml" in written and "demo/team-a/gpu/kustomization.yaml" in written
    mtimes = {p: (tmp_path / "overlays" / p).stat().st_mtime_ns for p in written}
    second = katib_gitops(tmp_path, "generate")
    assert second.returncode == 0 and "nothing written" in second.stdout
    assert {p: (tmp_path / "overlays" / p).stat().st_mtime_ns for p in written} == mtimes
    assert katib_gitops(tmp_path, "generate", "--check").returncode == 0


def test_check_lists_what_is_stale_and_writes_nothing(tmp_path: Path) -> None:
    write_specs(tmp_path)
    katib_gitops(tmp_path, "generate")
    write_specs(tmp_path, spec(targets={"namespaces": ["team-a"], "profiles": ["cpu"]}))
    before = tree(tmp_path / "overlays")
    result = katib_gitops(tmp_path, "generate", "--check")
    assert result.returncode == 1
    assert "overlays/demo/team-b/gpu/kustomization.yaml: stale" in result.stdout
    assert "overlays/demo/team-a/gpu/kustomization.yaml: stale" in result.stdout
    assert "overlays/demo/team-a/cpu/kustomization.yaml" not in result.stdout
    assert tree(tmp_path / "overlays") == before


def test_output_is_identical_whatever_the_hash_seed_locale_and_file_order(tmp_path: Path) -> None:
    results = []
    for index, (seed, locale, order) in enumerate([("0", "C", 1), ("1234", "C.UTF-8", -1)]):
        root = tmp_path / f"run{index}"
        specs = [spec(name="alpha"), spec(name="beta", algorithm={"name": "tpe"})][::order]
        for item in specs:  # created in a different order, so directory listings differ too
            write_specs(root, item)
        result = katib_gitops(root, "generate", env={"PYTHONHASHSEED": seed, "LC_ALL": locale})
        assert result.returncode == 0, result.stderr
        results.append(tree(root / "overlays"))
    assert results[0] == results[1]


def test_stale_generated_files_are_removed_and_hand_written_ones_kept(tmp_path: Path) -> None:
    write_specs(tmp_path)
    katib_gitops(tmp_path, "generate")
    notes = tmp_path / "overlays" / "demo" / "team-b" / "NOTES.md"
    notes.write_text("hand-written\n")
    write_specs(tmp_path, spec(targets={"namespaces": ["team-a"], "profiles": ["gpu", "cpu"]}))
    assert katib_gitops(tmp_path, "generate").returncode == 0
    assert not (tmp_path / "overlays" / "demo" / "team-b" / "gpu").exists()
    assert notes.read_text() == "hand-written\n"


def test_a_generated_file_edited_by_hand_is_not_overwritten_without_force(tmp_path: Path) -> None:
    write_specs(tmp_path)
    katib_gitops(tmp_path, "generate")
    edited = tmp_path / "overlays" / "demo" / "_base" / "experiment.yaml"
    edited.write_text(edited.read_text() + "# my note\n")
    write_specs(tmp_path, spec(algorithm={"name": "tpe"}))
    refused = katib_gitops(tmp_path, "generate")
    assert refused.returncode == 2
    assert "experiment.yaml: edited by hand" in refused.stderr and "--force" in refused.stderr
    assert edited.read_text().endswith("# my note\n")
    assert katib_gitops(tmp_path, "generate", "--force").returncode == 0
    assert "tpe" in edited.read_text()


def test_a_file_katib_gitops_did_not_write_is_never_overwritten(tmp_path: Path) -> None:
    write_specs(tmp_path)
    mine = tmp_path / "overlays" / "demo" / "_base" / "kustomization.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_text("# mine\n")
    result = katib_gitops(tmp_path, "generate")
    assert result.returncode == 2 and "not written by katib-gitops" in result.stderr
    assert mine.read_text() == "# mine\n"


def test_nothing_is_written_when_any_spec_is_invalid(tmp_path: Path) -> None:
    broken = spec(name="broken", objective={"type": "maximise", "metric": "accuracy"})
    write_specs(tmp_path, SPEC, broken)
    result = katib_gitops(tmp_path, "generate")
    assert result.returncode == 1
    assert "specs/broken.yaml:" in result.stderr and "'maximise' is not one of minimize, maximize" in result.stderr
    assert not (tmp_path / "overlays").exists()


def test_every_generated_file_says_it_is_generated(tmp_path: Path) -> None:
    write_specs(tmp_path)
    katib_gitops(tmp_path, "generate")
    for path, content in tree(tmp_path / "overlays").items():
        if path.endswith(".yaml"):
            assert content.startswith(b"# Generated by katib-gitops from specs/"), path


@pytest.mark.parametrize(
    "args, message",
    [
        (("generate", "--specs", "nowhere"), "nowhere: no such directory"),
        (("render", "nowhere"), "nowhere: not a directory"),
    ],
)
def test_usage_and_io_errors_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = katib_gitops(tmp_path, *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_output_path_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    write_specs(tmp_path)
    (tmp_path / "overlays").write_text("")
    result = katib_gitops(tmp_path, "generate")
    assert result.returncode == 2 and "not a directory" in result.stderr


def test_the_committed_overlays_are_up_to_date(repo_specs: Path) -> None:
    result = katib_gitops(repo_specs.parent, "generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_repeat_run_trusts_its_record_only_while_the_output_is_intact(tmp_path: Path) -> None:
    """generator/commands/generate/repeat_record.py: the record of the last run saves the work.

    It is never a check of the output.
    """
    write_specs(tmp_path)
    assert katib_gitops(tmp_path, "generate").returncode == 0
    assert "up to date" in katib_gitops(tmp_path, "generate", "--check").stdout
    edited = tmp_path / "overlays" / "demo" / "team-a" / "gpu" / "kustomization.yaml"
    edited.write_text(edited.read_text() + "# hand edit\n")
    stale = katib_gitops(tmp_path, "generate", "--check")
    assert stale.returncode == 1 and "overlays/demo/team-a/gpu/kustomization.yaml" in stale.stdout
    edited.unlink()
    assert katib_gitops(tmp_path, "generate", "--check").returncode == 1
    assert katib_gitops(tmp_path, "generate").returncode == 0 and edited.exists()


def test_a_repeat_run_sees_every_change_of_the_specs(tmp_path: Path) -> None:
    write_specs(tmp_path)
    assert katib_gitops(tmp_path, "generate").returncode == 0
    write_specs(tmp_path, spec(algorithm={"name": "tpe"}))
    assert katib_gitops(tmp_path, "generate", "--check").returncode == 1
    (tmp_path / "specs" / "extra.yaml").write_text("kind: [\n")
    result = katib_gitops(tmp_path, "generate")
    assert result.returncode == 1 and "specs/extra.yaml:2:1: error" in result.stderr


def test_a_repeat_run_sees_a_renamed_specs_folder(tmp_path: Path) -> None:
    """The output names its specs folder (`from specs/demo.yaml`): a rename is a change, even with the same files."""
    write_specs(tmp_path)
    assert katib_gitops(tmp_path, "generate").returncode == 0
    (tmp_path / "specs").rename(tmp_path / "tuning")
    stale = katib_gitops(tmp_path, "generate", "--check", "--specs", "tuning")
    assert stale.returncode == 1, stale.stdout
    assert katib_gitops(tmp_path, "generate", "--specs", "tuning").returncode == 0
    assert "from tuning/demo.yaml" in (tmp_path / "overlays" / "demo" / "_base" / "experiment.yaml").read_text()


def test_without_a_home_or_cache_folder_generate_simply_does_the_full_run(tmp_path: Path) -> None:
    write_specs(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "XDG_CACHE_HOME")}
    # No HOME and no passwd entry for the user: Path.home() fails, as it does in some containers.
    code = (
        "import pathlib, sys\n"
        "def no_home(): raise RuntimeError('Could not determine home directory.')\n"
        "pathlib.Path.home = staticmethod(no_home)\n"
        "from katib_gitops.cli.console import entry\nsys.argv = ['katib-gitops', *sys.argv[1:]]\nentry()"
    )
    outputs = []
    for command in (["generate"], ["generate"], ["validate", "overlays"]):  # the schema bundles are cached there too
        result = subprocess.run(
            [sys.executable, "-c", code, *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**env, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        assert result.returncode == 0 and "Traceback" not in result.stderr and "internal error" not in result.stderr, (
            result.stderr
        )
        outputs.append(result.stdout)
    assert "up to date" in outputs[1] and "0 errors" in outputs[2]


def test_the_record_of_a_run_lives_in_the_user_cache_not_the_output(tmp_path: Path) -> None:
    write_specs(tmp_path)
    cache = tmp_path / "cache"
    assert katib_gitops(tmp_path, "generate", env={"XDG_CACHE_HOME": str(cache)}).returncode == 0
    assert list((cache / "katib-gitops" / "generate").glob("*.json"))
    assert not [p for p in (tmp_path / "overlays").rglob("*") if "cache" in p.name or p.suffix == ".tmp"]
    (cache / "katib-gitops" / "generate").chmod(
        0o500
    )  # an unwritable or missing cache means a full run, never an error
    for record in (cache / "katib-gitops" / "generate").glob("*.json"):
        record.write_text("{not json")
    assert "up to date" in katib_gitops(tmp_path, "generate", "--check", env={"XDG_CACHE_HOME": str(cache)}).stdout


def test_the_clusters_katib_config_decides_which_algorithms_a_spec_may_use(tmp_path: Path) -> None:
    write_specs(tmp_path, spec(algorithm={"name": "my-search"}))
    refused = katib_gitops(tmp_path, "generate")
    assert (
        refused.returncode == 1
        and "unknown algorithm 'my-search'" in refused.stderr
        and "[TS-ALGORITHM]" in refused.stderr
    )
    config = tmp_path / "katib-config.yaml"
    config.write_text(
        dump(
            {
                "apiVersion": "config.kubeflow.org/v1beta1",
                "kind": "KatibConfig",
                # a suggestion service of its own (an image that is none of Katib's services, whose rules
                # would apply), and what the spec's trial needs of a katib-config: its kind and its collector
                "init": {"controller": {"trialResources": ["PyTorchJob.v1.kubeflow.org"]}},
                "runtime": {
                    "suggestions": [{"algorithmName": "my-search", "image": "example.com/my-search-service:1"}],
                    "metricsCollectors": [{"kind": "StdOut", "image": "example.com/file-metrics-collector:1"}],
                },
            }
        )
    )
    assert katib_gitops(tmp_path, "generate", "--katib-config", str(config)).returncode == 0
    assert "up to date" in katib_gitops(tmp_path, "generate", "--check", "--katib-config", str(config)).stdout
    config.write_text(
        config.read_text().replace("my-search", "other-search")
    )  # the record of the last run no longer applies
    stale = katib_gitops(tmp_path, "generate", "--check", "--katib-config", str(config))
    assert stale.returncode == 1 and "unknown algorithm 'my-search'" in stale.stderr
