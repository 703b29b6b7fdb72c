"""Ports for protection: derivatives, scrubbing, and what an encrypting store adds (shredding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Derivative:
    derivative_id: str
    original_id: str
    operations: dict[str, Any]
    created_at: datetime


class ProtectionRepository(Protocol):
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

    def shred(self, sha256: str) -> bool:
        """Destroy the object's data key; False when it was already shredded."""
        ...

    def check_structure(self, sha256: str) -> str | None:
        """A problem with the stored ciphertext's framing (no key needed), or None."""
        ...
