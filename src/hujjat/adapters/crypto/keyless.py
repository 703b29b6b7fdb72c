"""The key-free check of an encrypted store: every object's HJCRYPT1 header and a size that a
whole number of chunks can have. Catches truncation, padding, foreign files and damaged headers
without the secret (a changed byte inside a chunk needs the key: full `verify`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hujjat.adapters.blobs.local import LocalFolderStore
from hujjat.adapters.crypto.stream import HEADER_SIZE, parse_header, plaintext_size
from hujjat.domain.errors import IntegrityError


def check_ciphertext(store_root: Path) -> dict[str, Any]:
    store = LocalFolderStore(store_root)
    problems: list[str] = []
    objects = 0
    for sha256, size in store.iter_objects():
        objects += 1
        with store.open(sha256) as raw:
            header = raw.read(HEADER_SIZE)
        try:
            chunk_size, declared, _ = parse_header(header)
        except IntegrityError as exc:
            problems.append(f"blob {sha256}: {exc}")
            continue
        if plaintext_size(size, chunk_size) != declared:
            problems.append(f"blob {sha256}: ciphertext of {size} bytes cannot be whole (truncated or padded)")
    return {"quick": True, "keyless": True, "objects": objects, "problems": problems, "ok": not problems}
