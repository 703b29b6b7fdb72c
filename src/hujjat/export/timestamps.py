"""RFC 3161 trusted timestamps: ask a Time-Stamp Authority for a token, and check tokens offline.

Request building, response parsing and signature/chain verification are rfc3161-client's (a
maintained library by Trail of Bits); this module adds what an archive needs around it:
- tokens are checked at their own genTime (a TSA certificate that expired later does not void a
  token made while it was valid);
- the TSA's signing certificate is found through the SignerInfo (issuer + serial), so a certificate
  injected into the token's bag cannot impersonate the TSA (GHSA-3xxc-pwj6-jgrj);
- trust needs a full chain to a self-signed root, taken from `trusted_roots` when given (pinning)
  or else from the chain saved with the token. Partial chains (an intermediate as anchor, what
  `openssl ts -verify -partial_chain` allows) are refused: the failure names the missing issuer;
- tokens some TSAs emit in BER rather than DER (certificate SET out of order, e.g. GlobalSign) or
  as a bare TimeStampToken are re-wrapped with asn1crypto before parsing; the stored bytes are
  never changed.
Every failure carries a one-line reason: bad signature, untrusted chain, other data, wrong TSA.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from hujjat.domain.errors import HujjatError

REQUEST_TIMEOUT = 30
MAX_RESPONSE = 1024 * 1024


class TimestampError(HujjatError):
    """A TSA could not be asked, or its answer is unusable."""


@dataclass
class TokenCheck:
    ok: bool
    reason: str | None = None
    gen_time: str | None = None
    tsa: str | None = None
    root: str | None = None
    hash_algorithm: str | None = None
    warnings: list[str] = field(default_factory=list)


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def load_certificates(raw: bytes) -> list[x509.Certificate]:
    """One or more PEM certificates, or a single DER one (some TSAs ship `.pem` files in DER)."""
    if not raw.strip():
        return []
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificates(raw)
        return [x509.load_der_x509_certificate(raw)]
    except ValueError as exc:
        raise TimestampError(f"unreadable certificate file ({exc})") from None


def certificates_pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _rewrap(raw: bytes) -> bytes:
    """A DER TimeStampResp from a bare token or a BER-ish response (certificate SET unsorted).
    The certificate set is outside the signature, so re-sorting it changes nothing signed."""
    try:
        response = tsp.TimeStampResp.load(raw, strict=True)
        response["status"].native  # noqa: B018 - forces parsing of the first field
    except (ValueError, TypeError):
        token = cms.ContentInfo.load(raw, strict=True)
        response = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
    token = response["time_stamp_token"]
    if isinstance(token, cms.ContentInfo) and token["content_type"].native == "signed_data":
        signed = token["content"]
        certs = signed["certificates"]
        if certs.native is not None:
            ordered = sorted(c.dump() for c in certs)
            signed["certificates"] = cms.CertificateSet([cms.CertificateChoices.load(c) for c in ordered])
    return bytes(response.dump())


class _StatusOnly(core.Sequence):  # type: ignore[misc]
    """A TimeStampResp read only as far as its status: a refusal carries no token."""

    _fields = [("status", tsp.PKIStatusInfo), ("rest", core.Any, {"optional": True})]  # noqa: RUF012


def refusal(raw: bytes) -> str | None:
    """The TSA's reason when the response is a refusal (status not granted), else None."""
    try:
        status = _StatusOnly.load(raw)["status"]
        code = status["status"].native
    except (ValueError, TypeError, KeyError):
        return None
    if code in ("granted", "granted_with_mods"):
        return None
    texts = status["status_string"].native or [] if "status_string" in status else []
    return "; ".join(str(t) for t in texts) or str(code)


def parse_token(raw: bytes) -> TimeStampResponse:
    try:
        return decode_timestamp_response(raw)
    except ValueError:
        pass
    try:
        return decode_timestamp_response(_rewrap(raw))
    except (ValueError, TypeError) as exc:
        raise TimestampError(f"not an RFC 3161 time-stamp token ({str(exc)[:120]})") from None


def _reason(message: str) -> str:
    lowered = message.lower()
    if "issuer certificate" in lowered or "certificate verify error" in lowered:
        detail = (
            message.rsplit("Verify error:", 1)[-1].split('"')[0].strip() if "Verify error:" in message else ""
        )
        return "untrusted: the TSA certificate does not chain to a trusted root" + (
            f" ({detail})" if detail else ""
        )
    if "signature failure" in lowered or "bad signature" in lowered:
        return "bad signature: the token's signature does not verify (token altered)"
    if "mismatch between messages" in lowered:
        return "the token is for other data (message imprint differs)"
    if "name provided" in lowered or "does not match the one" in lowered:
        return f"signed by another TSA than expected ({message})"
    if "nonce" in lowered:
        return "nonce mismatch: the token answers another request"
    return message.splitlines()[0][:200]


def _leaf(response: TimeStampResponse, pool: list[x509.Certificate]) -> x509.Certificate | None:
    infos = list(response.signed_data.signer_infos)
    if len(infos) != 1:
        return None
    issuer, serial = infos[0].issuer, infos[0].serial_number
    return next((c for c in pool if c.issuer == issuer and c.serial_number == serial), None)


