"""Adapters: implementations of the ports (database, blob stores, signing, search, jobs)."""
