"""How `hujjat list --kind post` and `hujjat show POST` print posts (text and JSON)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from hujjat.entrypoints.cli.common import human_size, out, print_json

PREVIEW = 70


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def print_post_list(rows: list[dict[str, Any]], json_out: bool) -> None:
    if json_out:
        print_json({"posts": rows, "total": len(rows)})
        return
    for row in rows:
        chat = row["chat"]["name"] or row["chat"]["key"]
        kind = "" if row["post_kind"] == "message" else escape(f"[{row['post_kind']}] ")
        out.print(
            f"{row['id']}  {escape(chat)} #{row['message_id']}  {row['date'] or '?'}  {kind}{escape(_one_line(row['text']))}"
        )
    out.print(f"{len(rows)} posts")


def print_post(detail: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(detail)
        return
    chat = detail["chat"]
    out.print(f"[bold]{detail['id']}[/bold]  post {detail['post_kind']}  version {detail['version']}")
    out.print(f"chat {escape(chat['name'] or '')} ({chat['type']}, {chat['key']})  message {detail['message_id']}")
    out.print(f"date {detail['date_utc'] or '?'} UTC  (exporter local time: {detail['date_local'] or '?'})")
    for label, key in (("from", "from"), ("forwarded from", "forwarded_from"), ("reply to", "reply_to_message_id"),
                       ("action", "action"), ("edited", "edited_utc"), ("link", "public_link")):  # fmt: skip
        if detail.get(key) is not None:
            out.print(f"{label} {escape(str(detail[key]))}")
    out.print(escape(detail["text"]) if detail["text"] else "(no text)")
    for entity in detail["entities"]:
        target = entity.get("href") or entity.get("text")
        out.print(f"  {entity['type']}: {escape(str(target))}")
    out.print(f"source: export sha256 {detail['source_export']['sha256']} at {detail['json_path']}")
    out.print("media:")
    for media in detail["media"]:
        size = human_size(media["size"]) if media["size"] is not None else "-"
        what = media["item_id"] or media["reason"] or ""
        out.print(f"  {media['role']} {media['media_type'] or ''} {media['status']} {size} {escape(what)}")
    if len(detail["versions"]) > 1:
        out.print("versions:")
        for version in detail["versions"]:
            out.print(f"  v{version['version']} {version['recorded_at']}: {escape(_one_line(version['text']))}")
    out.print("custody:")
    for entry in detail["custody"]:
        out.print(f"  #{entry['seq']} {entry['time']} {escape(entry['actor'])} {entry['action']}")
