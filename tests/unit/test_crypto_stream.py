"""The HJCRYPT1 format: round trips, sizes, seeking, and tamper detection."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hujjat.adapters.crypto.stream import (
    SIZE_OFFSET,
    ChunkEncryptor,
    ciphertext_size,
    open_plaintext,
    plaintext_size,
    size_field,
)
from hujjat.domain.errors import IntegrityError


def _encrypt(data: bytes, key: bytes, chunk: int) -> bytes:
    enc = ChunkEncryptor(key, chunk)
    parts = [enc.header]
    for start in range(0, len(data), 7):
        enc.feed(data[start : start + 7], parts.append)
    enc.finish(parts.append)
    blob = bytearray(b"".join(parts))
    blob[SIZE_OFFSET : SIZE_OFFSET + 8] = size_field(len(data))
    return bytes(blob)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 64))
def test_round_trip_and_size(data: bytes, chunk: int) -> None:
    key = os.urandom(32)
    blob = _encrypt(data, key, chunk)
    assert len(blob) == ciphertext_size(len(data), chunk)
    assert plaintext_size(len(blob), chunk) == len(data)
    with open_plaintext(io.BytesIO(blob), key, len(blob), "t") as reader:
        assert reader.read() == data
        if data:
            reader.seek(len(data) // 2)
            assert reader.read() == data[len(data) // 2 :]


@given(st.integers(0, 10_000))
def test_impossible_sizes_are_refused(size: int) -> None:
    plain = plaintext_size(size, 16)
    assert plain is None or ciphertext_size(plain, 16) == size


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop_last_chunk", "wrong_key", "size_field"])
def test_damage_is_detected(damage: str) -> None:
    key = os.urandom(32)
    data = os.urandom(100)
    blob = bytearray(_encrypt(data, key, 32))
    if damage == "flip":
        blob[40] ^= 1
    elif damage == "truncate":
        del blob[-1]
    elif damage == "drop_last_chunk":
        del blob[-(100 - 96 + 16) :]
    elif damage == "size_field":
        blob[SIZE_OFFSET + 7] ^= 1
    elif damage == "wrong_key":
        key = os.urandom(32)
    with pytest.raises(IntegrityError), open_plaintext(io.BytesIO(bytes(blob)), key, len(blob), "t") as reader:
        reader.read()
