"""Search index adapters: SQLite FTS5 and PostgreSQL full-text search behind ports.search."""
