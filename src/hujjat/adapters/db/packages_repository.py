"""SQL repository for timestamp tokens and imported packages (port: ports/packages.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hujjat.adapters.db.field_cipher import cipher_of
from hujjat.adapters.db.packages_tables import (
    imported_custody_entries,
    imported_package_items,
    imported_packages,
    timestamp_tokens,
)
from hujjat.domain.packages import ImportedEntry, ImportedPackage, TimestampRecord

IMPORTED = "imported_custody_entries.body"  # sealed on encrypted server databases


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlPackageRepository:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add_timestamp(self, record: TimestampRecord) -> None:
        self.conn.execute(
            timestamp_tokens.insert().values(
                id=record.id,
                subject_kind=record.subject_kind,
                subject=record.subject,
                message_sha256=record.message_sha256,
                message=record.message,
                tsa_url=record.tsa_url,
                token=record.token,
                chain_pem=record.chain_pem,
                gen_time=record.gen_time,
                tsa=record.tsa,
                created_at=record.created_at,
            )
        )

    def timestamps(self) -> list[TimestampRecord]:
        rows = self.conn.execute(sa.select(timestamp_tokens).order_by(timestamp_tokens.c.id)).all()
        return [
            TimestampRecord(
                id=r.id,
                subject_kind=r.subject_kind,
                subject=r.subject,
                message_sha256=r.message_sha256,
                message=bytes(r.message),
                tsa_url=r.tsa_url,
                token=bytes(r.token),
                chain_pem=bytes(r.chain_pem),
                gen_time=r.gen_time,
                tsa=r.tsa,
                created_at=_aware(r.created_at),
            )
            for r in rows
        ]

    def add_import(self, package: ImportedPackage) -> None:
        self.conn.execute(
            imported_packages.insert().values(
                id=package.id,
                external_identifier=package.external_identifier,
                source_archive=package.source_archive,
                key_id=package.key_id,
                public_key_pem=package.public_key_pem,
                tagmanifest_sha256=package.tagmanifest_sha256,
                signature=package.signature,
                verified=package.verified,
                forced=package.forced,
                problems=list(package.problems),
                bag_info=[list(pair) for pair in package.bag_info],
                imported_at=package.imported_at,
                actor=package.actor,
            )
        )
        if package.entries:
            fields = cipher_of(self.conn)
            self.conn.execute(
                imported_custody_entries.insert(),
                [
                    {"package_id": package.id, "seq": e.seq, "hash": e.hash, "body": fields.seal(e.body, IMPORTED)}
                    for e in package.entries
                ],
            )
        links = {item_id: path for item_id, path in package.items}
        if links:
            self.conn.execute(
                imported_package_items.insert(),
                [{"package_id": package.id, "item_id": i, "path": p} for i, p in links.items()],
            )

    def imports(self) -> list[ImportedPackage]:
        rows = self.conn.execute(sa.select(imported_packages).order_by(imported_packages.c.id)).all()
        return [self._package(r) for r in rows]

    def _package(self, r: Any) -> ImportedPackage:
        entries = self.conn.execute(
            sa.select(imported_custody_entries)
            .where(imported_custody_entries.c.package_id == r.id)
            .order_by(imported_custody_entries.c.id)
        ).all()
        items = self.conn.execute(
            sa.select(imported_package_items.c.item_id, imported_package_items.c.path)
            .where(imported_package_items.c.package_id == r.id)
            .order_by(imported_package_items.c.path)
        ).all()
        return ImportedPackage(
            id=r.id,
            external_identifier=r.external_identifier,
            source_archive=r.source_archive,
            key_id=r.key_id,
            public_key_pem=r.public_key_pem,
            tagmanifest_sha256=r.tagmanifest_sha256,
            signature=bytes(r.signature),
            verified=bool(r.verified),
            forced=bool(r.forced),
            problems=list(r.problems),
            bag_info=[list(pair) for pair in r.bag_info],
            imported_at=_aware(r.imported_at),
            actor=r.actor,
            entries=[ImportedEntry(int(e.seq), e.hash, cipher_of(self.conn).open_(e.body, IMPORTED) or "") for e in entries],
            items=[(i, p) for i, p in items],
        )
