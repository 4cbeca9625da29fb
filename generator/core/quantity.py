"""Kubernetes resource quantities (`500m`, `2Gi`, `1e3`, `4`) as exact fractions.

The grammar is k8s.io/apimachinery pkg/api/resource/quantity.go: a signed decimal number and
a suffix, either binary (Ki, Mi, Gi, Ti, Pi, Ei: powers of 1024), decimal SI (n, u, m, k, M,
G, T, P, E) or a decimal exponent (`e3`, `E-2`). Exact arithmetic (`fractions.Fraction`), so
summing 0.1 CPU ten times is 1, and a quota compares as the API server compares.
"""

from __future__ import annotations

import re
from fractions import Fraction

_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
QUANTITY = re.compile(rf"^({_NUMBER})(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def is_extended(resource: str) -> bool:
    """An extended resource (`nvidia.com/gpu`): not native (a name without a domain, or one in kubernetes.io/)
    and not a quota's `requests.` name (k8s.io/kubernetes pkg/apis/core/helper IsExtendedResourceName)."""
    return "/" in resource and "kubernetes.io/" not in resource and not resource.startswith("requests.")


def parse(value: object) -> Fraction | None:
    """The quantity `value` (a string as Kubernetes writes it, or a YAML number) is; None if it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    if not isinstance(value, str):
        return None
    match = QUANTITY.match(value.strip())
    if match is None:
        return None
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * Fraction(1024 ** _BINARY[suffix])
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:]) if suffix else 0
    return number * Fraction(10**exponent) if exponent >= 0 else number / 10**-exponent


def text(amount: Fraction) -> str:
    """`amount` written back shortly: `8`, `1500m`, `3Gi` where exact, else a decimal."""
    if amount.denominator == 1:
        whole = amount.numerator
        for suffix, power in sorted(_BINARY.items(), key=lambda item: -item[1]):
            if whole and abs(whole) >= 1024**power and whole % 1024**power == 0:
                return f"{whole // 1024**power}{suffix}"
        return str(whole)
    milli = amount * 1000
    if milli.denominator == 1:
        return f"{milli.numerator}m"
    return f"{float(amount):g}"
