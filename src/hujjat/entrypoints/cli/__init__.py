"""The `hujjat` command line (Typer + Rich)."""
