"""Clusters of copies (`hujjat clusters`) and the "seen before" summary that `hujjat show` prints.

Clustering joins pairs of copies with union-find. By default the pairs are the matches recorded
when each item was fingerprinted (every new item is searched against everything already held, so
the recorded matches are the whole graph, built incrementally): clustering a million items is then
a pass over the recorded pairs. `rescan` recomputes the pairs with the current settings instead:
every indexed hash (and its mirror) is range-searched in batches, and each pair of items with a
hit is confirmed with the same rules as `similar` (PDQ distance for two images, vPDQ containment
when a video is involved). Each cluster lists its members, their sources (acquisitions, and posts when
the posts feature is installed) and the earliest known appearance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from hujjat.domain.errors import UsageError
from hujjat.domain.near_duplicates import KIND_PDQ, STATUS_OK, UnionFind
from hujjat.ports import Transaction
from hujjat.ports.fingerprints import HashIndex
from hujjat.services.context import ArchivePorts
from hujjat.services.dedup import compare, require_fingerprinter, sync_index

SEARCH_BATCH = 4096
VERIFY_BATCH = 500
SORTS = ("size", "earliest")


def candidate_pairs(
    index: HashIndex,
    rows: Sequence[tuple[int, str, str, str]],
    radius: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[str, str], int]:
    """(item a, item b) -> smallest distance between any of their hashes (a < b), from range
    searches of every row's hash and mirrored hash. `rows` are (row id, item id, hash, mirror)."""
    owner = {row_id: item for row_id, item, _, _ in rows}
    best: dict[tuple[str, str], int] = {}
    for start in range(0, len(rows), SEARCH_BATCH):
        batch = rows[start : start + SEARCH_BATCH]
        queries = [r[2] for r in batch] + [r[3] for r in batch]
        for position, found in enumerate(index.search(queries, radius)):
            mine = batch[position % len(batch)][1]
            for row_id, dist in found:
                other = owner.get(row_id)
                if other is None or other == mine:
                    continue
                key = (mine, other) if mine < other else (other, mine)
                if dist < best.get(key, radius + 1):
                    best[key] = dist
        if progress is not None:
            progress(min(start + SEARCH_BATCH, len(rows)), len(rows))
    return best


def recorded_cluster_ids(ports: ArchivePorts) -> list[list[str]]:
    """Groups of item ids joined by recorded matches (groups of one left out)."""
    require_fingerprinter(ports)
    groups = UnionFind()
    with ports.uow(read_only=True) as tx:
        for a, b in tx.fingerprints.iter_match_pairs():
            groups.union(a, b)
    return [sorted(g) for g in groups.groups() if len(g) > 1]


