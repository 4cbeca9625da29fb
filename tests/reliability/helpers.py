"""Running the CLI on bad input: in process (fast) or as a real process (hangs, kills, locks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from katib_gitops.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def cli(cwd: Path, *args: str, stdin: bytes | str | None = None) -> Result:
    """The CLI in this process; chdir to `cwd` for the call."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=True)
    finally:
        os.chdir(old)


def process(
    cwd: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process, with a timeout: a hang fails the test instead of stalling the suite."""
    return subprocess.run(
        [sys.executable, "-m", "katib_gitops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
        **kwargs,
    )


def assert_clean_exit(result: Result | subprocess.CompletedProcess[str], *codes: int) -> str:
    """Exit code among `codes`, never a traceback or an internal error; returns all the output."""
    if isinstance(result, Result):
        code, text = result.exit_code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    else:
        code, text = result.returncode, result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text, text
    assert code in codes, f"exit {code}, wanted {codes}:\n{text}"
    return text


def tree(root: Path) -> dict[str, Any]:
    """A folder as it is: files by content, links by target, folders; links are never followed."""
    found: dict[str, Any] = {}
    if not os.path.lexists(root):
        return found
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_dir():
                found[key] = ("dir",)
            else:
                found[key] = path.read_bytes()
    return found


def as_generated(root: Path) -> None:
    """Make the YAML files under `root` look like a tree katib-gitops wrote: the generated header on each
    (one line more at the top) and a manifest with their digests, so the in-process renderer serves them."""
    import hashlib
    import json

    from katib_gitops.kustomize import render

    digests = {}
    for path in sorted(root.rglob("*")):
        yaml_file = path.suffix in (".yaml", ".yml") or path.name == "Kustomization"
        if yaml_file and path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if not data.startswith(render.HEADER.encode()):
                path.write_bytes(f"{render.HEADER} (a test).\n".encode() + data)
            digests[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    body = {"generator": "katib-gitops", "files": digests}
    (root / render.MANIFEST).write_text(json.dumps(body))


def output_files_read(monkeypatch: Any) -> list[Path]:
    """From now on, every file generate reads in the output folder, by its absolute path (a spy on the one
    function that reads them, commands/generate/on_disk.py's _chunks)."""
    from katib_gitops.commands.generate import on_disk

    seen: list[Path] = []
    real = on_disk._chunks

    def spy(path: Path | str, limit: int | None = None) -> Any:
        seen.append(Path(path).absolute())
        return real(path, limit)

    monkeypatch.setattr(on_disk, "_chunks", spy)
    return seen
