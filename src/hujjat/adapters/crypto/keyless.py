"""The key-free check of an encrypted store: every object's HJCRYPT1 header and a size that a
whole number of chunks can have. Catches truncation, padding, foreign files and damaged headers
without the secret (a changed byte inside a chunk needs the key: full `verify`). Works on any
backend the encrypting store supports (one ranged GET per object on S3)."""

from __future__ import annotations

from typing import Any

from hujjat.adapters.blobs.encrypted import framing_problem, read_head
from hujjat.ports import BlobStore


def check_ciphertext(store: BlobStore) -> dict[str, Any]:
    problems: list[str] = []
    objects = 0
    for sha256, size in store.iter_objects():
        objects += 1
        if problem := framing_problem(sha256, read_head(store, sha256), size):
            problems.append(problem)
    return {"quick": True, "keyless": True, "objects": objects, "problems": problems, "ok": not problems}
