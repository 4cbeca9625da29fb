"""The console script: `katib-gitops validate PATH...` (the pre-commit hook's call) skips click.

Nothing else changes.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from katib_gitops.cli.console import MAX_FILE_SIZE_ENV, plain_validate
from katib_gitops.cli.main import main
from katib_gitops.commands.validate import command

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = ROOT / "overlays" / "mnist-tfjob" / "_base" / "experiment.yaml"
ENTRY = "import sys; from katib_gitops.cli.console import entry; sys.argv = ['katib-gitops', *sys.argv[1:]]; entry()"


def console(*args: str, stdin: str = "") -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-c", ENTRY, *args], input=stdin, capture_output=True, text=True, cwd=ROOT)
    return done.returncode, done.stdout, done.stderr


def test_only_validate_with_paths_and_no_option_is_plain() -> None:
    assert plain_validate(["validate", "a.yaml", "dir"], {}) == ("a.yaml", "dir")
    assert plain_validate(["validate", "-"], {}) == ("-",)  # standard input is a path, not an option
    assert plain_validate(["validate"], {}) is None  # click says what is missing
    assert plain_validate(["validate", "--format", "json", "a.yaml"], {}) is None
    assert plain_validate(["validate", "a.yaml", "-j", "1"], {}) is None
    assert plain_validate(["validate", "--", "-odd-name.yaml"], {}) is None
    assert plain_validate(["validate", "--help"], {}) is None
    assert plain_validate(["generate", "--check"], {}) is None
    assert (
        plain_validate(["validate", "a.yaml"], {MAX_FILE_SIZE_ENV: "1MiB"}) is None
    )  # an option set through the environment


def test_through_click_a_plain_call_gets_the_same_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the fast path passes (validate_command's defaults) is what click passes when no option is given."""
    signature = inspect.signature(command.validate_command)
    seen: dict[str, Any] = {}

    def record(paths: tuple[str, ...], **options: Any) -> int:
        seen.update(options, paths=paths)
        return 0

    monkeypatch.setattr(command, "validate_command", record)
    result = CliRunner().invoke(main, ["validate", "a.yaml"])
    assert result.exit_code == 0, result.output
    defaults = {name: p.default for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY}
    assert seen == {"paths": ("a.yaml",), **defaults}


@pytest.mark.parametrize("case", ["clean", "findings", "missing", "folder", "stdin"])
def test_the_plain_call_answers_exactly_as_through_click(tmp_path: Path, case: str) -> None:
    """`--` makes click parse the same call: same exit code, same output, byte for byte."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labelz: {}}\n")
    paths, stdin = {
        "clean": ([str(EXPERIMENT)], ""),
        "findings": ([str(broken), str(EXPERIMENT)], ""),
        "missing": ([str(tmp_path / "missing.yaml")], ""),
        "folder": ([str(tmp_path)], ""),
        "stdin": (["-"], broken.read_text()),
    }[case]
    plain = console("validate", *paths, stdin=stdin)
    through_click = console("validate", "--", *paths, stdin=stdin)
    assert plain == through_click
    assert plain[0] == {"clean": 0, "findings": 1, "missing": 2, "folder": 1, "stdin": 1}[case]


def test_the_plain_call_never_imports_click() -> None:
    code = (
        "import sys\nfrom katib_gitops.cli import console\n"
        "try:\n    console.main(['validate', sys.argv[1]])\nexcept SystemExit as exc:\n"
        "    print(exc.code, 'click' in sys.modules, 'dataclasses' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(EXPERIMENT)], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 False False"


def test_one_experiment_imports_nothing_its_checks_do_not_use() -> None:
    """Start-up (docs/performance.md): a run on one Experiment file loads no renderer (no folder, no
    kustomization), no worker pool (one file), nor the modules of other kinds (workflow trials, an
    OptimizationJob, an apiVersion no schema knows)."""
    unused = (
        "katib_gitops.kustomize.render",
        "katib_gitops.kustomize.jsonpatch",
        "katib_gitops.core.workers",
        "katib_gitops.core.workflows",
        "katib_gitops.schema.removed",
        "katib_gitops.rules.optimizationjob_checks",
    )
    code = (
        "import sys\nfrom katib_gitops.cli import console\n"
        "try:\n    console.main(['validate', sys.argv[1]])\nexcept SystemExit as exc:\n"
        f"    print(exc.code, [m for m in {unused!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(EXPERIMENT)], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 []"
