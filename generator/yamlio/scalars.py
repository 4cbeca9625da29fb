"""Plain scalars resolved exactly as go-yaml v2 (kubectl, Argo CD, Flux) reads them, and where other readers differ.

`resolve_plain` is a transcription of go-yaml v2.4.0's resolve.go. Facts relied on
(gopkg.in/yaml.v2 v2.4.0 resolve.go and decode.go):

* booleans: y Y yes Yes YES true True TRUE on On ON, and n N no No NO false False
  FALSE off Off OFF; null: "" ~ null Null NULL; .nan .NaN .NAN, [+-].inf .Inf .INF;
* a plain scalar starting with a digit or a sign is tried, after dropping every "_",
  as Go's strconv.ParseInt(s, 0, 64) (0x hex, 0o and leading-0 octal, 0b binary),
  then ParseUint, then the float regexp ^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$,
  then -0b binary; anything else is a string. Base-60 numbers are not supported:
  `1:30` is the string "1:30". A scalar starting with "." is tried as a float.

Where readers disagree, `ambiguity` says why (rule `yaml-ambiguous`): the YAML 1.1 words
above are booleans to kubectl but strings to kustomize (kyaml uses go-yaml v3, whose
booleans are only true/false) and to YAML 1.2 tools; `1_000`, `0b11` and `010` are numbers
to go-yaml but not to YAML 1.2 tools; `1.10` is the number 1.1 everywhere, which
sigs.k8s.io/yaml writes back as "1.1" into a string field. go-yaml v3 reads those numbers as v2
does (it drops "_" and keeps YAML 1.1 octals for compatibility), so a number's spelling matters
only in a string field: the loader keeps such reasons aside (`Document.unless_accepted`) and the
validator reports them where the schema refuses the number.
"""

from __future__ import annotations

import math
import re
from typing import Any

V2_WORDS: dict[str, Any] = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
# Booleans only to YAML 1.1 readers; go-yaml v3 (kustomize's kyaml) and YAML 1.2 read them as strings.
YAML11_ONLY_BOOLEANS = frozenset(
    k for k, v in V2_WORDS.items() if isinstance(v, bool) and k.lower() not in ("true", "false")
)
_GO_INT = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
INT64 = (-(2**63), 2**63 - 1)
UINT64_MAX = 2**64 - 1


def resolve_plain(text: str) -> Any:
    """A plain (unquoted, untagged) scalar as go-yaml v2.4.0 `resolve` reads it into interface{}."""
    if text in V2_WORDS:
        return V2_WORDS[text]
    first = text[0]
    if first == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if not (first.isascii() and (first.isdigit() or first in "+-")):
        return text
    plain = text.replace("_", "")
    number = _go_parse_int(plain)
    if number is not None and (INT64[0] <= number <= INT64[1] or (0 <= number <= UINT64_MAX and plain[0] != "+")):
        return number  # ParseInt, then ParseUint (which takes no sign)
    if _GO_FLOAT.fullmatch(plain):
        value = float(plain)
        if not math.isinf(value):  # Go's ParseFloat fails with ErrRange: the scalar stays a string
            return value
    if plain.startswith("-0b") and re.fullmatch(r"-0b[01]+", plain):
        return -int(plain[3:], 2)
    return text


def _go_parse_int(text: str) -> int | None:
    match = _GO_INT.fullmatch(text)
    if not match:
        return None
    sign = -1 if match.group(1) == "-" else 1
    hexa, octal, binary, zero_octal, decimal = match.group(2, 3, 4, 5, 6)
    if hexa is not None:
        return sign * int(hexa, 16)
    if octal is not None:
        return sign * int(octal, 8)
    if binary is not None:
        return sign * int(binary, 2)
    if zero_octal is not None:
        return sign * int(zero_octal, 8)
    return sign * int(decimal)


def ambiguity(text: str, value: Any) -> str:
    """Why readers disagree on this plain scalar, or ''."""
    if text in YAML11_ONLY_BOOLEANS:
        return (
            f"'{text}' is the boolean {str(value).lower()} to kubectl, Argo CD and Flux (YAML 1.1) "
            f"but the string '{text}' to kustomize and YAML 1.2 tools"
        )
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
        return ""
    plain = text.lstrip("+-")
    if "_" in text:
        return f"'{text}' is the number {value} to Kubernetes (go-yaml drops '_') but a string to YAML 1.2 tools"
    if re.match(r"0[bB]", plain):
        return f"'{text}' is the number {value} to Kubernetes (binary) but a string to YAML 1.2 tools"
    if re.fullmatch(r"0[0-9]+", plain):
        return (
            f"'{text}' is the number {_number(value)} to Kubernetes (a leading 0 means octal) "
            f"but {int(plain)} to YAML 1.2 tools"
        )
    if re.fullmatch(r"[0-9]*\.[0-9]*[0-9]0", plain):
        return (
            f"'{text}' is the number {_number(value)}: the trailing zero is lost, and a string field "
            f"receives '{_number(value)}' from kubectl"
        )
    return ""


def _number(value: Any) -> str:
    return (
        repr(value)
        if isinstance(value, float) and not value.is_integer()
        else str(int(value))
        if isinstance(value, float)
        else str(value)
    )
