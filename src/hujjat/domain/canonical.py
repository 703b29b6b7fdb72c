"""Canonical JSON: the one byte encoding that custody entries and signed checkpoints are hashed in.

Rules (documented in the README so anyone can re-implement them): UTF-8, keys sorted by code point,
no insignificant whitespace, no floats (numbers are integers; anything fractional is a string),
non-ASCII characters written as themselves, not escaped.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


class NonCanonicalValue(ValueError):
    """A value that canonical JSON refuses (floats, non-string keys, unknown types)."""


def _check(value: Any, path: str = "$") -> None:
    """Raise NonCanonicalValue naming where `value` breaks the rules. Strings, integers (bools
    too) and None inside a container are accepted without a call or a path: building a path for
    every value of a metadata record cost more than encoding it."""
    if value is None or isinstance(value, (str, int)):
        return
    if isinstance(value, float):
        raise NonCanonicalValue(f"float at {path}: use an integer or a string")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonCanonicalValue(f"non-string key at {path}")
            if item is not None and not isinstance(item, (str, int)):
                _check(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if item is not None and not isinstance(item, (str, int)):
                _check(item, f"{path}[{index}]")
        return
    raise NonCanonicalValue(f"unsupported type {type(value).__name__} at {path}")


def canonical_bytes(value: Any) -> bytes:
    _check(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
