"""Signed checkpoints: at the end of each command the chain's head is signed with the archive key."""

from __future__ import annotations

from hujjat.domain.custody import Checkpoint, StoredCheckpoint, utc_timestamp
from hujjat.services.context import ArchivePorts


def sign_checkpoint(ports: ArchivePorts) -> Checkpoint | None:
    """Sign the current head unless it is signed already; None for an empty log."""
    with ports.uow() as tx:
        head = tx.custody.head()
        if head is None:
            return None
        checkpoint = Checkpoint(ports.archive_id, head[0], head[1], utc_timestamp(ports.clock.now()))
        signature = ports.signer.sign(checkpoint.message())
        tx.custody.add_checkpoint(StoredCheckpoint(checkpoint, signature), ports.signer.key_id)
        return checkpoint
