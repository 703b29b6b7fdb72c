"""The `hujjat` application: registers each command module and maps errors to exit codes.

Exit codes: 0 success, 1 the command ran and found problems or failed for a stated reason,
2 usage errors. Errors are one line on standard error, never a traceback (HUJJAT_DEBUG=1 shows it).
"""

from __future__ import annotations

import os
import sys

import click
import typer
from rich.markup import escape

from hujjat.domain.errors import HujjatError, UsageError
from hujjat.entrypoints.cli import audit, demo, evidence
from hujjat.entrypoints.cli.common import err

app = typer.Typer(
    name="hujjat",
    help="Hujjat: collect, preserve, verify and publish evidence, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (evidence, audit, demo):
    module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status (tests call this in-process)."""
    try:
        result = app(args=argv, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2 if isinstance(exc, click.UsageError) else 1
    except click.exceptions.Abort:
        err.print("aborted")
        return 1
    except UsageError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 2
    except HujjatError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get("HUJJAT_DEBUG"):
            raise
        err.print(f"error: unexpected failure: {type(exc).__name__}: {exc}", markup=False)
        return 1
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
