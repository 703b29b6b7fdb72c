"""Credential checks: argon2id password hashes (argon2-cffi) and TOTP second factors (pyotp)."""

from __future__ import annotations

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP's recommended argon2id minimum (19 MiB, 2 passes, 1 lane): as strong as guidance asks, and
# light enough that every `hujjat init` (which creates the first admin) stays quick. Hashes keep
# their parameters, so raising these later still verifies old passwords.
TIME_COST, MEMORY_KIB, LANES = 2, 19456, 1


class Argon2Credentials:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=LANES)

    def hash_password(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def new_totp_secret(self) -> str:
        return pyotp.random_base32()

    def verify_totp(self, secret: str, code: str) -> bool:
        code = code.strip().replace(" ", "")
        return code.isdigit() and len(code) == 6 and pyotp.TOTP(secret).verify(code, valid_window=1)

    def totp_uri(self, secret: str, name: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def fast_credentials() -> Argon2Credentials:
    """Cheap argon2 parameters for tests and benchmarks only (never for real archives)."""
    return Argon2Credentials(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
