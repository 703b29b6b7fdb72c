"""Errors the core raises; entrypoints turn them into one clear line and an exit code."""


class HujjatError(Exception):
    """A failure with a reason the user can act on (exit status 1)."""


class UsageError(HujjatError):
    """The command was called wrongly (exit status 2)."""


class NotFound(HujjatError):
    """No record matches the reference the user gave."""


class Ambiguous(HujjatError):
    """A prefix matches more than one record."""


class ArchiveError(HujjatError):
    """The archive is missing, unreadable or misconfigured."""


class IntegrityError(HujjatError):
    """Stored bytes or log entries do not match what was recorded."""
