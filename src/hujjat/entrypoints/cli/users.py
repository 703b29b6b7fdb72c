"""CLI for accounts and access: `user add|list|set|token|revoke|password`, the first admin that
`init` and `demo` create (its random password is printed once), and `sensitivity` (the level of an
item, post or capture)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from hujjat.adapters.credentials import Argon2Credentials
from hujjat.bootstrap import Archive
from hujjat.domain.errors import UsageError
from hujjat.entrypoints.cli.common import (
    DEFAULT_ARCHIVE,
    ArchiveOpt,
    AsOpt,
    JsonOpt,
    archive_session,
    out,
    print_json,
)
from hujjat.services.accounts import (
    create_first_admin,
    create_user,
    issue_token,
    list_users,
    revoke_tokens,
    update_user,
)
from hujjat.services.checkpoints import sign_checkpoint
from hujjat.services.sensitivity import change_sensitivity, resolve_record
from hujjat.services.sensitivity import check_level as check_sensitivity

user_app = typer.Typer(help="Accounts for the web application and the REST API.", no_args_is_help=True)


def first_admin(archive: Archive) -> dict[str, str] | None:
    """Create the first admin of a new archive; the caller prints the password once."""
    created = create_first_admin(archive.ports, Argon2Credentials())
    if created is None:
        return None
    sign_checkpoint(archive.ports)  # the account's custody entry is signed like every command's
    user, password = created
    return {"name": user.name, "password": password}


def announce_admin(admin: dict[str, str] | None) -> None:
    if admin:
        out.print(f"first admin: [bold]{escape(admin['name'])}[/bold]  password: [bold]{escape(admin['password'])}[/bold]"
                  "  (shown once; change it with `hujjat user password admin`)")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("no password on standard input")
        return password
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="admin, editor, reviewer or viewer.")] = "viewer",
    restricted: Annotated[bool, typer.Option("--restricted/--no-restricted",
                                             help="Grant access to restricted records.")] = False,
    language: Annotated[str, typer.Option("--language", help="UI language: en or ru.")] = "en",
    timezone: Annotated[str, typer.Option("--timezone", help="IANA time zone for dates.")] = "UTC",
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="Read the password from standard input.")] = False,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
) -> None:
    """Create a user (password from a prompt, or the first line of standard input)."""
    password = _read_password(password_stdin)
    with archive_session(archive, actor) as arch:
        user = create_user(arch.ports, Argon2Credentials(), name, role, password, restricted, language, timezone)
    out.print(f"created user {escape(user.name)} ({user.role.value})")


@user_app.command("list")
def list_(archive: ArchiveOpt = DEFAULT_ARCHIVE, actor: AsOpt = None, json_out: JsonOpt = False) -> None:
    """List users."""
    with archive_session(archive, actor, sign=False) as arch:
        users = [u.public() for u in list_users(arch.ports)]
    if json_out:
        print_json(users)
        return
    for u in users:
        flags = [f for f, on in (("restricted", u["restricted_access"]), ("totp", u["totp"]),
                                 ("inactive", not u["active"])) if on]
        out.print(f"{escape(str(u['name']))}\t{u['role']}\t{' '.join(flags)}")


@user_app.command("set")
def set_(
    name: str,
    role: Annotated[str | None, typer.Option("--role")] = None,
    restricted: Annotated[bool | None, typer.Option("--restricted/--no-restricted")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    language: Annotated[str | None, typer.Option("--language")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone")] = None,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
) -> None:
    """Change a user's role, access to restricted records, status, language or time zone."""
    with archive_session(archive, actor) as arch:
        update_user(arch.ports, Argon2Credentials(), name, role=role, restricted_access=restricted,
                    active=active, language=language, timezone=timezone)
    out.print(f"updated user {escape(name)}")


@user_app.command("password")
def password(
    name: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
) -> None:
    """Set a new password (ends the user's web sessions)."""
    new = _read_password(password_stdin)
    with archive_session(archive, actor) as arch:
        update_user(arch.ports, Argon2Credentials(), name, password=new)
    out.print(f"password changed for {escape(name)}")


@user_app.command("token")
def token(
    name: str,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "cli",
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
) -> None:
    """Issue an API token and print it alone on standard output (only its hash is kept)."""
    with archive_session(archive, actor) as arch:
        value = issue_token(arch.ports, name, label)
    sys.stdout.write(value + "\n")


@user_app.command("revoke")
def revoke(
    name: str,
    token_id: Annotated[str | None, typer.Option("--token", help="One token id (default: all).")] = None,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
) -> None:
    """Revoke a user's API tokens."""
    with archive_session(archive, actor) as arch:
        count = revoke_tokens(arch.ports, name, token_id)
    out.print(f"revoked {count} token(s) of {escape(name)}")


def sensitivity(
    reference: Annotated[str, typer.Argument(help="Item id/sha256/prefix, post id or chat/message, capture id.")],
    level: Annotated[str, typer.Argument(help="public, internal or restricted.")],
    kind: Annotated[str | None, typer.Option("--kind", help="item, post or capture (default: the first that matches, "
                                                           "in that order).")] = None,
    archive: ArchiveOpt = DEFAULT_ARCHIVE,
    actor: AsOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set the sensitivity of an evidence item, a post or a web capture (a custody entry).
    Incidents change theirs with `incident edit --sensitivity`."""
    check_sensitivity(level)
    with archive_session(archive, actor) as arch:
        found_kind, record_id = resolve_record(arch.ports, reference, kind)
        previous = change_sensitivity(arch.ports, arch.ports.actor, found_kind, record_id, level)
    if json_out:
        print_json({"kind": found_kind, "id": record_id, "from": previous, "to": level})
        return
    out.print(f"{found_kind} {record_id}: {previous} -> {level}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.command("sensitivity")(sensitivity)
