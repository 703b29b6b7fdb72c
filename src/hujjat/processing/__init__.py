"""Processing plug-ins: metadata, fingerprints and other derived data read from stored evidence."""
