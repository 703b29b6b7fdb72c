"""Message text: flatten Telegram's text runs into plain text AND keep the entities.

`text` is either a string or an array mixing plain strings and entity objects
(`{"type": "link", "text": "…"}`); `text_entities` (exporter v4.1.2+) gives the same runs, always
as objects, with `"type": "plain"` for plain runs. The plain text is the concatenation of the
runs' `text`. Each non-plain run is kept as an entity with its `offset` and `length` in the
flattened text (Python code points) plus its own keys (`href`, `language`, `user_id`, ...).
Values are made JSON-storable and float-free (see `clean`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def clean(value: Any) -> Any:
    """A copy that canonical JSON accepts: Decimal and float become decimal strings."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return str(value)


def _runs(text: Any, text_entities: Any) -> list[dict[str, Any]]:
    if isinstance(text_entities, list):
        source: list[Any] = text_entities
    elif isinstance(text, list):
        source = text
    elif text is None:
        return []
    else:
        return [{"type": "plain", "text": text if isinstance(text, str) else str(clean(text))}]
    runs: list[dict[str, Any]] = []
    for part in source:
        if isinstance(part, dict):
            runs.append(part)
        elif part is not None:
            runs.append({"type": "plain", "text": part if isinstance(part, str) else str(clean(part))})
    return runs


def flatten_text(text: Any, text_entities: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities). Prefers `text_entities` when it is a list."""
    pieces: list[str] = []
    entities: list[dict[str, Any]] = []
    offset = 0
    for run in _runs(text, text_entities):
        raw = run.get("text", "")
        piece = raw if isinstance(raw, str) else ("" if raw is None else str(clean(raw)))
        kind = run.get("type")
        if kind not in (None, "plain"):
            entity = {k: clean(v) for k, v in run.items() if k != "text"}
            entity["type"] = str(kind)
            entity["text"] = piece
            entity["offset"] = offset
            entity["length"] = len(piece)
            entities.append(entity)
        pieces.append(piece)
        offset += len(piece)
    return "".join(pieces), entities