def cluster_ids(ports: ArchivePorts, progress: Callable[[int, int], None] | None = None) -> list[list[str]]:
    """Groups of item ids that are copies of each other under the current settings, searched anew
    (groups of one left out)."""
    engine = require_fingerprinter(ports)
    settings = engine.settings
    with engine.exclusive():
        sync_index(ports, engine)
        with ports.uow(read_only=True) as tx:
            rows = list(tx.fingerprints.iter_frames(settings.min_quality))
        radius = max(settings.image_distance, settings.frame_distance)
        pairs = candidate_pairs(engine.index, rows, radius, progress)
    groups = UnionFind()
    ordered = sorted(pairs.items())
    for start in range(0, len(ordered), VERIFY_BATCH):
        chunk = ordered[start : start + VERIFY_BATCH]
        with ports.uow(read_only=True) as tx:
            prints = tx.fingerprints.get_many([i for (a, b), _ in chunk for i in (a, b)])
        for (a, b), dist in chunk:
            fa, fb = prints.get(a), prints.get(b)
            if fa is None or fb is None or STATUS_OK not in (fa.status, fb.status) or fa.status != fb.status:
                continue
            if fa.kind == KIND_PDQ and fb.kind == KIND_PDQ:
                confirmed = dist <= settings.image_distance
            else:
                confirmed = compare(a, fa, b, fb, settings) is not None
            if confirmed:
                groups.union(a, b)
    return [sorted(g) for g in groups.groups() if len(g) > 1]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def item_sources(tx: Transaction, item_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For each item: sha256, media type, acquisitions, posts, and its earliest appearance."""
    ids = list(dict.fromkeys(item_ids))
    posts = tx.fingerprints.post_appearances(ids)
    out: dict[str, dict[str, Any]] = {}
    for item_id in ids:
        item = tx.items.get(item_id)
        if item is None:
            continue
        sources: list[dict[str, Any]] = []
        times: list[tuple[datetime, str]] = []
        for acq in tx.items.acquisitions(item_id):
            sources.append(
                {
                    "kind": acq.source_kind,
                    "source": acq.source,
                    "path": acq.path,
                    "acquired_at": _iso(acq.acquired_at),
                }
            )
            times.append((acq.acquired_at, "acquired"))
        for chat, message, date in posts.get(item_id, []):
            sources.append(
                {"kind": "post", "source": f"{chat}/{message}", "path": None, "posted_at": _iso(date)}
            )
            if date is not None:
                times.append((date, "posted"))
        first = min(times) if times else None
        out[item_id] = {
            "id": item_id,
            "sha256": item.sha256,
            "media_type": item.media_type,
            "sources": sources,
            "first_seen": _iso(first[0]) if first else None,
            "first_seen_as": first[1] if first else None,
        }
    return out


def _distinct_sources(members: Iterable[dict[str, Any]]) -> int:
    keys = {(s["kind"], s["source"] or s["path"]) for m in members for s in m["sources"]}
    return len(keys)


def clusters(
    ports: ArchivePorts,
    sort: str = "size",
    progress: Callable[[int, int], None] | None = None,
    rescan: bool = False,
) -> dict[str, Any]:
    if sort not in SORTS:
        raise UsageError(f"--sort must be one of: {', '.join(SORTS)}")
    groups = cluster_ids(ports, progress) if rescan else recorded_cluster_ids(ports)
    result: list[dict[str, Any]] = []
    with ports.uow(read_only=True) as tx:
        for group in groups:
            members = item_sources(tx, group)
            ordered = sorted(members.values(), key=lambda m: (m["first_seen"] or "~", m["id"]))
            result.append(
                {
                    "size": len(ordered),
                    "sources": _distinct_sources(ordered),
                    "earliest": {
                        "id": ordered[0]["id"],
                        "sha256": ordered[0]["sha256"],
                        "at": ordered[0]["first_seen"],
                        "as": ordered[0]["first_seen_as"],
                    },
                    "members": ordered,
                }
            )
    if sort == "size":
        result.sort(key=lambda c: (-c["size"], c["earliest"]["at"] or "~"))
    else:
        result.sort(key=lambda c: (c["earliest"]["at"] or "~", -c["size"]))
    for number, cluster in enumerate(result, 1):
        cluster["cluster"] = number
    return {"clusters": result, "total": len(result), "items": sum(c["size"] for c in result)}


def near_duplicate_summary(tx: Transaction, item_id: str, limit: int = 200) -> dict[str, Any] | None:
    """Recorded matches of the item, followed transitively (copies of copies), as shown by
    `hujjat show`: how many distinct sources carried this picture and when it was first seen."""
    seen = {item_id}
    frontier = [item_id]
    direct: list[dict[str, Any]] = []
    while frontier and len(seen) < limit:
        current = frontier.pop()
        for match in tx.fingerprints.matches_for(current):
            other = match.other_id if match.item_id == current else match.item_id
            if current == item_id:
                direct.append(
                    {"id": other, "kind": match.kind, "distance": match.distance, "percent": match.percent}
                )
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    if len(seen) == 1:
        return None
    members = item_sources(tx, sorted(seen))
    ordered = sorted(members.values(), key=lambda m: (m["first_seen"] or "~", m["id"]))
    for entry in direct:
        entry["sha256"] = members.get(entry["id"], {}).get("sha256")
    return {
        "copies": len(seen) - 1,
        "sources": _distinct_sources(ordered),
        "first_seen": ordered[0]["first_seen"],
        "first_item": ordered[0]["id"],
        "matches": direct,
    }
