"""`hujjat timestamp` against a local RFC 3161 TSA that the test builds with cryptography and
asn1crypto and serves on 127.0.0.1; stored tokens are re-checked offline by `timestamp --check`
and package tokens by `verify-package`."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hujjat.bootstrap import open_archive
from tests.conftest import Cli


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hujjat tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey, ca: bool
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(signer, hashes.SHA256())


class _Refusal(core.Sequence):  # a TimeStampResp without a token (asn1crypto's class requires one)
    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012


class LocalTsa:
    """A minimal TSA: answers TimeStampReq with a signed TimeStampResp. `mode` makes it misbehave."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = _cert("Test Root", self.root_key, "Test Root", self.root_key, ca=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = _cert("Test TSA", self.key, "Test Root", self.root_key, ca=False)
        self.mode = "ok"
        self.serial = 0
        self.requests = 0

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def respond(self, body: bytes) -> bytes:
        self.requests += 1
        if self.mode == "reject":
            return _Refusal({"status": {"status": "rejection", "status_string": ["policy refused"]}}).dump()
        request = tsp.TimeStampReq.load(body)
        imprint = request["message_imprint"]
        if self.mode == "other_data":
            imprint = tsp.MessageImprint(
                {
                    "hash_algorithm": imprint["hash_algorithm"],
                    "hashed_message": hashlib.sha512(b"other").digest(),
                }
            )
        self.serial += 1
        nonce = request["nonce"].native
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": "1.3.6.1.4.1.99999.1",
                "message_imprint": imprint,
                "serial_number": self.serial,
                "gen_time": datetime.now(UTC).replace(microsecond=0),
                "nonce": nonce + 1 if self.mode == "wrong_nonce" else nonce,
            }
        )
        content = info.dump()
        cert_der = self.cert.public_bytes(serialization.Encoding.DER)
        attributes = [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha256(content).digest()]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [{"certs": [{"cert_hash": hashlib.sha256(cert_der).digest()}]}],
                }
            ),
        ]
        signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: a.dump()))
        signature = self.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        if self.mode == "bad_signature":
            signature = self.key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        asn1_cert = asn1_x509.Certificate.load(cert_der)
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": asn1_cert.issuer,
                            "serial_number": asn1_cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(content),
                },
                "certificates": [asn1_cert],
                "signer_infos": [signer],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


