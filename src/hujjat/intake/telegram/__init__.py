"""Telegram Desktop export reader: `open_export(path)` gives a streaming source of post records.

Modules: `repair` (known exporter JSON defects), `archive_files` (folder/zip input and safe paths),
`text` (flattening text runs), `messages` (one message dict -> PostRecord), `reader` (ijson
streaming over result.json), `source` (ties them together).
"""

from hujjat.intake.telegram.source import ExportLimits, TelegramExport, open_export

__all__ = ["ExportLimits", "TelegramExport", "open_export"]
