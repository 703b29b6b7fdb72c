"""Entrypoints: CLI, web/API and workers. They call services and hold no business rules."""
