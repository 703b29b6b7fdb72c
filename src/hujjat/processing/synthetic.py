"""Deterministic synthetic evidence for the demo, tests and benchmarks.

Real files, not stubs: JPEG photos with camera EXIF (make, model, DateTimeOriginal with its UTC
offset, a GPS IFD) written by Pillow; PNG images; playable H.264 MP4 videos (MPEG-4 Part 2
when this PyAV build lacks an H.264 encoder) encoded by PyAV with moving content, a
`creation_time` and an ISO 6709 location that the metadata extractor reads back; WAV or AAC
(.m4a) audio; UTF-8 text notes. The same seed gives the same picture and sound, so tests can
regenerate material instead of storing it. (Container timestamps written by encoders may
still differ between library versions.)
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.video.stream import VideoStream
from PIL import ExifTags, Image, ImageDraw, ImageFont, TiffImagePlugin

DEFAULT_MAKE = "Hujjat"
DEFAULT_MODEL = "Synthetic Camera 1"
_SECONDS_DENOMINATOR = 100_000  # GPS seconds kept to 1e-5 arcsecond, far below 1e-7 degree


def _picture(width: int, height: int, seed: int, label: str, phase: float = 0.0) -> Image.Image:
    """Gradients, shapes and a caption: visibly not blank, and textured enough to compress like a photo."""
    rng = random.Random(seed)  # noqa: S311 - deterministic material, not secrets
    red = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = Image.new("L", (width, height), rng.randrange(40, 220))
    image = Image.merge("RGB", (red, green, blue))
    texture = Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
    image = Image.blend(image, texture, 0.12)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        size = rng.randrange(max(2, min(width, height) // 10), max(3, min(width, height) // 3))
        dx = int(math.cos(phase + x) * width / 6)
        dy = int(math.sin(phase + y) * height / 6)
        box = (x + dx - size, y + dy - size, x + dx + size, y + dy + size)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=color, outline=(0, 0, 0))
    font = ImageFont.load_default(size=max(10, min(width, height) // 14))
    corner = (max(2, width // 40), max(2, height // 40))
    draw.text(corner, label, fill=(255, 255, 255), font=font, stroke_width=1, stroke_fill=(0, 0, 0))
    return image


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    degrees_total = abs(Decimal(repr(value)))
    degrees = int(degrees_total)
    minutes_total = (degrees_total - degrees) * 60
    minutes = int(minutes_total)
    seconds = round((minutes_total - minutes) * 60 * _SECONDS_DENOMINATOR)
    return (
        TiffImagePlugin.IFDRational(degrees, 1),
        TiffImagePlugin.IFDRational(minutes, 1),
        TiffImagePlugin.IFDRational(seconds, _SECONDS_DENOMINATOR),
    )


def photo_exif(
    *,
    gps: tuple[float, float] | None,
    taken_at: datetime | None,
    make: str,
    model: str,
    altitude: float | None = None,
) -> Image.Exif:
    """Camera-like EXIF: IFD0 make/model/date, Exif IFD DateTimeOriginal (+ offset), GPS IFD."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = make
    exif[ExifTags.Base.Model] = model
    exif[ExifTags.Base.Software] = "hujjat.processing.synthetic"
    exif[ExifTags.Base.Orientation] = 1
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[ExifTags.Base.DateTime] = stamp
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = stamp
        details[ExifTags.Base.DateTimeDigitized] = stamp
        offset = taken_at.strftime("%z")
        if offset:
            details[ExifTags.Base.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:]}"
            details[ExifTags.Base.OffsetTimeDigitized] = f"{offset[:3]}:{offset[3:]}"
    if gps is not None:
        latitude, longitude = gps
        position = exif.get_ifd(ExifTags.IFD.GPSInfo)
        position[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        position[ExifTags.GPS.GPSLatitudeRef] = "N" if latitude >= 0 else "S"
        position[ExifTags.GPS.GPSLatitude] = _dms(latitude)
        position[ExifTags.GPS.GPSLongitudeRef] = "E" if longitude >= 0 else "W"
        position[ExifTags.GPS.GPSLongitude] = _dms(longitude)
        position[ExifTags.GPS.GPSMapDatum] = "WGS-84"
        if altitude is not None:
            position[ExifTags.GPS.GPSAltitudeRef] = b"\x00" if altitude >= 0 else b"\x01"
            position[ExifTags.GPS.GPSAltitude] = TiffImagePlugin.IFDRational(
                round(abs(altitude) * 1000), 1000
            )
    return exif


def make_photo(
    path: Path,
    *,
    width: int = 1024,
    height: int = 768,
    seed: int = 0,
    gps: tuple[float, float] | None = None,
    taken_at: datetime | None = None,
    make: str = DEFAULT_MAKE,
    model: str = DEFAULT_MODEL,
    altitude: float | None = None,
    quality: int = 88,
) -> Path:
    """Write a JPEG photo with camera EXIF; `taken_at` with tzinfo also records its UTC offset."""
    label = f"#{seed} {taken_at:%Y-%m-%d %H:%M}" if taken_at else f"#{seed}"
    image = _picture(width, height, seed, label)
    exif = photo_exif(gps=gps, taken_at=taken_at, make=make, model=model, altitude=altitude)
    image.save(path, "JPEG", quality=quality, exif=exif)
    return path


def make_png(
    path: Path, *, width: int = 640, height: int = 480, seed: int = 0, text: str | None = None
) -> Path:
    """Write a PNG image (a screenshot-like picture with no camera metadata)."""
    _picture(width, height, seed, text or f"screenshot #{seed}").save(path, "PNG")
    return path


def video_codec() -> str:
    """The encoder make_video uses: H.264 where this FFmpeg build has libx264, else MPEG-4 Part 2."""
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def iso6709(latitude: float, longitude: float) -> str:
    """'+32.0929+034.8620/' as phones write it."""
    return f"{latitude:+08.4f}{longitude:+09.4f}/"


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    fps: int = 15,
    width: int = 320,
    height: int = 240,
    seed: int = 0,
    location: tuple[float, float] | None = None,
    created_at: datetime | None = None,
    bit_rate: int | None = None,
    make: str = DEFAULT_MAKE,
    model: str = DEFAULT_MODEL,
    faststart: bool = False,
) -> Path:
    """Write a playable MP4 (H.264 or MPEG-4) with moving shapes and phone-like metadata.

    Like an iPhone video: `creation_time` in the movie header (UTC), Apple QuickTime keys
    (`com.apple.quicktime.creationdate` with the local UTC offset when `created_at` has a
    tzinfo, `...location.ISO6709`, `...make`, `...model`), plus the 3GPP location atom.
    `faststart` puts the headers (moov) before the media data, as phones and streaming sites do.
    """
    frames = max(1, round(seconds * fps))
    width, height = width - width % 2, height - height % 2
    flags = "use_metadata_tags+faststart" if faststart else "use_metadata_tags"
    with av.open(str(path), mode="w", format="mp4", options={"movflags": flags}) as container:
        tags = container.metadata
        tags["com.apple.quicktime.make"], tags["com.apple.quicktime.model"] = make, model
        if created_at is not None:
            when = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
            tags["creation_time"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            if created_at.tzinfo is not None:
                tags["com.apple.quicktime.creationdate"] = created_at.strftime("%Y-%m-%dT%H:%M:%S%z")
        if location is not None:
            tags["location"] = iso6709(*location)
            tags["com.apple.quicktime.location.ISO6709"] = iso6709(*location)
        stream = cast(VideoStream, container.add_stream(video_codec(), rate=fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
        if stream.codec_context.name == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for index in range(frames):
            picture = _picture(width, height, seed, f"#{seed} frame {index}", phase=index / fps)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _tone(seconds: float, sample_rate: int, seed: int, chunk: int = 1024) -> Iterator[bytes]:
    rng = random.Random(seed)  # noqa: S311 - deterministic material, not secrets
    frequencies = [rng.uniform(180.0, 880.0) for _ in range(3)]
    total = max(1, round(seconds * sample_rate))
    for start in range(0, total, chunk):
        samples = array(
            "h",
            (int(6000 * sum(math.sin(2 * math.pi * f * (start + i) / sample_rate) for f in frequencies))
             for i in range(min(chunk, total - start))),
        )  # fmt: skip
        yield samples.tobytes()


def make_audio(path: Path, seconds: float = 2.0, *, seed: int = 0, sample_rate: int = 22050) -> Path:
    """Write mono audio: 16-bit PCM WAV for a .wav path, AAC in an MP4 (.m4a) container otherwise."""
    is_wav = path.suffix.lower() == ".wav"
    with av.open(str(path), mode="w", format="wav" if is_wav else "ipod") as container:
        stream = container.add_stream("pcm_s16le" if is_wav else "aac", rate=sample_rate)
        stream.layout = "mono"
        if not is_wav:
            stream.bit_rate = 64_000
        pts = 0
        for block in _tone(seconds, sample_rate, seed):
            count = len(block) // 2
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(block)
            frame.sample_rate, frame.pts, frame.time_base = sample_rate, pts, Fraction(1, sample_rate)
            pts += count
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def make_text_note(path: Path, text: str) -> Path:
    """Write a UTF-8 text note (a witness statement, a field note)."""
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path
