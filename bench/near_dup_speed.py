"""Near-duplicate index speed: build time and query latency at 100k and 1M hashes, against a
brute-force numpy Hamming scan measured in the same run, plus clustering throughput.

Data: uniformly random 256-bit hashes (the hardest case for multi-index hashing: no structure to
exploit) with planted near-duplicates at every distance 0..40 from the query hashes, so every
query has answers and the index's answers can be checked against the brute-force scan.

Measured, single-threaded queries (one hash at a time, as at intake):
  - build: adding all hashes to an empty index in 100k batches (incremental adds);
  - query p50/p95/p99 at radius 31 (the default) and 40, one 256-bit hash per query;
  - an image query as the archive makes it (4 hashes: whole, mirrored, centre, mirrored centre);
  - brute force: numpy XOR + bitwise_count over all hashes, same queries;
  - answers compared with brute force (must be identical: the index is exact);
  - clustering: `hujjat clusters` joins the matches recorded at intake (each item was searched
    once when it came in) with union-find -- timed on as many random edges as hashes; and
    `clusters --rescan`, range-searching every hash in batches (2 OpenMP threads) + union-find,
    timed on a sample and extrapolated (`--cluster-all` runs it on all), wall and CPU time (the
    bench machine is shared: CPU time shows the cost when the two cores are ours).

Run:  .venv/bin/python bench/near_dup_speed.py [--sizes 100000 1000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from hujjat.adapters.hash_index import FaissHashIndex
from hujjat.domain.near_duplicates import UnionFind
from hujjat.services.dedup_clusters import candidate_pairs

BATCH = 100_000


def _hex(codes: Any) -> list[str]:
    return [bytes(row).hex() for row in codes]


def _perturb(rng: Any, codes: Any, distances: Any) -> Any:
    bits = np.unpackbits(codes, axis=1)
    for i, d in enumerate(distances):
        flip = rng.choice(256, int(d), replace=False)
        bits[i, flip] ^= 1
    return np.packbits(bits, axis=1)


def _percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return f"p50 {np.percentile(ms, 50):.3f} ms, p95 {np.percentile(ms, 95):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms"


def _brute(words: Any, query: Any, radius: int) -> set[int]:
    dist = np.bitwise_count(words ^ query).sum(axis=1)
    return set(np.nonzero(dist <= radius)[0].tolist())


def run(size: int, queries: int, rng: Any, cluster_sample: int, cluster_all: bool) -> None:
    import faiss

    print(f"\n## {size:,} hashes")
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    query_rows = rng.choice(size, queries, replace=False)
    planted_at = rng.choice(np.setdiff1d(np.arange(size), query_rows), queries, replace=False)
    codes[planted_at] = _perturb(rng, codes[query_rows], np.arange(queries) % 41)
    hashes = _hex(codes)
    ids = np.arange(size, dtype=np.int64)

    index = FaissHashIndex(None)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, size, BATCH):
        index.add(ids[start : start + BATCH].tolist(), hashes[start : start + BATCH])
    build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    words = codes.view(np.uint64).copy()
    brute_build = time.perf_counter() - started
    print(
        f"build: index {build:.1f} s wall, {build_cpu:.1f} s CPU (incremental, {BATCH:,} per add); "
        f"brute force array {brute_build:.2f} s"
    )

    faiss.omp_set_num_threads(1)
    query_hashes = [hashes[i] for i in query_rows]
    for radius in (31, 40):
        times: list[float] = []
        cpu_times: list[float] = []
        mismatches = 0
        answers = []
        for h in query_hashes:
            t, c = time.perf_counter(), time.thread_time()
            found = index.search([h], radius)[0]
            times.append(time.perf_counter() - t)
            cpu_times.append(time.thread_time() - c)
            answers.append(found)
        brute_times: list[float] = []
        brute_cpu: list[float] = []
        for n, row in enumerate(query_rows[: max(50, queries // 10)]):
            t, c = time.perf_counter(), time.thread_time()
            expected = _brute(words, words[row], radius)
            brute_times.append(time.perf_counter() - t)
            brute_cpu.append(time.thread_time() - c)
            mismatches += expected != {i for i, _ in answers[n]}
        ratio = np.percentile(brute_times, 95) / np.percentile(times, 95)
        cpu_ratio = np.percentile(brute_cpu, 95) / np.percentile(cpu_times, 95)
        print(f"radius {radius}: index {_percentiles(times)} (wall)")
        print(f"radius {radius}: index {_percentiles(cpu_times)} (CPU time of the querying thread)")
        print(
            f"radius {radius}: brute force {_percentiles(brute_times)} (wall) -> index p95 {ratio:.0f}x faster"
        )
        print(
            f"radius {radius}: brute force {_percentiles(brute_cpu)} (CPU) -> index p95 {cpu_ratio:.0f}x faster"
        )
        print(
            f"radius {radius}: answers differing from brute force: {mismatches} of {len(brute_times)} checked"
        )
    times, cpu_times = [], []
    for n in range(0, queries - 3, 4):
        group = query_hashes[n : n + 4]
        t, c = time.perf_counter(), time.thread_time()
        index.search(group, 31)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.thread_time() - c)
    print(f"image query (4 hashes, radius 31): {_percentiles(times)} (wall)")
    print(f"image query (4 hashes, radius 31): {_percentiles(cpu_times)} (CPU)")

    faiss.omp_set_num_threads(2)
    sample = size if cluster_all else min(size, cluster_sample)
    rows = [(int(i), f"item{i}", hashes[i], hashes[i]) for i in range(sample)]
    planted = [(int(i), f"item{i}", hashes[i], hashes[i]) for i in planted_at if i >= sample]
    t, cpu = time.perf_counter(), time.process_time()
    pairs = candidate_pairs(index, rows + planted, 31)
    groups = UnionFind()
    for a, b in pairs:
        groups.union(a, b)
    elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    searched = len(rows) + len(planted)
    label = "all" if cluster_all else f"a sample of {searched:,}"
    print(
        f"clustering by re-search ({label} hashes, 2 threads): {elapsed:.1f} s wall, {cpu:.1f} s CPU "
        f"-> all {size:,}: {elapsed / searched * size / 60:.1f} min wall, {cpu / searched * size / 60:.1f} min CPU; "
        f"{len(pairs)} pairs found"
    )
    # the default `hujjat clusters`: union-find over the matches recorded at intake (one per copy)
    edges = [(f"item{rng.integers(size)}", f"item{rng.integers(size)}") for _ in range(size)]
    t = time.perf_counter()
    groups = UnionFind()
    for a, b in edges:
        groups.union(a, b)
    clusters = [g for g in groups.groups() if len(g) > 1]
    print(
        f"clustering {size:,} recorded matches (union-find): {time.perf_counter() - t:.1f} s, {len(clusters):,} clusters"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--cluster-sample", type=int, default=50_000)
    parser.add_argument("--cluster-all", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    for size in args.sizes:
        run(size, args.queries, rng, args.cluster_sample, args.cluster_all)


if __name__ == "__main__":
    main()
