"""The archive's Ed25519 signing key, kept as PEM files (private key mode 0600)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hujjat.domain.errors import ArchiveError

PRIVATE_NAME = "archive-signing.key"
PUBLIC_NAME = "archive-signing.pub"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class PublicKeyVerifier:
    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self.public_key = public_key
        self.key_id = key_id_of(public_key)

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKeyVerifier:
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise ArchiveError("the public key is not an Ed25519 key")
        return cls(key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def public_key_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class Ed25519Signer(PublicKeyVerifier):
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        super().__init__(private_key.public_key())
        self._private_key = private_key

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    @classmethod
    def create(cls, key_dir: Path) -> Ed25519Signer:
        key_dir.mkdir(parents=True, exist_ok=True)
        key_dir.chmod(0o700)
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = key_dir / PRIVATE_NAME
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        signer = cls(private_key)
        (key_dir / PUBLIC_NAME).write_bytes(signer.public_key_pem())
        return signer

    @classmethod
    def load(cls, key_dir: Path) -> Ed25519Signer:
        path = key_dir / PRIVATE_NAME
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise ArchiveError(f"the archive signing key is missing: {path}") from None
        except (ValueError, TypeError) as exc:
            raise ArchiveError(f"the archive signing key is unreadable: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ArchiveError("the archive signing key is not an Ed25519 key")
        return cls(key)
