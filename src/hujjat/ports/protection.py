"""Ports for protection: wrapped data keys of encrypted objects (and shredding), derivatives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class BlobKey:
    sha256: str
    master_id: str | None
    wrapped: bytes | None
    shredded_at: datetime | None


@dataclass(frozen=True)
class Derivative:
    derivative_id: str
    original_id: str
    operations: dict[str, Any]
    created_at: datetime


class ProtectionRepository(Protocol):
    def get_key(self, sha256: str) -> BlobKey | None: ...

    def add_key(self, sha256: str, master_id: str, wrapped: bytes, at: datetime) -> bool:
        """Insert unless the object already has a key row; return whether it was new."""
        ...

    def rewrap(self, sha256: str, master_id: str, wrapped: bytes) -> None: ...

    def iter_keys(self) -> Iterator[BlobKey]: ...

    def shred_key(self, sha256: str, at: datetime) -> bool:
        """Destroy the wrapped key (overwritten, not just unlinked); False when already shredded."""
        ...

    def shredded(self) -> set[str]: ...

    def scrub_item(self, item_id: str) -> int:
        """Delete what was extracted from an item's bytes (metadata records); return rows gone."""
        ...

    def add_derivative(self, derivative: Derivative) -> None: ...

    def derivatives_of(self, original_id: str) -> list[Derivative]: ...

    def original_of(self, derivative_id: str) -> Derivative | None: ...


@runtime_checkable
class EncryptingStore(Protocol):
    """What an encrypting blob store adds to BlobStore, for verify and shredding."""

    def shredded(self) -> set[str]: ...

    def check_structure(self, sha256: str) -> str | None:
        """A problem with the stored ciphertext's framing (no key needed), or None."""
        ...
