"""The hash index against a brute-force Hamming scan on random data, and its persistence."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from hujjat.adapters import hash_index
from hujjat.adapters.hash_index import FaissHashIndex, flips_for, hashes_to_array
from hujjat.domain.near_duplicates import distance


def _random_hashes(rnd: random.Random, n: int) -> list[str]:
    return [f"{rnd.getrandbits(256):064x}" for _ in range(n)]


def _near(rnd: random.Random, base: str, bits: int) -> str:
    value = int(base, 16)
    for bit in rnd.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def _brute(stored: list[tuple[int, str]], query: str, radius: int) -> set[tuple[int, int]]:
    return {(i, d) for i, h in stored if (d := distance(query, h)) <= radius}


@pytest.fixture
def data() -> tuple[list[tuple[int, str]], list[str]]:
    rnd = random.Random(5)
    base = _random_hashes(rnd, 3000)
    # plant neighbours at every distance 0..45 around some stored hashes
    planted = [_near(rnd, base[i], i % 46) for i in range(0, 460, 5)]
    stored = [(10 + 3 * i, h) for i, h in enumerate(base + planted)]
    queries = [base[i] for i in range(0, 460, 5)] + _random_hashes(rnd, 20)
    return stored, queries


@pytest.fixture(params=["flat", "hashed", "flat-then-hashed"])
def layout(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Small indexes scan flat, large ones use hash tables, and one grows from the first to the
    second: every layout must give the brute-force answers and survive a reload."""
    limits = {"flat": 10**9, "hashed": 0, "flat-then-hashed": 1500}
    monkeypatch.setattr(hash_index, "FLAT_UP_TO", limits[str(request.param)])
    return str(request.param)


@pytest.mark.parametrize("radius", [0, 8, 31, 32, 40])
def test_search_equals_brute_force(data: tuple[list[tuple[int, str]], list[str]], radius: int, layout: str) -> None:
    stored, queries = data
    index = FaissHashIndex(None)
    half = len(stored) // 2  # two adds: the flat-then-hashed layout switches on the second
    index.add([i for i, _ in stored[:half]], [h for _, h in stored[:half]])
    index.add([i for i, _ in stored[half:]], [h for _, h in stored[half:]])
    assert index.synced_to()[0] == len(stored)
    assert index._hashed(index._loaded()) == (layout != "flat")
    results = index.search(queries, radius)
    for query, found in zip(queries, results, strict=True):
        assert set(found) == _brute(stored, query, radius)


def test_flips_keep_search_exact() -> None:
    # pigeonhole: radius r is exact when r < nhash * (nflip + 1)
    for radius in range(0, 80):
        flips = flips_for(radius, 11)
        assert radius < 11 * (flips + 1)
        assert flips == 0 or radius >= 11 * flips


def test_incremental_adds_persist_and_reload(tmp_path: Path, layout: str) -> None:
    if layout == "flat-then-hashed":
        hash_index.FLAT_UP_TO = 30  # (monkeypatched) the second add crosses it
    rnd = random.Random(9)
    hashes = _random_hashes(rnd, 50)
    first = FaissHashIndex(tmp_path)
    first.add(list(range(1, 26)), hashes[:25])
    first.save(force=True)
    second = FaissHashIndex(tmp_path)
    assert second.synced_to() == (25, 25)
    second.add(list(range(26, 51)), hashes[25:])
    second.save(force=True)
    third = FaissHashIndex(tmp_path)
    assert third.synced_to() == (50, 50)
    assert [r[0][0] for r in third.search(hashes, 0)] == list(range(1, 51))


def test_damaged_file_reads_as_empty(tmp_path: Path) -> None:
    index = FaissHashIndex(tmp_path)
    index.add([1], _random_hashes(random.Random(1), 1))
    index.save(force=True)
    assert index.path is not None
    index.path.write_bytes(b"not an index")
    assert FaissHashIndex(tmp_path).synced_to() == (0, 0)


def test_reset_and_empty_search() -> None:
    index = FaissHashIndex(None)
    assert index.search([], 10) == []
    hashes = _random_hashes(random.Random(2), 3)
    assert index.search(hashes, 10) == [[], [], []]
    index.add([1, 2, 3], hashes)
    index.reset()
    assert index.synced_to() == (0, 0)


def test_hex_layout_round_trip() -> None:
    h = _random_hashes(random.Random(3), 2)
    array = hashes_to_array(h)
    assert array.shape == (2, 32) and array.dtype == np.uint8
    assert bytes(array[1]).hex() == h[1]
