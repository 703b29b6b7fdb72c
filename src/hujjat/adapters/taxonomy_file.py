"""Loads the incident taxonomy: the shipped `hujjat/vocab/taxonomy.yaml`, with the archive's own
`taxonomy.yaml` (if any) merged over it. YAML syntax errors and structural errors both become one
TaxonomyError naming the file, so a broken extension stops the command before anything changes."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

import yaml

from hujjat.domain.vocabulary import Taxonomy, TaxonomyError, merge_documents, parse_taxonomy

ARCHIVE_TAXONOMY = "taxonomy.yaml"
SHIPPED = "hujjat/vocab/taxonomy.yaml"


def _read(text: str, name: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TaxonomyError(f"{name}: not valid YAML{where}: {problem}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise TaxonomyError(f"{name}: expected a mapping at the top level, got {type(document).__name__}")
    return document


def load_taxonomy(archive_root: Path | None = None, extra: Path | None = None) -> Taxonomy:
    """The shipped taxonomy, extended by `<archive>/taxonomy.yaml` and then by `extra` if given."""
    shipped = importlib.resources.files("hujjat").joinpath("vocab", "taxonomy.yaml").read_text("utf-8")
    document = _read(shipped, SHIPPED)
    sources = [SHIPPED]
    for path in (archive_root / ARCHIVE_TAXONOMY if archive_root else None, extra):
        if path is None or not path.exists():
            if path is not None and path == extra:
                raise TaxonomyError(f"{path}: no such file")
            continue
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TaxonomyError(f"{path}: cannot read: {exc}") from None
        document = merge_documents(document, _read(text, str(path)))
        sources.append(str(path))
    try:
        return parse_taxonomy(document, tuple(sources))
    except TaxonomyError as exc:
        raise TaxonomyError(f"{sources[-1]}: {exc}") from None
