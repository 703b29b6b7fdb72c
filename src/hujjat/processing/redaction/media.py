"""Redacting one file: pictures are decoded, turned upright, obscured and re-encoded from their
pixels alone; videos are decoded and re-encoded frame by frame with PyAV (faces detected on every
frame), audio copied, muted or distorted. Nothing of the source container is copied over: no EXIF,
XMP, IPTC, GPS, maker notes, embedded thumbnails, ICC profiles or container/stream tags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hujjat.domain.errors import UsageError
from hujjat.processing.redaction.faces import detect_faces
from hujjat.processing.redaction.obscure import obscure

Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class RedactionOptions:
    faces: bool = False
    regions: tuple[Region, ...] = ()
    mute: bool = False
    distort_voice: bool = False
    strip_metadata: bool = True
    face_threshold: float = 0.4

    def describe(self) -> dict[str, Any]:
        return {
            "faces": self.faces,
            "regions": [list(r) for r in self.regions],
            "mute": self.mute,
            "distort_voice": self.distort_voice,
            "strip_metadata": True,
        }


@dataclass
class RedactionResult:
    path: Path
    media_type: str
    faces_found: int = 0
    frames: int = 0
    notes: list[str] = field(default_factory=list)


def parse_region(text: str) -> Region:
    try:
        x, y, w, h = (int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"a region is x,y,w,h in pixels (four whole numbers): {text!r}") from None
    if min(x, y) < 0 or min(w, h) <= 0:
        raise UsageError(f"a region needs x,y >= 0 and a positive width and height: {text!r}")
    return x, y, w, h


def redact_frame(rgb: np.ndarray[Any, Any], options: RedactionOptions) -> int:
    """Obscure faces and regions in place; return how many faces were found."""
    found = 0
    if options.faces:
        boxes = detect_faces(rgb, options.face_threshold)
        found = len(boxes)
        for box in boxes:
            obscure(rgb, box.x, box.y, box.w, box.h)
    for x, y, w, h in options.regions:
        obscure(rgb, x, y, w, h, margin=0.0)
    return found


def redact_file(
    source: Path, media_type: str, dest_dir: Path, options: RedactionOptions,
    progress: Callable[[int], None] | None = None,
) -> RedactionResult:
    kind = media_type.split("/")[0]
    if kind == "image":
        return _redact_image(source, dest_dir, options)
    if kind in ("video", "audio"):
        from hujjat.processing.redaction.video import redact_av

        return redact_av(source, media_type, dest_dir, options, progress)
    raise UsageError(f"cannot redact {media_type} files (pictures, video and audio only)")


def _redact_image(source: Path, dest_dir: Path, options: RedactionOptions) -> RedactionResult:
    try:
        with Image.open(source) as opened:
            upright = ImageOps.exif_transpose(opened)
            has_alpha = upright.mode in ("RGBA", "LA") or "transparency" in upright.info
            rgb = np.array(upright.convert("RGB"))
            alpha = np.array(upright.convert("RGBA"))[..., 3] if has_alpha else None
            fmt = (opened.format or "").upper()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UsageError(f"cannot read the picture: {exc}") from None
    found = redact_frame(rgb, options)
    # Pixels only: a new image carries no EXIF, XMP, IPTC, ICC profile or thumbnail.
    clean = Image.fromarray(rgb, "RGB")
    if fmt == "PNG" or alpha is not None:
        if alpha is not None:
            clean.putalpha(Image.fromarray(alpha, "L"))
        path, media_type = dest_dir / "redacted.png", "image/png"
        clean.save(path, format="PNG", optimize=False)
    else:
        path, media_type = dest_dir / "redacted.jpg", "image/jpeg"
        clean.save(path, format="JPEG", quality=92, exif=b"", icc_profile=None)
    return RedactionResult(path, media_type, faces_found=found, frames=1)
