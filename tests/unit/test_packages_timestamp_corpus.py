"""RFC 3161 tokens from real TSAs (corpus/rfc3161): the good ones verify, each must-fail case is
refused for its own reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hujjat.export.timestamps import load_certificates, parse_token, verify_token

RFC3161 = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "rfc3161"
TOB = RFC3161 / "trailofbits_rfc3161-client"
GS = RFC3161 / "digitorus_timestamp"
pytestmark = pytest.mark.skipif(not RFC3161.is_dir(), reason="corpus/rfc3161 is not present")


def _check(token: str, data: bytes, chain: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return verify_token(
        (TOB / token).read_bytes(), data, load_certificates((TOB / chain).read_bytes()), **kwargs
    )


@pytest.fixture
def hello() -> bytes:
    return (TOB / "hello.txt").read_bytes()


@pytest.mark.parametrize(
    "name",
    ["response-sha256.tsr", "response-sha384.tsr", "response-sha512.tsr", "response-no-embedded-cert.tsr"],
)
def test_sigstore_staging_tokens_verify(name: str, hello: bytes) -> None:
    check = _check(f"sigstage/{name}", hello, "sigstage/ts_chain.pem")
    assert check.ok, check.reason
    assert check.tsa == "CN=sigstore-tsa,O=sigstore.dev"
    assert check.gen_time is not None and check.gen_time.startswith("2025-")


def test_identrust_token_verifies_with_leaf_not_first_and_der_chain(hello: bytes) -> None:
    check = _check("identrust/issue-104.tsr", hello, "identrust/ts_chain.pem")
    assert check.ok, check.reason
    assert check.tsa is not None and "TrustID Timestamp Authority" in check.tsa
    assert check.gen_time == "2025-03-11T08:52:08Z"
    assert check.warnings  # the TSA certificate expired in 2026, after the token was made


def test_local_sigstore_tsa_token_verifies(hello: bytes) -> None:
    assert _check("test_tsa/response.tsr", hello, "test_tsa/ts_chain.pem").ok


def test_expired_chain_verifies_at_the_tokens_time() -> None:
    payload = (TOB / "sigstore.mock" / "payload").read_bytes()
    check = _check("sigstore.mock/response-expired.tsr", payload, "sigstore.mock/ts_chain.pem")
    assert check.ok, check.reason
    assert check.gen_time == "2023-02-01T00:00:00Z"
    assert any("expired" in w for w in check.warnings)


def test_tampered_signature_is_refused(hello: bytes) -> None:
    check = _check("sigstage/response-invalid-signature.tsr", hello, "sigstage/ts_chain.pem")
    assert not check.ok and check.reason is not None and check.reason.startswith("bad signature")


def test_injected_certificate_cannot_impersonate(hello: bytes) -> None:
    good = _check("test_tsa/response-injected-certs.tsr", hello, "test_tsa/ts_chain.pem")
    assert good.ok and good.tsa == "CN=Test TSA Timestamping,O=local"  # the real signer, not the injected one
    spoofed = _check(
        "test_tsa/response-injected-certs.tsr", hello, "test_tsa/ts_chain.pem", expected_name="CN=Spoofed TSA"
    )
    assert not spoofed.ok and spoofed.reason is not None and "another TSA" in spoofed.reason


def test_token_from_another_tsa_is_untrusted(hello: bytes) -> None:
    check = _check(
        "test_tsa/other_response.tsr",
        hello,
        "test_tsa/ts_chain.pem",
        trusted_roots=load_certificates((TOB / "test_tsa" / "ts_chain.pem").read_bytes()),
    )
    assert not check.ok and check.reason is not None and check.reason.startswith("untrusted")


def test_token_for_other_data_is_refused() -> None:
    check = _check("test_tsa/response.tsr", b"hullo", "test_tsa/ts_chain.pem")
    assert not check.ok and check.reason is not None and "other data" in check.reason


def test_pinned_roots_exclude_other_chains(hello: bytes) -> None:
    pinned = load_certificates((TOB / "test_tsa" / "ts_chain.pem").read_bytes())
    check = _check("sigstage/response-sha256.tsr", hello, "sigstage/ts_chain.pem", trusted_roots=pinned)
    assert not check.ok and check.reason is not None and check.reason.startswith("untrusted")


@pytest.mark.parametrize("name", ["respNonce", "respNoNonce", "timeStampToken"])
def test_globalsign_tokens_parse_despite_ber(name: str) -> None:
    """GlobalSign emits an unsorted certificate SET (BER) and `timeStampToken` is a bare token;
    both are re-wrapped for parsing. The Adobe root is not in the corpus, and Hujjat does not
    accept partial chains, so verification names the missing issuer."""
    token = (GS / name).read_bytes()
    response = parse_token(token)
    assert response.tst_info.gen_time.year == 2017
    data = (GS / "data.txt").read_bytes()
    if name != "timeStampToken":
        assert response.tst_info.message_imprint.message == (GS / "hashedMessage").read_bytes()
        check = verify_token(token, data, [])
        assert not check.ok and check.reason is not None and "Adobe Root CA" in check.reason
        assert check.tsa is not None and "GlobalSign TSA for Adobe" in check.tsa


def test_globalsign_token_without_certificates_needs_its_certificate() -> None:
    check = verify_token((GS / "respNoCert").read_bytes(), (GS / "data.txt").read_bytes(), [])
    assert not check.ok and check.reason is not None and "signing certificate" in check.reason


def test_garbage_is_not_a_token() -> None:
    check = verify_token(b"\x30\x03\x02\x01\x00garbage", b"x", [])
    assert not check.ok and check.reason is not None and "not an RFC 3161" in check.reason
