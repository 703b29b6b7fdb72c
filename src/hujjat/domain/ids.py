"""Record identifiers: ULIDs, sortable by creation time and never derived from user text.

Hand-written (15 lines) rather than a dependency because the domain core stays stdlib-only.
"""

from __future__ import annotations

import re
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def new_id(now_ms: int | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds then 80 random bits."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_sha256(text: str) -> bool:
    return bool(SHA256_RE.match(text))


def normalise_digest(text: str) -> str:
    """Accept `sha256:<hex>` or bare hex, any case; return bare lowercase hex (or prefix)."""
    text = text.strip().lower()
    return text.removeprefix("sha256:")
