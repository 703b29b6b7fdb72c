"""Where an archive's encryption settings live and how an archive is unlocked.

`hujjat.toml` says whether the archive is encrypted:

    [encryption]
    state = "on"            # or "converting" while `hujjat encrypt` runs
    database = "sqlcipher"  # embedded SQLite encrypted whole with SQLCipher ("none" for a server)

The secret comes from `HUJJAT_KEY_FILE` (a path), else `HUJJAT_PASSPHRASE`, else a prompt when a
person sits at a terminal. Nothing secret is ever written to the configuration or the logs.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

from hujjat.adapters.crypto.keyring import Keyring, Secret, load_keyring
from hujjat.domain.errors import UsageError

KEY_DIR = "keys"
SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_path(database_url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(database_url[len(prefix) :]) if database_url.startswith(prefix) else None


def is_plain_sqlite(path: Path) -> bool:
    """Whether the file is an unencrypted SQLite database (or does not exist yet)."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) in (SQLITE_MAGIC, b"")
    except FileNotFoundError:
        return True


def encryption_settings(extra: dict[str, Any]) -> dict[str, Any] | None:
    """The `[encryption]` table of the configuration, or None for a plaintext archive."""
    settings = extra.get("encryption")
    return dict(settings) if isinstance(settings, dict) and settings.get("state") else None


def encryption_table(database_url: str, state: str = "on") -> dict[str, Any]:
    """The `[encryption]` table for an archive whose database is at `database_url`."""
    return {"state": state, "database": "sqlcipher" if database_url.startswith("sqlite") else "none"}


def secret_from_environment(key_file: Path | None = None, prompt: str | None = None) -> Secret:
    """The archive secret: `key_file`, $HUJJAT_KEY_FILE, $HUJJAT_PASSPHRASE, or a prompt."""
    path = key_file or (Path(os.environ["HUJJAT_KEY_FILE"]) if os.environ.get("HUJJAT_KEY_FILE") else None)
    if path is not None:
        return Secret.from_key_file(path)
    passphrase = os.environ.get("HUJJAT_PASSPHRASE")
    if passphrase:
        return Secret(passphrase=passphrase)
    if prompt is not None and sys.stdin.isatty():
        return Secret(passphrase=getpass.getpass(prompt))
    raise UsageError(
        "the archive is encrypted: give --key-file, set HUJJAT_KEY_FILE or HUJJAT_PASSPHRASE, or run at a terminal"
    )


def new_secret(key_file: Path | None) -> Secret:
    """A secret for a new keyring: a key file, $HUJJAT_PASSPHRASE, or a passphrase typed twice."""
    if key_file is not None or os.environ.get("HUJJAT_KEY_FILE"):
        return secret_from_environment(key_file)
    if os.environ.get("HUJJAT_PASSPHRASE"):
        return Secret(passphrase=os.environ["HUJJAT_PASSPHRASE"])
    if not sys.stdin.isatty():
        raise UsageError("give --key-file or set HUJJAT_PASSPHRASE (no terminal to ask for a passphrase)")
    first = getpass.getpass("New archive passphrase: ")
    if first != getpass.getpass("Repeat the passphrase: "):
        raise UsageError("the passphrases differ")
    if len(first) < 12:
        raise UsageError("use a passphrase of at least 12 characters")
    return Secret(passphrase=first)


def unlock(root: Path, extra: dict[str, Any]) -> Keyring | None:
    """The archive's keyring when it is encrypted (asking for the secret), else None."""
    if encryption_settings(extra) is None:
        return None
    return load_keyring(root / KEY_DIR, secret_from_environment(prompt="Archive passphrase: "))
