"""Near-duplicate accuracy: precision and recall per transformation, at several thresholds.

Generates N source pictures and M short videos (synthetic scenes: gradients, shapes, text, noise),
applies the transformations reposts apply, fingerprints everything with the archive's own code
(processing/fingerprints.py) and matches each transformed copy against the distinct originals
with the archive's own rules (services/dedup.compare) after an index search (adapters/hash_index).

A match to the copy's own source is a true positive; a match to any other original is a false
positive; a copy that matches nothing of its source is a miss. Originals are also matched against
each other (all distinct) to count false positives between distinct items.

Run:  .venv/bin/python bench/near_dup_accuracy.py [--images 500] [--videos 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from hujjat.adapters.hash_index import FaissHashIndex
from hujjat.domain.near_duplicates import DedupSettings, Fingerprint
from hujjat.processing.dedup_samples import IMAGE_TRANSFORMS, reencode, scene, write_video
from hujjat.processing.fingerprints import fingerprint_file
from hujjat.services.dedup import compare

THRESHOLDS = (24, 31, 40)


def _images(
    folder: Path, count: int, settings: DedupSettings
) -> tuple[dict[str, Fingerprint], list[tuple[str, str, Fingerprint]]]:
    originals: dict[str, Fingerprint] = {}
    copies: list[tuple[str, str, Fingerprint]] = []
    for n in range(count):
        source = scene(50_000 + n, 256, 192)
        path = folder / f"img{n}.png"
        source.save(path)
        fp = fingerprint_file(path, "image/png", settings)
        assert fp is not None
        originals[f"img{n}"] = fp
        for name, transform in IMAGE_TRANSFORMS.items():
            out = folder / f"img{n}_{name}.jpg"
            transform(source).convert("RGB").save(out, quality=90)
            copy = fingerprint_file(out, "image/jpeg", settings)
            assert copy is not None
            copies.append((f"img{n}", name, copy))
    return originals, copies


def _videos(
    folder: Path, count: int, settings: DedupSettings
) -> tuple[dict[str, Fingerprint], list[tuple[str, str, Fingerprint]]]:
    originals: dict[str, Fingerprint] = {}
    copies: list[tuple[str, str, Fingerprint]] = []
    for n in range(count):
        path = write_video(folder / f"vid{n}.mp4", 70_000 + n, seconds=12)
        fp = fingerprint_file(path, "video/mp4", settings)
        assert fp is not None
        originals[f"vid{n}"] = fp
        variants = {
            "video_reencode": reencode(path, folder / f"vid{n}_re.mp4", bit_rate=60_000),
            "video_subclip_5s": reencode(path, folder / f"vid{n}_clip.mp4", start_s=3.0, seconds=5.0),
        }
        for name, out in variants.items():
            copy = fingerprint_file(out, "video/mp4", settings)
            assert copy is not None
            copies.append((f"vid{n}", name, copy))
    return originals, copies


def _matches(
    query_id: str,
    query: Fingerprint,
    index: FaissHashIndex,
    owners: dict[int, str],
    originals: dict[str, Fingerprint],
    settings: DedupSettings,
) -> set[str]:
    usable = query.usable_frames(settings.min_quality)
    hashes = [h for f in usable for h in (f.hash, f.flipped, f.center, f.center_flipped) if h]
    radius = max(settings.image_distance, settings.frame_distance)
    found = {owners[key] for hits in index.search(hashes, radius) for key, _ in hits}
    found.discard(query_id)
    return {
        other for other in found if compare(query_id, query, other, originals[other], settings) is not None
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--videos", type=int, default=200)
    args = parser.parse_args()
    base = DedupSettings()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image_originals, image_copies = _images(folder, args.images, base)
        video_originals, video_copies = _videos(folder, args.videos, base)
    made = time.perf_counter() - started
    originals = {**image_originals, **video_originals}
    index = FaissHashIndex(None)
    owners: dict[int, str] = {}
    key = 0
    for item_id, fp in originals.items():
        for frame in fp.usable_frames(base.min_quality):
            for digest in (frame.hash, frame.center):
                if digest:
                    key += 1
                    owners[key] = item_id
                    index.add([key], [digest])
    print(
        f"generated and fingerprinted {len(originals)} originals and {len(image_copies) + len(video_copies)} copies in {made:.0f} s"
    )
    print(f"unusable originals: {sum(1 for f in originals.values() if f.status != 'ok')}")
    for threshold in THRESHOLDS:
        settings = replace(base, image_distance=threshold, frame_distance=threshold)
        tp: dict[str, int] = defaultdict(int)
        fp_count: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        for source, name, copy in image_copies + video_copies:
            total[name] += 1
            found = _matches(f"copy:{source}:{name}", copy, index, owners, originals, settings)
            tp[name] += source in found
            fp_count[name] += len(found - {source})
        distinct_fp = (
            sum(len(_matches(i, f, index, owners, originals, settings)) for i, f in originals.items()) // 2
        )
        all_tp, all_fp = sum(tp.values()), sum(fp_count.values()) + distinct_fp
        print(
            f"\n## threshold {threshold} (image and frame distance), vPDQ containment {settings.video_match_percent}%"
        )
        print("| transformation | copies | recall | precision | false matches |")
        print("|---|---|---|---|---|")
        for name in total:
            precision = tp[name] / (tp[name] + fp_count[name]) if tp[name] + fp_count[name] else 1.0
            print(
                f"| {name} | {total[name]} | {tp[name] / total[name]:.3f} | {precision:.3f} | {fp_count[name]} |"
            )
        print(f"| distinct originals vs each other | {len(originals)} | - | - | {distinct_fp} pairs |")
        overall = all_tp / (all_tp + all_fp) if all_tp + all_fp else 1.0
        print(
            f"| **overall** | {sum(total.values())} | {all_tp / sum(total.values()):.3f} | {overall:.4f} | {all_fp} |"
        )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
