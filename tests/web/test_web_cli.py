"""`hujjat user …` and the first admin created by `init`."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from hujjat.entrypoints.cli.main import main
from tests.web.support import WebArchive


def test_init_prints_the_first_admin_password_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path / "a"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["first_admin"]["name"] == "admin" and len(info["first_admin"]["password"]) >= 16
    assert main(["user", "list", "--json", "--archive", str(tmp_path / "a")]) == 0
    users = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["restricted_access"]) for u in users] == [("admin", "admin", True)]


def test_user_add_from_stdin_and_token_alone_on_stdout(sqlite_archive: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    arch = ["--archive", str(sqlite_archive)]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["user", "add", "maria", "--role", "editor", "--password-stdin", *arch]) == 0
    capsys.readouterr()
    assert main(["user", "token", "maria", *arch]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("hjt_")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["user", "add", "bob", "--role", "viewer", "--password-stdin", *arch]) == 1
    assert "too short" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["user", "add", "bob", "--role", "king", "--password-stdin", *arch]) == 1
    assert "invalid role" in capsys.readouterr().err
    assert main(["user", "revoke", "maria", *arch]) == 0
    assert "revoked 1" in capsys.readouterr().out


def test_sensitivity_command_sets_items_posts_and_captures(fresh_archive: WebArchive,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from hujjat.bootstrap import open_archive

    arch = ["--archive", str(fresh_archive.root), "--as", "maria"]
    post, capture, item = fresh_archive.posts["public"], fresh_archive.captures["public"], fresh_archive.items["public"]
    assert main(["sensitivity", post, "restricted", "--json", *arch]) == 0
    assert json.loads(capsys.readouterr().out) == {"kind": "post", "id": post, "from": "public", "to": "restricted"}
    assert main(["sensitivity", capture[:20], "internal", "--kind", "capture", *arch]) == 0
    assert f"capture {capture}: public -> internal" in capsys.readouterr().out
    assert main(["sensitivity", item, "restricted", "--json", *arch]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "item"
    assert main(["sensitivity", post, "secret", *arch]) == 2
    assert "invalid sensitivity" in capsys.readouterr().err
    assert main(["sensitivity", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "public", *arch]) == 1
    assert "no evidence item, post or capture" in capsys.readouterr().err
    assert main(["sensitivity", post, "public", "--kind", "incident", *arch]) == 2
    archive = open_archive(fresh_archive.root)
    with archive.ports.uow(read_only=True) as tx:
        levels = tx.accounts.record_sensitivities([post, capture, item])
        actions = [(e.actor, e.action) for e in tx.custody.entries_for([post, capture, item])
                   if e.action.endswith("sensitivity_changed")]
    archive.close()
    assert levels == {post: "restricted", capture: "internal", item: "restricted"}
    assert sorted(actions) == [("maria", "capture.sensitivity_changed"), ("maria", "item.sensitivity_changed"),
                               ("maria", "post.sensitivity_changed")]
