"""Coverage-guided fuzzing of the YAML reader and the validator with atheris (long runs; see docs/reliability.md).

    pip install atheris
    python tests/reliability/fuzz_atheris.py -max_total_time=3600 corpus/

Not collected by pytest (no test_ prefix). Only FindingsError and UsageError may
come out of an input; anything else is a crash, which atheris saves as crash-<hash>.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import atheris

with atheris.instrument_imports():
    from tests.reliability.test_fuzz import one_input

FOLDER = Path(tempfile.mkdtemp(prefix="katib-gitops-fuzz-"))


def test_one(data: bytes) -> None:
    one_input(data, FOLDER)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
