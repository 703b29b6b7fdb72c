"""Redaction: faces found offline, manual regions, metadata removed, audio muted or distorted.

`redact_file(source, dest_dir, options)` writes a redacted copy and returns what it did. The
original is only read. See docs/protection.md for exactly what is and is not removed.
"""

from hujjat.processing.redaction.media import RedactionOptions, RedactionResult, redact_file

__all__ = ["RedactionOptions", "RedactionResult", "redact_file"]
