"""The Fingerprinter port's implementation: PDQ/vPDQ hashing plus a hash index, one lock.

Kept apart from processing/fingerprints.py so that opening an archive does not import PyAV,
numpy and pdqhash: they load on the first file hashed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from hujjat.domain.near_duplicates import DedupSettings, Fingerprint
from hujjat.ports.fingerprints import HashIndex


class PdqFingerprinter:
    def __init__(self, settings: DedupSettings, index: HashIndex) -> None:
        self.settings = settings
        self.index = index
        self._lock = threading.RLock()

    def compute(self, path: Path | BinaryIO, media_type: str) -> Fingerprint | None:
        from hujjat.processing.fingerprints import fingerprint_file

        return fingerprint_file(path, media_type, self.settings)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield
