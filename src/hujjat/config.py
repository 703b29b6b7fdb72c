"""Typed archive configuration from `hujjat.toml`, with environment overrides.

Keys (all optional except archive_id): `database` (SQLAlchemy URL; a relative SQLite path is taken
relative to the archive folder), `store` (a folder, relative to the archive, or `s3://bucket/prefix`),
`[s3] endpoint_url, region`, `[metadata] exiftool`. Environment: HUJJAT_DATABASE, HUJJAT_STORE,
HUJJAT_S3_ENDPOINT override the file, so one archive folder can be pointed at a server for a run.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from hujjat.domain.errors import ArchiveError

CONFIG_NAME = "hujjat.toml"
DEFAULT_DATABASE = "sqlite:///hujjat.db"
DEFAULT_STORE = "store"


@dataclass
class ArchiveConfig:
    root: Path
    archive_id: str
    created: str
    database: str = DEFAULT_DATABASE
    store: str = DEFAULT_STORE
    s3_endpoint: str | None = None
    s3_region: str | None = None
    exiftool: str = "auto"  # auto | always | off: when ExifTool reads a file (processing.exiftool)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        url = os.environ.get("HUJJAT_DATABASE") or self.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
            return prefix + str((self.root / url[len(prefix) :]).resolve())
        return url

    @property
    def store_spec(self) -> str:
        return os.environ.get("HUJJAT_STORE") or self.store

    @property
    def s3_endpoint_url(self) -> str | None:
        return os.environ.get("HUJJAT_S3_ENDPOINT") or self.s3_endpoint

    def to_toml(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "archive_id": self.archive_id,
            "created": self.created,
            "database": self.database,
            "store": self.store,
        }
        s3 = {k: v for k, v in (("endpoint_url", self.s3_endpoint), ("region", self.s3_region)) if v}
        if s3:
            data["s3"] = s3
        data["metadata"] = {"exiftool": self.exiftool}
        data.update(self.extra)
        return data


def load_config(root: Path) -> ArchiveConfig:
    path = root / CONFIG_NAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArchiveError(
            f"no archive at {root} (no {CONFIG_NAME}); create one with `hujjat init {root}`"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"{path} is not valid TOML: {exc}") from None
    try:
        s3 = raw.pop("s3", {})
        meta = raw.pop("metadata", {})
        return ArchiveConfig(
            root=root,
            archive_id=str(raw.pop("archive_id")),
            created=str(raw.pop("created", "")),
            database=str(raw.pop("database", DEFAULT_DATABASE)),
            store=str(raw.pop("store", DEFAULT_STORE)),
            s3_endpoint=s3.get("endpoint_url"),
            s3_region=s3.get("region"),
            exiftool=_exiftool_mode(meta.get("exiftool", "auto"), path),
            extra=raw,
        )
    except (KeyError, AttributeError) as exc:
        raise ArchiveError(f"{path} lacks a required setting: {exc}") from None


def _exiftool_mode(value: object, path: Path) -> str:
    """`[metadata] exiftool`: "auto", "always" or "off"; true and false (older archives) mean
    "auto" and "off"."""
    if value is True:
        return "auto"
    if value is False:
        return "off"
    if value in ("auto", "always", "off"):
        return str(value)
    raise ArchiveError(f'{path}: [metadata] exiftool must be "auto", "always" or "off", not {value!r}')


def write_config(config: ArchiveConfig) -> None:
    path = config.root / CONFIG_NAME
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(config.to_toml()), encoding="utf-8")
    tmp.replace(path)
