"""Wiring an unlocked keyring into the database engine and the blob store (used by bootstrap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hujjat.adapters.blobs.encrypted import EncryptedStore
from hujjat.adapters.blobs.local import LocalFolderStore
from hujjat.adapters.crypto.admin import database_key_in_use
from hujjat.adapters.crypto.archive import KEY_DIR, encryption_settings, is_plain_sqlite, sqlite_path
from hujjat.adapters.crypto.key_table import KeyTable
from hujjat.adapters.crypto.keyring import Keyring
from hujjat.ports import BlobStore


def sqlcipher_key(extra: dict[str, Any], keyring: Keyring | None, database_url: str) -> bytes | None:
    """The SQLCipher key when the embedded database is (already) encrypted. While `hujjat encrypt`
    runs the file itself tells: an interrupted run may have swapped it before saying so."""
    settings = encryption_settings(extra)
    if keyring is None or settings is None:
        return None
    path = sqlite_path(database_url)
    if settings.get("database") == "sqlcipher" or (
        settings.get("state") == "converting" and path is not None and not is_plain_sqlite(path)
    ):
        if keyring.db_key_next is not None and path is not None:
            return database_key_in_use(path, keyring)  # `rekey --database` was interrupted
        return keyring.db_key
    return None


def protect_store(store: BlobStore, root: Path, keyring: Keyring | None, extra: dict[str, Any]) -> BlobStore:
    """The store wrapped in an EncryptedStore when the archive is encrypted. Wrapped data keys
    stay in the archive folder (keys/blob-keys.db) whatever the backend, so a bucket alone holds
    only ciphertext and shredding never depends on deleting anything remote."""
    settings = encryption_settings(extra)
    if keyring is None or settings is None:
        return store
    keys = KeyTable(root / KEY_DIR, busy_timeout_s=60 if isinstance(store, LocalFolderStore) else 6 * 3600)
    return EncryptedStore(store, keys, keyring, converting=settings.get("state") == "converting")
