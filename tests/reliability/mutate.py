"""Mutations of real YAML inputs, for the property tests, the fuzz test and the atheris harness."""

from __future__ import annotations

import random
from pathlib import Path

from tests.reliability.helpers import ROOT

# Pieces that reach the reader's corners: anchors, aliases, merges, tags, flow and block
# indicators, documents, quotes, ambiguous words, odd numbers, tabs, CR, NUL, BOM, UTF-8 tails.
TOKENS = [
    "&a ",
    "*a",
    "<<: *a\n",
    "<<: ",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!custom ",
    "? ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n---\n",
    "\n...\n",
    "%YAML 1.1\n",
    "'",
    '"',
    "|\n",
    ">-\n",
    "#",
    "yes",
    "no",
    "on",
    "~",
    "null",
    ".inf",
    ".nan",
    "1.10",
    "010",
    "0x1F",
    "1_000",
    "1e400",
    "99999999999999999999",
    "\t",
    "\r\n",
    "\x00",
    "\ufeff",
    "\u00e9",
    "\u200b",
    "\x07",
    "  ",
    "\n  ",
    "\n    - ",
    "apiVersion: v1\n",
    "kind: ",
    "metadata:\n  name: ",
    "../",
    "/",
    "name: ",
    "namespace: ",
]


def corpus() -> list[tuple[str, bytes]]:
    """Real inputs: the bundled specs, the generated overlays and a few manifests."""
    found = []
    for folder, pattern in ((ROOT / "specs", "*.yaml"), (ROOT / "overlays", "**/*.yaml")):
        found.extend(
            (path.relative_to(ROOT).as_posix(), path.read_bytes()) for path in sorted(folder.glob(pattern))[:12]
        )
    found.append(
        ("configmap.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n")
    )
    return found


def mutate(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """A few random edits: insert a token, delete or duplicate a span, flip a byte, truncate."""
    out = bytearray(data)
    for _ in range(rounds or rng.randint(1, 4)):
        at = rng.randint(0, len(out))
        choice = rng.random()
        if choice < 0.45:
            out[at:at] = rng.choice(TOKENS).encode("utf-8")
        elif choice < 0.6 and out:
            end = min(len(out), at + rng.randint(1, 40))
            del out[at:end]
        elif choice < 0.75 and out:
            end = min(len(out), at + rng.randint(1, 80))
            out[at:at] = out[at:end]
        elif choice < 0.9 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        else:
            del out[at:]
    return bytes(out)


def write_case(folder: Path, name: str, data: bytes) -> Path:
    path = folder / Path(name).name
    path.write_bytes(data)
    return path
