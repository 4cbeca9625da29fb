"""The console script: the plain pre-commit call straight to validate, every other command line through click.

No click here. `katib-gitops validate PATH...` with no option, which is how the pre-commit
hook calls it on every commit, runs straight from `entry` and never imports click (about
25 ms of start-up, docs/performance.md). Every other command line, including any
option, goes through katib_gitops.cli.main, so its parsing, help and errors are click's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from katib_gitops.cli.boundary import MAX_FILE_SIZE_ENV, run, say


def plain_validate(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The paths of `validate PATH...` with nothing for click to parse, else None.

    Plain means: at least one path, and no argument that click would read as an option
    ('-' alone is stdin, a path); `--` or any flag, and the options' environment variable,
    leave the call to click.
    """
    if len(argv) < 2 or argv[0] != "validate" or MAX_FILE_SIZE_ENV in environ:
        return None
    paths = tuple(argv[1:])
    if any(path.startswith("-") and path != "-" for path in paths):
        return None
    return paths


def main(argv: Sequence[str]) -> None:
    """The whole command line: the plain validate call directly, everything else through click."""
    paths = plain_validate(argv, os.environ)
    if paths is None:
        from katib_gitops.cli.main import main as click_main

        click_main(args=list(argv), prog_name="katib-gitops")
        return
    from katib_gitops.commands.validate.command import validate_command

    run(lambda: validate_command(paths))


def entry() -> NoReturn:
    """The console script: `main`, then an exit that skips the interpreter's teardown.

    Freeing every module and object at exit costs ~25 ms per run, and the
    pre-commit hook pays it on every commit. Nothing is lost by skipping it: files are
    written and closed inside `with` blocks and locks are released before `main` returns;
    only the standard streams need a flush.
    """
    try:
        main(sys.argv[1:])
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message"): Python prints it and exits 1
        say(code)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing left to say
            code = code or 141
    os._exit(code if isinstance(code, int) else 0)
