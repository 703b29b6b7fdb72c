"""Perceptual fingerprints: PDQ for images, vPDQ (PDQ of frames sampled by time) for videos.

PDQ comes from `pdqhash` (Python bindings of Meta's reference C++). vPDQ is implemented here on
pdqhash + PyAV rather than with Meta's `vpdq` package: `vpdq` compiles against the system's
libav*-dev (a fresh clone without them cannot install it), picks frames by a count derived from the
average frame rate, and runs C++ whose crashes on a corrupt file would take the process down.
Here frames are picked by presentation time (one every 1/sample_fps seconds, so re-encoding with a
new GOP or frame rate picks the same moments), corrupt packets are skipped and counted, and every
hash carries its mirror image's hash so flipped copies match. Animated GIF/WebP/PNG are hashed the
same way from their frame durations. With `frame_side = 0` frames are hashed at full size and the
hashes, qualities and timestamps are bit-identical to `vpdq` 0.2.5's on constant-frame-rate video
(tests/unit/test_near_dup_rules.py checks it when vpdq is installed); the default scales frames to
256 px first, about 10x cheaper for HD video, at a cost of some 10-30 bits of distance from vpdq's
hashes, so only hashes made with the same setting are compared.

Never raises for bad media: a failure is a Fingerprint with status `failed` and a one-line reason
(too small, too large to decode safely, no video stream, nothing decodable...).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any, BinaryIO

import av
import numpy as np
import pdqhash
import pillow_heif
from PIL import Image, ImageOps, ImageSequence

from hujjat.domain.near_duplicates import (
    KIND_PDQ,
    KIND_VPDQ,
    STATUS_FAILED,
    STATUS_LOW_QUALITY,
    STATUS_OK,
    DedupSettings,
    Fingerprint,
    FrameHash,
)

pillow_heif.register_heif_opener()

PDQ_VERSION = version("pdqhash")
IMAGE_SIDE = 512  # PDQ works on a 64x64 downsample; larger inputs only cost time
MIN_SIDE = 8
CENTRE_SHARE = 0.7
# Multi-frame formats that are animations; others (MPO camera JPEGs, multi-page TIFF) hash frame 0
ANIMATED_FORMATS = {"GIF", "PNG", "WEBP"}
CENTRE_MIN_QUALITY = 50
ALGO_PDQ = f"pdq+centre/1 (pdqhash {PDQ_VERSION})"


def algo_vpdq(settings: DedupSettings) -> str:
    side = f"{settings.frame_side} px" if settings.frame_side else "full size"
    return f"vpdq-time/1 (pdqhash {PDQ_VERSION}, PyAV {av.__version__}, {settings.sample_fps:g} fps, {side})"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


def _hex(bits: Any) -> str:
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8))).hex()


def _pdq_pair(rgb: Any) -> tuple[str, str, int]:
    bits, quality = pdqhash.compute(rgb)
    flipped, _ = pdqhash.compute(np.ascontiguousarray(rgb[:, ::-1]))
    return _hex(bits), _hex(flipped), int(quality)


def pdq_frame(rgb: Any, frame: int = 0, timestamp_ms: int = 0, centre: bool = False) -> FrameHash:
    """PDQ of an RGB array with the hash of its mirror image, and optionally of its centre (the
    middle CENTRE_SHARE of each side), kept only when that is featured enough to trust."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    digest, flipped, quality = _pdq_pair(rgb)
    found = FrameHash(frame, timestamp_ms, quality, digest, flipped)
    if centre:
        height, width = rgb.shape[:2]
        dy, dx = int(height * (1 - CENTRE_SHARE) / 2), int(width * (1 - CENTRE_SHARE) / 2)
        middle = np.ascontiguousarray(rgb[dy : height - dy, dx : width - dx])
        c_digest, c_flipped, c_quality = _pdq_pair(middle)
        if c_quality >= CENTRE_MIN_QUALITY:
            found = replace(found, center=c_digest, center_flipped=c_flipped)
    return found


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, as viewers (and re-encoding messengers) do, so a camera original
    and its re-posted copy hash the same pixels; malformed EXIF leaves the pixels as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, KeyError, TypeError, ZeroDivisionError):
        return image


def _rgb(image: Image.Image, side: int) -> Any:
    picture = image.convert("RGB")
    picture.thumbnail((side, side), Image.Resampling.BILINEAR)
    return np.asarray(picture)


def _failed(kind: str, algorithm: str, reason: str) -> Fingerprint:
    return Fingerprint(kind, STATUS_FAILED, algorithm, reason=reason)


def _finish(
    kind: str, algorithm: str, frames: list[FrameHash], settings: DedupSettings, **extra: Any
) -> Fingerprint:
    note = extra.pop("note", None)
    if not any(f.quality >= settings.min_quality for f in frames):
        best = max((f.quality for f in frames), default=0)
        reason = f"too featureless to match reliably (PDQ quality {best} < {settings.min_quality})"
        return Fingerprint(kind, STATUS_LOW_QUALITY, algorithm, tuple(frames), reason, **extra)
    return Fingerprint(kind, STATUS_OK, algorithm, tuple(frames), note, **extra)