def verify_token(
    raw: bytes,
    message: bytes,
    chain: list[x509.Certificate],
    *,
    trusted_roots: list[x509.Certificate] | None = None,
    expected_name: str | None = None,
) -> TokenCheck:
    """Check a token over `message` offline. `chain` is what was saved with the token (roots,
    intermediates, maybe the TSA certificate); `trusted_roots`, when given, are the only anchors."""
    try:
        response = parse_token(raw)
    except TimestampError as exc:
        return TokenCheck(False, str(exc))
    info = response.tst_info
    gen_time = info.gen_time.astimezone(UTC)
    check = TokenCheck(False, gen_time=gen_time.strftime("%Y-%m-%dT%H:%M:%SZ"))
    check.hash_algorithm = info.message_imprint.hash_algorithm.dotted_string
    embedded = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    pool = embedded + [c for c in chain if c not in embedded]
    leaf = _leaf(response, pool)
    if leaf is None:
        check.reason = "the TSA's signing certificate is neither in the token nor in the saved chain"
        return check
    check.tsa = leaf.subject.rfc4514_string()
    anchors = trusted_roots if trusted_roots is not None else chain
    roots = [c for c in anchors if c.subject == c.issuer]
    if not roots:
        check.reason = (
            f"untrusted: no root certificate to check the chain against "
            f"(the chain ends at an issuer not supplied: {_top_issuer(leaf, pool).rfc4514_string()})"
        )
        return check
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    # rfc3161-client puts intermediates into the trusted store: a self-signed certificate there
    # would become an anchor, so only pinned roots may be self-signed.
    for cert in pool:
        if cert not in roots and cert != leaf and cert.subject != cert.issuer:
            builder = builder.add_intermediate_certificate(cert)
    if not embedded:
        builder = builder.tsa_certificate(leaf)
    if expected_name:
        builder = builder.common_name(expected_name)
    try:
        builder.build().verify_message(response, message)
    except (VerificationError, ValueError) as exc:
        check.reason = _reason(str(exc))
        return check
    check.ok = True
    root = next((r for r in roots if r.subject == _top_issuer(leaf, pool)), roots[0])
    check.root = f"{root.subject.rfc4514_string()} (sha256 {_fingerprint(root)[:16]}…)"
    expired = [c for c in [leaf, *pool] if c.not_valid_after_utc < datetime.now(UTC)]
    if expired:
        check.warnings.append(
            f"the TSA certificate {expired[0].subject.rfc4514_string()} has expired since "
            f"({expired[0].not_valid_after_utc:%Y-%m-%d}); the token was made while it was valid"
        )
    return check


def _top_issuer(leaf: x509.Certificate, pool: list[x509.Certificate]) -> x509.Name:
    current, seen = leaf, 0
    while seen < 8:
        parent = next((c for c in pool if c.subject == current.issuer and c != current), None)
        if parent is None or parent.subject == parent.issuer:
            return current.issuer
        current, seen = parent, seen + 1
    return current.issuer


@dataclass(frozen=True)
class IssuedToken:
    token: bytes
    chain_pem: bytes  # the TSA certificates the token carries plus the configured roots
    gen_time: str
    tsa: str | None


def request_token(
    url: str, message: bytes, *, trusted_roots: list[x509.Certificate], timeout: float = REQUEST_TIMEOUT
) -> IssuedToken:
    """Ask the TSA at `url` for a token over SHA-512(message) and check the answer before keeping
    it: status granted, same nonce, same imprint, and a chain to one of `trusted_roots`."""
    if not url.startswith(("http://", "https://")):
        raise TimestampError(f"TSA URL {url!r} is not http(s)")
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA512)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    http = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=request.as_bytes(), headers={"Content-Type": "application/timestamp-query"}
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:  # noqa: S310
            raw = answer.read(MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"the TSA at {url} did not answer ({getattr(exc, 'reason', exc)})") from None
    if len(raw) > MAX_RESPONSE:
        raise TimestampError("the TSA answered with more than 1 MiB")
    refused = refusal(raw)
    if refused is not None:
        raise TimestampError(f"the TSA refused the request ({refused})")
    response = parse_token(raw)
    if response.tst_info.nonce != request.nonce:
        raise TimestampError("the TSA answered with another nonce (replayed or mixed-up answer)")
    if response.tst_info.message_imprint.message != hashlib.sha512(message).digest():
        raise TimestampError("the TSA time-stamped other data than requested")
    embedded = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    chain = embedded + [r for r in trusted_roots if r not in embedded]
    check = verify_token(raw, message, chain, trusted_roots=trusted_roots)
    if not check.ok:
        raise TimestampError(f"the TSA's token does not verify: {check.reason}")
    assert check.gen_time is not None
    return IssuedToken(raw, certificates_pem(chain), check.gen_time, check.tsa)


def stored_token_check(
    trusted_roots: list[x509.Certificate] | None = None,
) -> Callable[[bytes, bytes, bytes], str | None]:
    """The checker `services.packages.audit_timestamps` takes: None when a stored token verifies
    over its message with the chain saved beside it (or the pinned roots), else the reason."""

    def check(token: bytes, message: bytes, chain_pem: bytes) -> str | None:
        try:
            chain = load_certificates(chain_pem)
        except TimestampError as exc:
            return str(exc)
        result = verify_token(token, message, chain, trusted_roots=trusted_roots)
        return None if result.ok else result.reason

    return check
