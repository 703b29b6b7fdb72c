"""Video and audio redaction with PyAV: every frame decoded, obscured and re-encoded (H.264 where
available) into a fresh MP4 that carries no tags of the source; audio re-encoded to AAC, dropped
(`mute`) or distorted (`distort_voice`: ring modulation, which removes the voice's pitch and
timbre but keeps words mostly intelligible)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import av
import numpy as np

from hujjat.domain.errors import UsageError
from hujjat.processing.redaction.media import RedactionOptions, RedactionResult, redact_frame

RING_HZ = 55.0


def _video_codec() -> str:
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def redact_av(
    source: Path, media_type: str, dest_dir: Path, options: RedactionOptions,
    progress: Callable[[int], None] | None = None,
) -> RedactionResult:
    try:
        src = av.open(str(source))
    except (av.error.FFmpegError, OSError) as exc:
        raise UsageError(f"cannot read the media file: {exc}") from None
    with src:
        video_in = src.streams.video[0] if src.streams.video else None
        audio_in = src.streams.audio[0] if src.streams.audio and not options.mute else None
        if video_in is None and audio_in is None:
            raise UsageError("nothing left to write: no video, and the audio is muted")
        suffix, fmt, out_type = (".mp4", "mp4", "video/mp4") if video_in is not None else (".m4a", "ipod", "audio/mp4")
        path = dest_dir / f"redacted{suffix}"
        result = RedactionResult(path, out_type)
        with av.open(str(path), mode="w", format=fmt, options={"fflags": "+bitexact"}) as out:
            video_out = audio_out = None
            if video_in is not None:
                rate = video_in.average_rate or 25
                video_out = cast(Any, out.add_stream(_video_codec(), rate=rate))
                ctx = video_in.codec_context
                video_out.width, video_out.height = ctx.width - ctx.width % 2, ctx.height - ctx.height % 2
                video_out.pix_fmt = "yuv420p"
                if video_out.codec_context.name == "libx264":
                    video_out.options = {"preset": "veryfast", "crf": "20"}
            if audio_in is not None:
                audio_out = cast(Any, out.add_stream("aac", rate=audio_in.codec_context.sample_rate or 44100))
            streams = [s for s in (video_in, audio_in) if s is not None]
            phase = 0.0
            for frame in src.decode(*streams):
                if isinstance(frame, av.VideoFrame) and video_out is not None:
                    rgb = frame.to_ndarray(format="rgb24")[: video_out.height, : video_out.width].copy()
                    result.faces_found += redact_frame(rgb, options)
                    result.frames += 1
                    new = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    for packet in video_out.encode(new):
                        out.mux(packet)
                    if progress is not None:
                        progress(1)
                elif isinstance(frame, av.AudioFrame) and audio_out is not None:
                    if options.distort_voice:
                        frame, phase = _ring_modulate(frame, phase)
                    frame.pts = None
                    for packet in audio_out.encode(frame):
                        out.mux(packet)
            for stream in (video_out, audio_out):
                if stream is not None:
                    for packet in stream.encode(None):
                        out.mux(packet)
    if options.mute:
        result.notes.append("audio removed")
    elif options.distort_voice:
        result.notes.append(f"audio ring-modulated at {RING_HZ:.0f} Hz")
    return result


def _ring_modulate(frame: av.AudioFrame, phase: float) -> tuple[av.AudioFrame, float]:
    samples = frame.to_ndarray().astype(np.float32)
    rate = frame.sample_rate
    count = frame.samples
    t = phase + np.arange(count, dtype=np.float64) / rate
    carrier = np.sin(2 * np.pi * RING_HZ * t).astype(np.float32)
    fmt = frame.format.name
    if frame.format.is_planar:
        shaped = samples * carrier[None, :]
    else:
        shaped = (samples.reshape(-1, len(frame.layout.channels)) * carrier[:, None]).reshape(samples.shape)
    if fmt.startswith("s16"):
        shaped = np.clip(shaped, -32768, 32767)
    typed: Any = shaped.astype(np.int16) if fmt.startswith("s16") else shaped.astype(np.float32)
    new = av.AudioFrame.from_ndarray(typed, format=fmt, layout=frame.layout.name)
    new.sample_rate = rate
    return new, phase + count / rate
