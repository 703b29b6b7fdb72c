"""Video and audio redaction with PyAV: every frame decoded, obscured and re-encoded (H.264 where
available) into a fresh MP4 that carries no tags of the source; audio re-encoded to AAC, dropped
(`mute`) or distorted (`distort_voice`: ring modulation by a carrier whose frequency wanders
at random around 50-110 Hz, which removes the voice's pitch and timbre but keeps words mostly
intelligible; the random carrier is not stored, making the distortion harder to undo than a fixed
one. It is still not anonymisation: see docs/protection.md)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import av
import numpy as np

from hujjat.domain.errors import UsageError
from hujjat.processing.redaction.media import RedactionOptions, RedactionResult, redact_frame

RING_HZ = 80.0
RING_SWING_HZ = 30.0


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
            carrier = _Carrier()
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
                        frame = _ring_modulate(frame, carrier)
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
        result.notes.append("audio ring-modulated by a randomly wandering carrier")
    return result


class _Carrier:
    """A sine whose frequency drifts around RING_HZ along a random, unrecorded path."""

    def __init__(self) -> None:
        rng = np.random.default_rng(int.from_bytes(os.urandom(8), "big"))
        self.base = RING_HZ + rng.uniform(-RING_SWING_HZ / 3, RING_SWING_HZ / 3)
        self.wobble = rng.uniform(0.15, 0.6)
        self.offset = rng.uniform(0, 2 * np.pi)
        self.phase = 0.0
        self.time = 0.0

    def next(self, count: int, rate: int) -> np.ndarray[Any, Any]:
        t = self.time + np.arange(count, dtype=np.float64) / rate
        freq = self.base + RING_SWING_HZ * np.sin(2 * np.pi * self.wobble * t + self.offset)
        phases = self.phase + 2 * np.pi * np.cumsum(freq) / rate
        self.phase = float(phases[-1]) if count else self.phase
        self.time += count / rate
        return np.sin(phases).astype(np.float32)


def _ring_modulate(frame: av.AudioFrame, carrier: _Carrier) -> av.AudioFrame:
    samples = frame.to_ndarray().astype(np.float32)
    rate = frame.sample_rate
    wave = carrier.next(frame.samples, rate)
    fmt = frame.format.name
    if frame.format.is_planar:
        shaped = samples * wave[None, :]
    else:
        shaped = (samples.reshape(-1, len(frame.layout.channels)) * wave[:, None]).reshape(samples.shape)
    if fmt.startswith("s16"):
        shaped = np.clip(shaped, -32768, 32767)
    typed: Any = shaped.astype(np.int16) if fmt.startswith("s16") else shaped.astype(np.float32)
    new = av.AudioFrame.from_ndarray(typed, format=fmt, layout=frame.layout.name)
    new.sample_rate = rate
    return new
