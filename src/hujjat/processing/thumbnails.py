"""Thumbnails for the web browser: small JPEGs of image items, derived data cached under
`<archive>/thumbs/` (safe to delete; rebuilt on demand). Pillow's decompression-bomb guard stays
on, and any failure means "no thumbnail", never an error page."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import BinaryIO

from PIL import Image, ImageOps

SIZE = 320
THUMB_MEDIA = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/heic",
               "image/heif")


def thumbnail(cache: Path, sha256: str, source: BinaryIO) -> Path | None:
    """The cached thumbnail of these bytes, made now if needed; None when they cannot be decoded."""
    target = cache / sha256[:2] / f"{sha256}.jpg"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                image.draft("RGB", (SIZE * 2, SIZE * 2))
                small = ImageOps.exif_transpose(image) or image
                small.thumbnail((SIZE, SIZE))
                rgb = small.convert("RGB")
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            rgb.save(out, "JPEG", quality=80)
        Path(tmp).replace(target)
    except Exception:  # noqa: BLE001 -- undecodable, truncated or hostile images simply get no thumbnail
        return None
    return target
