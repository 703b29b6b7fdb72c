"""Near-duplicate media: perceptual fingerprints, their comparison rules, and clustering.

Pure rules, no I/O. An image has one 256-bit PDQ hash; a video has the PDQ hashes of frames
sampled by time (vPDQ). Hashes are 64 hex characters; distance is Hamming distance in bits.
Every hash also carries the hash of the horizontally mirrored picture, so a flipped copy still
matches (PDQ itself is not flip-invariant). Images carry a second PDQ hash of their central region
(the middle 70% of each side), the "cheap hash that helps": burnt-in captions, logos and borders
live at the edges, so the centre stays the same when the whole picture no longer does. Two
pictures match when either their whole-picture or their centre hashes are within the distance.

vPDQ comparison follows Meta's documented algorithm (ThreatExchange vpdq/README.md): frames below
a quality tolerance are ignored, each video is a *set* of unique frame hashes, a frame matches when
some frame of the other video is within the distance tolerance, and the two match percentages
(query frames matched, compared frames matched) decide. Because an archive cannot know which copy
is "the query", a pair matches when either video is contained in the other to at least
`video_match_percent` -- that is what lets a 5-second clip match the long video it was cut from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

HASH_BITS = 256
HASH_HEX = HASH_BITS // 4

KIND_PDQ = "pdq"
KIND_VPDQ = "vpdq"

STATUS_OK = "ok"
STATUS_LOW_QUALITY = "low_quality"
STATUS_FAILED = "failed"


@dataclass(frozen=True)
class DedupSettings:
    """Thresholds; defaults justified in bench/RESULTS.md (accuracy benchmark).

    - image_distance: max PDQ Hamming distance for two images to be copies.
    - frame_distance: max distance for two video frames to match (vPDQ's D).
    - min_quality: PDQ quality below which a hash is not trusted (vPDQ's F; PDQ's own advice).
    - video_match_percent: containment needed for two videos (vPDQ's P, applied both ways).
    - sample_fps: frames hashed per second of video (vPDQ samples by time, not keyframes).
    - max_frames: frames hashed per video at most (a ten-hour stream is not hashed at 1 fps).
    - frame_side: video frames are scaled to fit this many pixels before hashing (speed); 0 hashes
      them at full resolution, which gives hashes bit-identical to Meta's vpdq (interchangeable).
    - max_pixels: larger images are decoded reduced (JPEG) or refused (others).
    """

    image_distance: int = 31
    frame_distance: int = 31
    min_quality: int = 50
    video_match_percent: int = 75
    sample_fps: float = 1.0
    max_frames: int = 3600
    frame_side: int = 256
    max_pixels: int = 120_000_000

    @classmethod
    def from_mapping(cls, raw: dict[str, object]) -> DedupSettings:
        """Build from a `[dedup]` table, rejecting unknown keys and out-of-range values."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown [dedup] setting(s): {', '.join(unknown)}")
        values: dict[str, object] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"[dedup] {key} must be a number")
            values[key] = float(value) if key == "sample_fps" else int(value)
        settings = cls(**values)  # type: ignore[arg-type]
        for name in ("image_distance", "frame_distance"):
            if not 0 <= int(getattr(settings, name)) < HASH_BITS // 2:
                raise ValueError(f"[dedup] {name} must be between 0 and {HASH_BITS // 2 - 1}")
        if not 0 <= settings.min_quality <= 100 or not 0 < settings.video_match_percent <= 100:
            raise ValueError("[dedup] min_quality must be 0-100 and video_match_percent 1-100")
        if not 0 < settings.sample_fps <= 30 or settings.max_frames < 1 or settings.max_pixels < 1:
            raise ValueError("[dedup] sample_fps must be in (0, 30], max_frames and max_pixels positive")
        if settings.frame_side != 0 and settings.frame_side < 64:
            raise ValueError("[dedup] frame_side must be 0 (full resolution) or at least 64")
        return settings


@dataclass(frozen=True)
class FrameHash:
    """One hashed picture: an image (frame 0) or a video frame at `timestamp_ms`."""

    frame: int
    timestamp_ms: int
    quality: int
    hash: str
    flipped: str
    center: str | None = None
    center_flipped: str | None = None


