"""Encryption at rest: the chunked AES-256-GCM object format, the archive keyring and key table."""
