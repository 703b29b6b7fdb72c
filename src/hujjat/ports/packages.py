"""Port for package and timestamp records (the adapter is SqlPackageRepository)."""

from __future__ import annotations

from typing import Protocol

from hujjat.domain.packages import ImportedPackage, TimestampRecord


class PackageRepository(Protocol):
    def add_timestamp(self, record: TimestampRecord) -> None: ...

    def timestamps(self) -> list[TimestampRecord]: ...

    def add_import(self, package: ImportedPackage) -> None:
        """Store the package record with its custody excerpt and item links."""
        ...

    def imports(self) -> list[ImportedPackage]:
        """Every imported package, with its entries and item links, oldest first."""
        ...