@dataclass(frozen=True)
class Fingerprint:
    """What the fingerprinter made of one file. A failure is data: status and reason."""

    kind: str  # pdq | vpdq
    status: str  # ok | low_quality | failed
    algorithm: str
    frames: tuple[FrameHash, ...] = ()
    reason: str | None = None
    duration_ms: int | None = None

    @property
    def quality(self) -> int:
        return max((f.quality for f in self.frames), default=0)

    def usable_frames(self, min_quality: int) -> list[FrameHash]:
        return [f for f in self.frames if f.quality >= min_quality]


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    if len(a) != len(b):
        raise ValueError("hashes of different lengths")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def frame_distance(query: FrameHash, other: FrameHash) -> int:
    """Distance allowing for a mirrored copy and for damaged edges: the smallest of the whole
    pictures (straight or mirrored) and of their centres (straight or mirrored)."""
    return _closest(_ints(query), int(other.hash, 16), _centre(other))


def _ints(frame: FrameHash) -> tuple[int, int, int | None, int | None]:
    centre = int(frame.center, 16) if frame.center else None
    centre_flipped = int(frame.center_flipped, 16) if frame.center_flipped else None
    return int(frame.hash, 16), int(frame.flipped, 16), centre, centre_flipped


def _centre(frame: FrameHash) -> int | None:
    return int(frame.center, 16) if frame.center else None


def _closest(query: tuple[int, int, int | None, int | None], other: int, other_centre: int | None) -> int:
    best = min((query[0] ^ other).bit_count(), (query[1] ^ other).bit_count())
    if other_centre is not None and query[2] is not None and query[3] is not None:
        best = min(best, (query[2] ^ other_centre).bit_count(), (query[3] ^ other_centre).bit_count())
    return best


@dataclass(frozen=True)
class FramePair:
    query_ms: int
    other_ms: int
    distance: int


@dataclass
class VideoComparison:
    query_percent: float
    other_percent: float
    pairs: list[FramePair] = field(default_factory=list)

    @property
    def containment(self) -> float:
        return max(self.query_percent, self.other_percent)


def _unique(frames: Iterable[FrameHash], min_quality: int) -> list[FrameHash]:
    seen: set[str] = set()
    out = []
    for frame in frames:
        if frame.quality >= min_quality and frame.hash not in seen:
            seen.add(frame.hash)
            out.append(frame)
    return out


def compare_videos(
    query: Sequence[FrameHash], other: Sequence[FrameHash], settings: DedupSettings
) -> VideoComparison:
    """vPDQ's brute-force comparison of two bags of frame hashes (see module docstring)."""
    q = _unique(query, settings.min_quality)
    c = _unique(other, settings.min_quality)
    if not q or not c:
        return VideoComparison(0.0, 0.0)
    q_ints = [_ints(f) for f in q]
    c_ints = [(int(f.hash, 16), _centre(f)) for f in c]
    c_matched = [False] * len(c)
    pairs: list[FramePair] = []
    q_count = 0
    for qf, probe in zip(q, q_ints, strict=True):
        best: tuple[int, int] | None = None
        for j, (ch, c_centre) in enumerate(c_ints):
            d = _closest(probe, ch, c_centre)
            if d <= settings.frame_distance:
                c_matched[j] = True
                if best is None or d < best[0]:
                    best = (d, j)
        if best is not None:
            q_count += 1
            pairs.append(FramePair(qf.timestamp_ms, c[best[1]].timestamp_ms, best[0]))
    return VideoComparison(100.0 * q_count / len(q), 100.0 * sum(c_matched) / len(c), pairs)


def videos_match(comparison: VideoComparison, settings: DedupSettings) -> bool:
    return comparison.containment >= settings.video_match_percent


def similarity(dist: int) -> float:
    """Hamming distance as a 0..1 similarity (1 = identical hashes)."""
    return round(1.0 - dist / HASH_BITS, 4)


class UnionFind:
    """Disjoint sets over hashable keys, with path halving and union by size."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.size: dict[str, int] = {}

    def add(self, key: str) -> None:
        if key not in self.parent:
            self.parent[key] = key
            self.size[key] = 1

    def find(self, key: str) -> str:
        self.add(key)
        parent = self.parent
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for key in self.parent:
            out.setdefault(self.find(key), []).append(key)
        return list(out.values())


@dataclass(frozen=True)
class NearMatch:
    """A recorded near-duplicate pair: `item_id` (the newer) looks like `other_id` (already held).

    kind: image (PDQ vs PDQ), video (vPDQ vs vPDQ) or frame (an image found in a video, either way).
    `distance` is the best frame/image Hamming distance; `percent` the vPDQ containment (integer
    percent; custody entries hold no floats); `frames` lists [query ms, other ms, distance].
    """

    item_id: str
    other_id: str
    kind: str
    distance: int
    percent: int
    frames: tuple[tuple[int, int, int], ...] = ()
