"""Synthetic pictures and videos, and the transformations reposts apply to them, for the
near-duplicate accuracy benchmark (bench/near_dup_accuracy.py) and tests. Nothing downloaded.

Scenes mix gradients, shapes, text and noise from a seed, so distinct seeds give distinct
pictures; videos are a sequence of shots (a new scene every `shot_s` seconds) with moving shapes,
so a sub-clip shares some shots, not all, with its source.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

WORDS = (
    "raid",
    "market",
    "convoy",
    "checkpoint",
    "school",
    "hospital",
    "bridge",
    "shelter",
    "smoke",
    "crowd",
)


def scene(seed: int, width: int = 320, height: int = 240) -> Image.Image:
    """A picture unlike any other seed's: a gradient, shapes, words and a patch of noise."""
    rnd = random.Random(seed)  # noqa: S311 - reproducible test pictures, not secrets
    c1 = tuple(rnd.randrange(256) for _ in range(3))
    c2 = tuple(rnd.randrange(256) for _ in range(3))
    image = Image.linear_gradient("L").resize((width, height)).rotate(rnd.randrange(360))
    image = Image.composite(
        Image.new("RGB", (width, height), c1), Image.new("RGB", (width, height), c2), image
    )
    draw = ImageDraw.Draw(image)
    for _ in range(rnd.randint(4, 10)):
        x, y = rnd.randrange(width), rnd.randrange(height)
        w, h = rnd.randint(width // 10, width // 2), rnd.randint(height // 10, height // 2)
        colour = tuple(rnd.randrange(256) for _ in range(3))
        shape = rnd.choice((draw.ellipse, draw.rectangle))
        shape((x, y, x + w, y + h), fill=colour)
    font = ImageFont.load_default()
    for _ in range(rnd.randint(1, 4)):
        text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 3)))
        draw.text(
            (rnd.randrange(width // 2), rnd.randrange(height - 12)), text, fill=(255, 255, 255), font=font
        )
    size = (width // 4, height // 4)
    noise = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))  # seeded, unlike effect_noise
    image.paste(noise, (rnd.randrange(width - width // 4), rnd.randrange(height - height // 4)))
    return image


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def caption(image: Image.Image, text: str = "BREAKING: footage from the scene") -> Image.Image:
    """A burnt-in caption: a dark band across the bottom with white text."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    band = max(14, out.height // 8)
    draw.rectangle((0, out.height - band, out.width, out.height), fill=(0, 0, 0))
    draw.text((6, out.height - band + 2), text, fill=(255, 255, 255), font=ImageFont.load_default())
    return out


def watermark(image: Image.Image) -> Image.Image:
    """A semi-transparent logo in a corner, as channels stamp their name."""
    out = image.convert("RGBA")
    logo = Image.new("RGBA", (out.width // 4, out.height // 6), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((0, 0, logo.height, logo.height), fill=(255, 255, 255, 150))
    draw.text((logo.height + 3, logo.height // 3), "@channel", fill=(255, 255, 255, 200))
    out.alpha_composite(logo, (out.width - logo.width - 4, 4))
    return out.convert("RGB")


def crop10(image: Image.Image) -> Image.Image:
    """Crop 10% of the area away: 5% of each dimension on each side, about."""
    dx, dy = round(image.width * 0.026), round(image.height * 0.026)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


IMAGE_TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "jpeg_q30": lambda im: _jpeg(im, 30),
    "resize_50": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.BILINEAR),
    "crop_10": crop10,
    "caption": caption,
    "watermark": watermark,
    "flip": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "brightness": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
}


def _moving(base: Image.Image, t: float, seed: int) -> Image.Image:
    frame = base.copy()
    rnd = random.Random(seed)  # noqa: S311 - reproducible test pictures, not secrets
    draw = ImageDraw.Draw(frame)
    for _ in range(2):
        speed = rnd.uniform(10, 30)
        x = int((rnd.randrange(frame.width) + speed * t) % frame.width)
        y = rnd.randrange(frame.height - 20)
        draw.rectangle((x, y, x + 16, y + 16), fill=tuple(rnd.randrange(256) for _ in range(3)))
    return frame


def write_video(
    path: Path,
    seed: int,
    *,
    seconds: float = 10.0,
    fps: int = 8,
    size: tuple[int, int] = (160, 120),
    shot_s: float = 2.0,
    bit_rate: int = 400_000,
    start_s: float = 0.0,
    frame_filter: Callable[[Image.Image], Image.Image] | None = None,
) -> Path:
    """An MPEG-4 video of shots (one scene per `shot_s`), from `start_s` for `seconds`."""
    shots: dict[int, Image.Image] = {}
    with av.open(str(path), mode="w") as container:
        stream = cast(Any, container.add_stream("mpeg4", rate=fps))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = bit_rate
        stream.codec_context.time_base = Fraction(1, fps)
        for n in range(round(seconds * fps)):
            t = start_s + n / fps
            shot = int(t // shot_s)
            if shot not in shots:
                shots[shot] = scene(seed * 1000 + shot, *size)
            picture = _moving(shots[shot], t, seed * 1000 + shot)
            if frame_filter is not None:
                picture = frame_filter(picture).resize(size)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = n
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def reencode(
    source: Path, target: Path, *, bit_rate: int = 120_000, start_s: float = 0.0, seconds: float = 0.0
) -> Path:
    """Decode `source` and encode it again at a lower bit rate and another frame rate (a
    re-upload), optionally keeping only [start_s, start_s + seconds) (a sub-clip)."""
    with av.open(str(source)) as src, av.open(str(target), mode="w") as dst:
        video = src.streams.video[0]
        rate = 6
        out = cast(Any, dst.add_stream("mpeg4", rate=rate))
        out.width, out.height = video.codec_context.width, video.codec_context.height
        out.pix_fmt = "yuv420p"
        out.bit_rate = bit_rate
        out.codec_context.time_base = Fraction(1, rate)
        n = 0
        for frame in src.decode(video):
            t = float(frame.time or 0.0)
            if t < start_s or (seconds and t >= start_s + seconds):
                continue
            while n / rate <= t - start_s:  # resample to the new frame rate by time
                new = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
                new.pts = n
                for packet in out.encode(new):
                    dst.mux(packet)
                n += 1
        for packet in out.encode():
            dst.mux(packet)
    return target
