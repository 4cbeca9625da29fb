"""The console script: the plain pre-commit call straight to validate, every other command line through click.

No click here. `katib-gitops validate PATH...` with no option, which is how the pre-commit
hook calls it on every commit, runs straight from `entry` and never imports click (about
25 ms of start-up, docs/performance.md). Every other command line, including any
option, goes through katib_gitops.cli.main, so its parsing, help and errors are click's.

Nothing is imported at the top but what the interpreter has already loaded: a Ctrl-C
while this module loads would otherwise print a traceback, before `entry` can catch it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads the name)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import NoReturn

# click reads it for --max-file-size; a plain call with it set goes through click too.
MAX_FILE_SIZE_ENV = "KATIB_GITOPS_MAX_FILE_SIZE"


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


def main(argv: Sequence[str]) -> NoReturn:
    """The whole command line inside the error boundary: the plain validate call directly, the rest through click.

    click's parsing runs inside the boundary too, so a Ctrl-C or a usage error there gets
    the documented exit code (130, 2) rather than click's own (`Aborted!`, exit 1).
    """
    from katib_gitops.cli.boundary import run

    paths = plain_validate(argv, os.environ)
    if paths is None:

        def through_click() -> object:
            from katib_gitops.cli.main import main as click_main

            return click_main(args=list(argv), prog_name="katib-gitops", standalone_mode=False)

        run(through_click)  # click returns an exit code (--help, --version), or None for 0
    plain_paths = paths

    def plain() -> int:
        from katib_gitops.cli import config
        from katib_gitops.commands.validate.command import validate_command

        # The configuration file (.katib-gitops.yaml) is read here as through click: same defaults.
        return validate_command(plain_paths, **config.validate_arguments(config.discover()))

    run(plain)


def entry() -> NoReturn:
    """The console script: `main` in the boundary, then an exit that skips the interpreter's teardown.

    Freeing every module and object at exit costs ~25 ms per run, and the
    pre-commit hook pays it on every commit. Nothing is lost by skipping it: files are
    written and closed inside `with` blocks and locks are released before `main` returns;
    only the standard streams need a flush, which `boundary.script` does.
    """
    code = 3  # boundary.EXIT_INTERNAL: what is left if the boundary itself failed
    try:
        from katib_gitops.cli import boundary

        code = boundary.script(lambda: main(sys.argv[1:]))
    except KeyboardInterrupt:  # before the boundary was in place, or a second Ctrl-C after it
        code = 130
        _write_quietly(b"katib-gitops: interrupted\n")
    finally:
        os._exit(code)


def _write_quietly(data: bytes) -> None:
    try:
        os.write(2, data)
    except OSError:  # a closed standard error: the exit code still tells
        return
