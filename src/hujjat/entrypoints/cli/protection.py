"""CLI commands protecting people: `encrypt` (convert an archive), `rekey`, `shred`, and the
key-free ciphertext check that `verify --quick` falls back to when no secret is given."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from hujjat.adapters.blobs import open_store
from hujjat.adapters.blobs.encrypted import EncryptedStore
from hujjat.adapters.crypto.admin import (
    begin_encryption,
    checkpoint_wal,
    encrypt_objects,
    encrypt_sqlite,
    finish_encryption,
    rotate_database_key,
    rotate_master_key,
)
from hujjat.adapters.crypto.archive import (
    KEY_DIR,
    encryption_settings,
    new_secret,
    secret_from_environment,
    sqlite_path,
)
from hujjat.adapters.crypto.keyless import check_ciphertext
from hujjat.adapters.crypto.keyring import Secret, load_keyring
from hujjat.bootstrap import open_archive
from hujjat.config import load_config, write_config
from hujjat.domain.errors import UsageError
from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    err,
    out,
    print_json,
)
from hujjat.entrypoints.cli.exports import export_app
from hujjat.entrypoints.cli.incidents import load_archive_taxonomy, optional_places
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.redaction import find_item, record_derivative
from hujjat.services.search import refresh_records

__all__ = ["KeyFileOpt", "keyless_quick_verify", "new_secret", "register"]

THUMBS = "thumbs"  # the web interface's thumbnail cache (processing/thumbnails.py)
KeyFileOpt = Annotated[
    Path | None,
    typer.Option("--key-file", help="A file of at least 32 random bytes instead of a passphrase."),
]


def keyless_quick_verify(root: Path) -> dict[str, Any] | None:
    """For `verify --quick` on an encrypted archive when no secret is at hand: check every stored
    object's ciphertext framing (header, whole-chunk size) with no key. None when not encrypted
    or when a secret is available (then the normal check runs)."""
    config = load_config(root.resolve())
    if encryption_settings(config.extra) is None:
        return None
    try:
        secret_from_environment()
    except UsageError:
        return check_ciphertext(
            open_store(config.store_spec, config.root, config.s3_endpoint_url, config.s3_region)
        )
    return None


def _secret(key_file: Path | None) -> Secret:
    return secret_from_environment(key_file, prompt="Archive passphrase: ")


def register(app: typer.Typer) -> None:
    register_redact(app)
    register_public_export()

    @app.command()
    def encrypt(
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        key_file: KeyFileOpt = None,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Encrypt an existing archive in place (blobs, embedded database or the sensitive fields
        of a PostgreSQL one); safe to interrupt and re-run."""
        root = archive.resolve()
        config = load_config(root)
        settings = encryption_settings(config.extra)
        if settings is not None and settings.get("state") == "on":
            raise UsageError("the archive is already encrypted")
        secret = new_secret(key_file) if settings is None else _secret(key_file)
        ring = begin_encryption(config, secret)
        opened = open_archive(root, actor)
        try:
            store = opened.ports.store
            if not isinstance(store, EncryptedStore):
                raise UsageError(f"encryption at rest is not supported on {store.description}")
            converted = encrypt_objects(store)
            path = sqlite_path(config.database_url)
            database = False
            sealed: dict[str, int] = {}
            if path is not None:
                database = encrypt_sqlite(opened.engine, path, ring.db_key)
                config.extra["encryption"]["database"] = "sqlcipher"
                write_config(config)
            else:  # a database server: seal the values stored before, batch by batch
                from hujjat.adapters.db.field_sealing import restricted_records, seal_existing

                sealed = seal_existing(opened.engine)
                for kind, ids in restricted_records(opened.engine).items():
                    refresh_records(opened.ports, kind, ids)  # no restricted plaintext in the index
        finally:
            opened.close()
        # Web thumbnails are derived plaintext (rebuilt on demand, never cached once encrypted).
        shutil.rmtree(root / THUMBS, ignore_errors=True)
        finish_encryption(config)
        with archive_session(root, actor) as arch, arch.ports.uow() as tx:
            tx.custody.append(
                arch.ports.actor,
                "archive.encrypted",
                config.archive_id,
                {"objects_converted": converted, "database_encrypted": database, "format": "HJCRYPT1",
                 "fields_sealed": sum(sealed.values())},
            )
        result = {"objects_converted": converted, "database_encrypted": database, "fields_sealed": sealed}
        if json_out:
            print_json(result)
        else:
            what = "encrypted" if database else f"{sum(sealed.values())} stored values sealed"
            out.print(f"encrypted: {converted} objects converted, database {what}")

    @app.command()
    def rekey(
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        key_file: KeyFileOpt = None,
        new_key_file: Annotated[
            Path | None, typer.Option(help="Lock the archive with this key file from now on.")
        ] = None,
        new_passphrase: Annotated[
            bool, typer.Option("--new-passphrase", help="Ask for (or read HUJJAT_NEW_PASSPHRASE) a new passphrase.")
        ] = False,
        database: Annotated[
            bool, typer.Option("--database", help="Also re-encrypt the embedded database under a new key (SQLCipher).")
        ] = False,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Rotate the master key and re-wrap every data key (objects are not rewritten); with
        --database also the SQLCipher database key. Safe to interrupt and run again."""
        root = archive.resolve()
        secret = _secret(key_file)
        if new_key_file is not None:
            target = Secret.from_key_file(new_key_file)
        elif new_passphrase:
            env = os.environ.get("HUJJAT_NEW_PASSPHRASE")
            target = Secret(passphrase=env) if env else new_secret(None)
        else:
            target = secret
        ring = load_keyring(root / KEY_DIR, secret)
        config = load_config(root)
        db_path = sqlite_path(config.database_url)
        settings = encryption_settings(config.extra) or {}
        if database and (db_path is None or settings.get("database") != "sqlcipher"):
            raise UsageError("--database rotates a SQLCipher database key; this archive's database is not "
                             "SQLCipher (on PostgreSQL the field key derives from it and is not rotated)")
        with archive_session(root, actor) as arch:
            store = arch.ports.store
            if not isinstance(store, EncryptedStore):
                raise UsageError("the archive is not encrypted: run `hujjat encrypt` first")
            old_id = ring.master_id
            new_id, count = rotate_master_key(ring, store.keys, target)
            with arch.ports.uow() as tx:
                tx.custody.append(
                    arch.ports.actor,
                    "archive.rekeyed",
                    arch.config.archive_id,
                    {"old_master": old_id, "new_master": new_id, "keys_rewrapped": count,
                     "secret_changed": target is not secret},
                )
        rotated = None
        if database and db_path is not None:
            opened = open_archive(root, actor)  # opens with whichever key the file uses
            rotated = rotate_database_key(opened.engine, db_path, ring, target)
            with archive_session(root, actor) as arch, arch.ports.uow() as tx:
                tx.custody.append(arch.ports.actor, "archive.database_rekeyed", arch.config.archive_id,
                                  {"finished_interrupted_rotation": not rotated})
        if json_out:
            print_json({"master_id": new_id, "keys_rewrapped": count, "database_rekeyed": database})
        else:
            out.print(f"rekeyed: {count} data keys re-wrapped under master key {new_id}"
                      + ("; database key rotated" if database else ""))

    @app.command()
    def shred(
        item: Annotated[str, typer.Argument(help="Item id or sha256 (or a unique prefix).")],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept in the custody log).")],
        keep_derivatives: Annotated[
            bool, typer.Option("--keep-derivatives", help="Keep its redacted derivatives (default: shred them too).")
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Destroy an item's data key: its bytes become unrecoverable (crypto-shredding)."""
        from hujjat.services.protection import shred_item

        with archive_session(archive, actor) as arch:
            result = shred_item(arch.ports, item, reason, keep_derivatives)
            with arch.ports.uow(read_only=True) as tx:
                gone = [result.sha256] + [tx.items.resolve(d).sha256 for d in result.derivatives_shredded]
            for sha256 in gone:
                (arch.config.root / THUMBS / sha256[:2] / f"{sha256}.jpg").unlink(missing_ok=True)
            sign_checkpoint(arch.ports)
            checkpoint_wal(arch.engine)
        if json_out:
            print_json(result.__dict__)
        else:
            out.print(f"shredded item {result.item_id} (sha256:{result.sha256})")
            if result.derivatives_shredded:
                out.print("also shredded its redacted derivatives: " + ", ".join(result.derivatives_shredded))
            if result.derivatives_kept:
                err.print("note: redacted derivatives are kept: " + escape(", ".join(result.derivatives_kept)))


def register_redact(app: typer.Typer) -> None:
    @app.command()
    def redact(
        item: Annotated[str, typer.Argument(help="Item id or sha256 (or a unique prefix).")],
        faces: Annotated[bool, typer.Option("--faces", help="Find faces offline and pixelate them.")] = False,
        region: Annotated[
            list[str] | None, typer.Option("--region", help="x,y,w,h in pixels to obscure (repeatable).")
        ] = None,
        mute: Annotated[bool, typer.Option("--mute", help="Remove the audio.")] = False,
        distort_voice: Annotated[bool, typer.Option("--distort-voice", help="Distort voices (ring modulation).")] = False,
        strip_metadata: Annotated[
            bool, typer.Option("--strip-metadata", help="Remove all metadata (always done: derivatives are re-encoded).")
        ] = False,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Make a redacted derivative of an item (the original is never changed)."""
        # numpy, PyAV and the face detector: loaded for this command only, not with every command
        from hujjat.processing.redaction import RedactionOptions, redact_file
        from hujjat.processing.redaction.media import parse_region

        if mute and distort_voice:
            raise UsageError("choose --mute or --distort-voice, not both")
        options = RedactionOptions(
            faces=faces,
            regions=tuple(parse_region(r) for r in region or []),
            mute=mute,
            distort_voice=distort_voice,
        )
        with archive_session(archive, actor) as arch, tempfile.TemporaryDirectory(prefix="hujjat-redact-") as tmp:
            original = find_item(arch.ports, item)
            work = Path(tmp)
            source = work / "original"
            with arch.ports.store.open(original.sha256) as src, source.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            result = redact_file(source, original.media_type, work, options)
            operations: dict[str, Any] = {**options.describe(), "faces_found": result.faces_found,
                                          "frames": result.frames, "notes": result.notes}
            record = record_derivative(arch.ports, original, result.path, operations)
        payload = {"original": {"id": original.id, "sha256": original.sha256},
                   "derivative": {"id": record.id, "sha256": record.sha256, "media_type": record.media_type},
                   "operations": operations}
        if json_out:
            print_json(payload)
        else:
            out.print(f"derivative {record.id} (sha256:{record.sha256}): {result.faces_found} faces obscured, "
                      f"{result.frames} frames; metadata removed")


def register_public_export() -> None:
    @export_app.command("public")
    def export_public_cmd(
        out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="A new, empty folder.")],
        state: Annotated[list[str] | None, typer.Option("--state", help="Only incidents in this state.")] = None,
        allow_unredacted: Annotated[
            list[str] | None, typer.Option("--allow-unredacted", help="Publish this item unredacted (logged).")
        ] = None,
        archive: ArchiveOpt = DEFAULT_ARCHIVE,
        actor: AsOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """The publishable dataset: public incidents, redacted media, pseudonyms, coarse places."""
        from hujjat.services.public_export import export_public

        with archive_session(archive, actor) as arch:
            summary = export_public(
                arch.ports, load_archive_taxonomy(arch.config.root), optional_places(), out_dir,
                tuple(state or ()), tuple(allow_unredacted or ()),
            )
        if json_out:
            print_json(summary)
        else:
            out.print(f"published {summary['incidents']} incidents and {summary['media']} media files to {escape(str(out_dir))}")
