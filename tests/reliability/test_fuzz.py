"""A short, time-bounded fuzz run of the YAML reader and the validator over mutated real inputs.

Only findings (FindingsError) and usage errors (UsageError) may come out; anything
else is a crash, reported with the input that caused it, saved for reproduction.
KATIB_GITOPS_FUZZ_SECONDS (default 3) and KATIB_GITOPS_FUZZ_SEED set the run;
docs/reliability.md explains the long runs (this runner for hours, or atheris).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
import traceback
from pathlib import Path

from katib_gitops.core.diagnostics import FindingsError, UsageError
from katib_gitops.rules import validator
from katib_gitops.yamlio.documents import load_documents
from katib_gitops.yamlio.reader import decode
from tests.reliability.mutate import corpus, mutate

SECONDS = float(os.environ.get("KATIB_GITOPS_FUZZ_SECONDS", "3"))


def one_input(data: bytes, folder: Path) -> None:
    """Everything a file goes through in `validate`: decode, parse, and the validator on it."""
    with contextlib.suppress(FindingsError):
        load_documents(decode(data, "fuzz.yaml"), "fuzz.yaml")
    (folder / "fuzz.yaml").write_bytes(data)
    old = Path.cwd()
    os.chdir(folder)
    try:
        validator.validate(validator.Options(("fuzz.yaml",)), io.StringIO())
    except (FindingsError, UsageError):
        pass
    finally:
        os.chdir(old)


def test_fuzz_the_reader_and_the_validator(tmp_path: Path) -> None:
    # A fixed seed by default: the suite replays the same inputs (as many as fit in the time); set one to explore.
    seed = int(os.environ.get("KATIB_GITOPS_FUZZ_SEED", "20261128"))
    rng = random.Random(seed)
    inputs = corpus()
    deadline = time.monotonic() + SECONDS
    runs = 0
    while time.monotonic() < deadline:
        name, original = rng.choice(inputs)
        data = mutate(original, rng, rng.randint(1, 8))
        try:
            one_input(data, tmp_path)
        except Exception:
            saved = tmp_path / f"crash-{runs}.yaml"
            saved.write_bytes(data)
            raise AssertionError(
                f"crash on a mutation of {name} (seed {seed}, input saved to {saved}):\n{traceback.format_exc()}"
            ) from None
        runs += 1
    assert runs > 10, f"only {runs} inputs in {SECONDS} s"