def fingerprint_image(path: Path | BinaryIO, settings: DedupSettings) -> Fingerprint:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if (
                    image.format == "JPEG"
                ):  # let the decoder scale by 1/2..1/8: a 12 MP photo decodes 8x faster
                    image.draft("RGB", (IMAGE_SIDE, IMAGE_SIDE))
                width, height = image.size
                if width * height > settings.max_pixels:
                    return _failed(
                        KIND_PDQ, ALGO_PDQ, f"image too large to decode safely ({width}x{height} pixels)"
                    )
                if min(width, height) < MIN_SIDE:
                    return _failed(
                        KIND_PDQ, ALGO_PDQ, f"image too small to fingerprint ({width}x{height} pixels)"
                    )
                if image.format in ANIMATED_FORMATS and getattr(image, "n_frames", 1) > 1:
                    return _animated(image, settings)
                frame = pdq_frame(_rgb(_upright(image), IMAGE_SIDE), centre=True)
                return _finish(KIND_PDQ, ALGO_PDQ, [frame], settings)
    except Image.DecompressionBombError as error:
        return _failed(KIND_PDQ, ALGO_PDQ, f"image too large to decode safely: {_one_line(error)}")
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as error:
        return _failed(KIND_PDQ, ALGO_PDQ, f"image not decodable: {_one_line(error)}")


def _animated(image: Image.Image, settings: DedupSettings) -> Fingerprint:
    """An animated image is a short video: sample its frames by time from their durations."""
    algorithm = algo_vpdq(settings)
    step = 1000.0 / settings.sample_fps
    frames: list[FrameHash] = []
    clock = 0.0
    next_at = 0.0
    for frame in ImageSequence.Iterator(image):
        if clock >= next_at and len(frames) < settings.max_frames:
            frames.append(pdq_frame(_rgb(frame, settings.frame_side or 1 << 20), len(frames), int(clock)))
            next_at = (int(clock // step) + 1) * step
        clock += max(float(frame.info.get("duration", 100) or 100), 10.0)
    return _finish(KIND_VPDQ, algorithm, frames, settings, duration_ms=int(clock))


def _decoded(container: Any, stream: Any, counter: list[int]) -> Iterator[Any]:
    """Decoded frames; packets that fail to decode are skipped and counted in counter[0]."""
    for packet in container.demux(stream):
        try:
            decoded = packet.decode()
        except (av.FFmpegError, ValueError):
            counter[0] += 1
            continue
        yield from decoded  # demux ends with an empty packet, which flushes the decoder


def fingerprint_video(path: Path | BinaryIO, settings: DedupSettings) -> Fingerprint:
    algorithm = algo_vpdq(settings)
    try:
        container = av.open(
            str(path) if isinstance(path, Path) else path, mode="r", metadata_errors="replace"
        )
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        return _failed(KIND_VPDQ, algorithm, f"not readable as video: {_one_line(error)}")
    step = 1000.0 / settings.sample_fps
    frames: list[FrameHash] = []
    corrupt = [0]
    start: float | None = None
    last_ms = 0
    try:
        with container:
            stream = next(iter(container.streams.video), None)
            if stream is None:
                return _failed(KIND_VPDQ, algorithm, "no video stream (audio only?)")
            stream.thread_type = "AUTO"
            next_at = 0.0
            for frame in _decoded(container, stream, corrupt):
                if frame.time is None:
                    continue
                start = frame.time if start is None else start
                at_ms = round((frame.time - start) * 1000)
                last_ms = max(last_ms, at_ms)
                if at_ms < next_at:
                    continue
                side = settings.frame_side or max(frame.width, frame.height, 1)
                scale = min(1.0, side / max(frame.width, frame.height, 1))
                width, height = max(1, int(frame.width * scale)), max(1, int(frame.height * scale))
                rgb = frame.to_ndarray(width=width, height=height, format="rgb24")
                frames.append(pdq_frame(rgb, len(frames), at_ms))
                next_at = (at_ms // step + 1) * step
                if len(frames) >= settings.max_frames:
                    break
    except (av.FFmpegError, OSError, ValueError, MemoryError) as error:
        if not frames:
            return _failed(KIND_VPDQ, algorithm, f"video not decodable: {_one_line(error)}")
        corrupt[0] += 1
    if not frames:
        detail = f" ({corrupt[0]} corrupt packets)" if corrupt[0] else ""
        return _failed(KIND_VPDQ, algorithm, f"no decodable video frames{detail}")
    note = f"{corrupt[0]} corrupt packets skipped" if corrupt[0] else None
    return _finish(KIND_VPDQ, algorithm, frames, settings, duration_ms=last_ms, note=note)


def fingerprint_file(path: Path | BinaryIO, media_type: str, settings: DedupSettings) -> Fingerprint | None:
    """Fingerprint an image or video (a file, or a seekable stream); None for other media types."""
    if media_type.startswith("image/"):
        if media_type in ("image/svg+xml",):
            return None
        return fingerprint_image(path, settings)
    if media_type.startswith("video/"):
        return fingerprint_video(path, settings)
    return None
