"""Plain data: the JSON-like trees (dicts, lists, scalars) every stage passes around."""

from __future__ import annotations

from typing import Any


def clone(value: Any) -> Any:
    """A deep copy of a JSON-like tree: several times faster than copy.deepcopy, which the generator's
    self-check and the defaulting of every Experiment generate judges would otherwise spend much of their
    time in. Anything but a dict or a list is shared, as nothing here changes a scalar in place."""
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value