@pytest.fixture
def tsa() -> Iterator[tuple[LocalTsa, str]]:
    authority = LocalTsa()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = authority.respond(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield authority, f"http://127.0.0.1:{server.server_address[1]}/tsr"
    finally:
        server.shutdown()
        server.server_close()


def _configure(archive: Path, tsa: LocalTsa, url: str) -> None:
    (archive / "tsa-root.pem").write_bytes(tsa.root_pem())
    config = archive / "hujjat.toml"
    config.write_text(config.read_text() + f'\n[timestamp]\ntsa_url = "{url}"\nroots = "tsa-root.pem"\n')


def test_checkpoint_timestamp_is_stored_and_rechecked(
    archive: Path, cli: Cli, tsa: tuple[LocalTsa, str]
) -> None:
    authority, url = tsa
    _configure(archive, authority, url)
    result = cli("timestamp", "--json")
    assert result.code == 0, result.err
    stamped = json.loads(result.out)
    assert stamped["subject_kind"] == "checkpoint" and stamped["tsa"] == "CN=Test TSA,O=hujjat tests"
    check = cli("timestamp", "--check", "--json")
    assert check.code == 0, check.out + check.err
    assert json.loads(check.out) == {"checked": 1, "problems": [], "ok": True}
    assert cli("verify").code == 0
    arch = open_archive(archive)
    try:
        with arch.ports.uow(read_only=True) as tx:
            (record,) = tx.packages.timestamps()
            actions = [json.loads(e.body)["action"] for e in tx.custody.iter_entries()]
    finally:
        arch.close()
    assert record.subject == stamped["subject"] and "timestamp.added" in actions


def test_package_timestamp_travels_with_the_package(
    archive: Path, cli: Cli, tsa: tuple[LocalTsa, str], tmp_path: Path
) -> None:
    authority, url = tsa
    (tmp_path / "f.txt").write_text("evidence")
    assert cli("add", str(tmp_path / "f.txt")).code == 0
    item = json.loads(cli("list", "--json").out)["items"][0]["id"]
    package = tmp_path / "pkg"
    assert cli("export", "bag", str(package), "--item", item).code == 0
    (tmp_path / "root.pem").write_bytes(authority.root_pem())
    result = cli(
        "timestamp", "--tsa", url, "--tsa-roots", str(tmp_path / "root.pem"), "--package", str(package)
    )
    assert result.code == 0, result.err
    checked = cli(
        "verify-package", str(package), "--json", "--tsa-roots", str(tmp_path / "root.pem"), archive=False
    )
    assert checked.out, checked.err
    report = json.loads(checked.out)
    assert report["ok"], report["problems"]
    assert report["timestamp"]["ok"] and report["timestamp"]["tsa"] == "CN=Test TSA,O=hujjat tests"
    # the token covers the tag manifest: change one tag file (re-hashed) and the token no longer fits
    manifest = package / "tagmanifest-sha256.txt"
    manifest.write_text(manifest.read_text() + f"{'0' * 64}  hujjat/extra.txt\n")
    report = json.loads(cli("verify-package", str(package), "--json", archive=False).out)
    assert any("the token is for other data" in p for p in report["problems"]), report["problems"]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("other_data", "time-stamped other data"),
        ("wrong_nonce", "another nonce"),
        ("reject", "refused the request (policy refused)"),
        ("bad_signature", "bad signature"),
    ],
)
def test_misbehaving_tsa_is_refused_and_nothing_stored(
    sqlite_archive: Path, cli: Cli, tsa: tuple[LocalTsa, str], mode: str, message: str
) -> None:
    authority, url = tsa
    _configure(sqlite_archive, authority, url)
    authority.mode = mode
    result = cli("timestamp")
    assert result.code == 1 and message in result.err, result.err
    assert json.loads(cli("timestamp", "--check", "--json").out)["checked"] == 0


def test_untrusted_tsa_and_configuration_errors(
    sqlite_archive: Path, cli: Cli, tsa: tuple[LocalTsa, str], tmp_path: Path
) -> None:
    authority, url = tsa
    result = cli("timestamp")
    assert result.code == 2 and "no TSA" in result.err
    assert cli("timestamp", "--tsa", url).code == 2  # no trusted root configured
    other = LocalTsa()
    (tmp_path / "other.pem").write_bytes(other.root_pem())
    result = cli("timestamp", "--tsa", url, "--tsa-roots", str(tmp_path / "other.pem"))
    assert result.code == 1 and "untrusted" in result.err
    result = cli(
        "timestamp", "--tsa", "http://127.0.0.1:9/nothing", "--tsa-roots", str(tmp_path / "other.pem")
    )
    assert result.code == 1 and "did not answer" in result.err
    assert authority.requests == 1


def test_stored_token_tampering_is_found(sqlite_archive: Path, cli: Cli, tsa: tuple[LocalTsa, str]) -> None:
    authority, url = tsa
    _configure(sqlite_archive, authority, url)
    assert cli("timestamp").code == 0
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{sqlite_archive / 'hujjat.db'}")
    with engine.begin() as conn:
        token = conn.execute(sa.text("SELECT token FROM timestamp_tokens")).scalar_one()
        forged = bytes(token[:-8]) + bytes(8)
        conn.execute(sa.text("UPDATE timestamp_tokens SET token = :t"), {"t": forged})
    engine.dispose()
    result = cli("timestamp", "--check")
    assert result.code == 1 and "PROBLEM: timestamp" in result.err
