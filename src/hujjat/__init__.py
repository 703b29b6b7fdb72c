"""Hujjat: an offline-first archive for evidence of human-rights abuses."""

__version__ = "0.1.0"
