"""Video and audio metadata with PyAV (FFmpeg): container, streams, duration and tags.

FFmpeg reads only the container's headers and a few packets to probe the streams, so a
multi-GB video costs the same as a small one and is never loaded into memory. Location and
capture time come from the tags phones write: iPhone QuickTime keys
(`com.apple.quicktime.location.ISO6709`, `com.apple.quicktime.creationdate`, with its UTC
offset), Android/3GPP `location` (ISO 6709 as well), and the container `creation_time`, which
MP4 and Matroska define as UTC.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from hujjat.processing.metadata_values import (
    Findings,
    clean_text,
    fraction_text,
    jsonable,
    make_camera,
    make_captured_at,
    one_line,
    parse_iso6709,
)

LOCATION_TAGS = ("com.apple.quicktime.location.iso6709", "location", "location-eng")  # lower case
APPLE_CREATIONDATE = "com.apple.quicktime.creationdate"
MAKE_TAGS = ("com.apple.quicktime.make", "com.android.manufacturer", "make")
MODEL_TAGS = ("com.apple.quicktime.model", "com.android.model", "model")
AV_TIME_BASE = 1_000_000


class AVReadError(Exception):
    """FFmpeg could not open the file as media; the message is the one-line reason."""


def read_av(path: Path, findings: Findings, raw: dict[str, Any]) -> str | None:
    """Fill `findings` and `raw` from the container at `path`.

    Returns None when the file is sound, or a one-line reason when its headers were read but
    its media data is cut short or corrupt. Raises AVReadError when it cannot be read at all.
    """
    try:
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise AVReadError(f"not readable as audio/video: {one_line(error)}") from error
    try:
        with container:
            _read_container(container, findings, raw)
            if not findings.streams:
                raise AVReadError("no audio or video streams found (truncated, or not media)")
            return _check_end(container)
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        raise AVReadError(f"audio/video headers unreadable: {one_line(error)}") from error


def _check_end(container: Any) -> str | None:
    """Demux the last stretch of the main stream (from the last keyframe a second before the end):
    a cut-off file has its last packets missing or marked corrupt. Reads about one keyframe
    interval, not the whole file."""
    stream = next(iter(container.streams.video), None) or next(iter(container.streams.audio), None)
    if stream is None or not container.duration or container.duration <= 0:
        return None
    try:
        margin = min(
            container.duration // 2, AV_TIME_BASE
        )  # WAV-like formats seek exactly, not to a keyframe
        container.seek(container.duration - margin, backward=True, any_frame=False)
        packets = corrupt = 0
        for packet in container.demux(stream):
            if packet.size:
                packets += 1
                corrupt += bool(packet.is_corrupt)
    except av.FFmpegError as error:
        return f"media data unreadable near the end: {one_line(error)}"
    if corrupt or not packets:
        return "media data cut short: the last packets are missing or corrupt (truncated file?)"
    return None


def _read_container(container: Any, findings: Findings, raw: dict[str, Any]) -> None:
    findings.container = container.format.name
    tags: dict[str, str] = dict(container.metadata)
    raw["av_format_tags"] = jsonable(tags)
    if container.duration is not None and container.duration > 0:
        findings.duration = fraction_text(Fraction(container.duration, AV_TIME_BASE))
    if container.bit_rate:
        findings.extra["bit_rate"] = int(container.bit_rate)
    stream_tags: list[dict[str, Any]] = []
    for stream in container.streams:
        findings.streams.append(_describe_stream(stream))
        stream_tags.append(jsonable(dict(stream.metadata)))
    raw["av_stream_tags"] = stream_tags
    video = next((s for s in findings.streams if s["kind"] == "video" and s.get("width")), None)
    if video is not None:
        findings.width, findings.height = video["width"], video["height"]
    if findings.duration is None:
        durations = [s["duration"] for s in findings.streams if s.get("duration")]
        findings.duration = max(durations, key=Fraction) if durations else None
    _interpret_tags(tags, [dict(stream.metadata) for stream in container.streams], findings)


def _describe_stream(stream: Any) -> dict[str, Any]:
    described: dict[str, Any] = {"index": int(stream.index), "kind": str(stream.type)}
    context = stream.codec_context
    if context is not None:
        described["codec"] = context.name
        if stream.type == "video":
            described["width"], described["height"] = int(context.width), int(context.height)
            if stream.average_rate:
                described["frame_rate"] = fraction_text(Fraction(stream.average_rate), 3)
            if context.pix_fmt:
                described["pixel_format"] = str(context.pix_fmt)
        elif stream.type == "audio":
            described["sample_rate"] = int(context.sample_rate)
            described["channels"] = int(context.channels)
        if context.bit_rate:
            described["bit_rate"] = int(context.bit_rate)
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        described["duration"] = fraction_text(stream.duration * Fraction(stream.time_base))
    if stream.frames:
        described["frames"] = int(stream.frames)
    language = stream.metadata.get("language")
    if language and language != "und":
        described["language"] = clean_text(language)
    return described


def _interpret_tags(tags: dict[str, str], stream_tags: list[dict[str, str]], findings: Findings) -> None:
    """Tag names compared without case: Matroska writes `LOCATION`, MP4 `location`."""
    container_tags = _lower_keys(tags)
    everywhere = [container_tags, *(_lower_keys(each) for each in stream_tags)]
    for source in everywhere:
        for key in LOCATION_TAGS:
            if key in source and findings.location is None:
                location = parse_iso6709(source[key], findings.warnings, f"tag {key}")
                findings.set_location(location, f"av.{key}")
    apple_date = container_tags.get(APPLE_CREATIONDATE)
    stamp = make_captured_at(apple_date, findings.warnings, f"tag {APPLE_CREATIONDATE}")
    findings.set_captured_at(stamp, f"av.{APPLE_CREATIONDATE}")
    for source in everywhere:
        if findings.captured_at is None:
            stamp = make_captured_at(
                source.get("creation_time"), findings.warnings, "tag creation_time", assume_utc=True
            )
            findings.set_captured_at(stamp, "av.creation_time")
    make = next((container_tags[key] for key in MAKE_TAGS if key in container_tags), None)
    model = next((container_tags[key] for key in MODEL_TAGS if key in container_tags), None)
    findings.camera = make_camera(make, model)


def _lower_keys(tags: dict[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in tags.items()}
