"""Web application load benchmark: p95 page time and requests/s at N concurrent clients.

Builds (once; `--reuse` keeps it) an archive with 100,000 evidence items and 10,000 incidents,
written straight through the repositories (no blob bytes: pages read records, not files) and
indexed for search; starts `hujjat serve` on 127.0.0.1; then N client threads with keep-alive
connections fetch list, detail and search pages for a fixed time each. The baseline, measured in
the same run with the same clients, is a static file (the framework and server overhead alone).

Besides latency and throughput, each group reports the server's CPU time per request (user + system
time of every server process, from /proc, divided by the requests served): on a shared machine
latency mostly measures queueing for a CPU, while CPU per request is what a change to the server
actually moves. The load average is printed at the start and the end.

    .venv/bin/python bench/web.py --items 100000 --incidents 10000 --clients 20 --dir /tmp/bench-web
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

PASSWORD = "benchmark password"
WORDS = ["raid", "dormitory", "market", "detention", "summons", "checkpoint", "passport", "migrant", "worker", "police", "court", "облава", "общежитие", "рынок", "задержание", "повестка", "мигрант", "паспорт", "суд"]


def _text(rng: random.Random, n: int) -> str:
    """n words: mostly from a 5,000-word filler vocabulary, each topic word in about 1 in 60
    documents, so a one-word query matches a few percent of the archive (as real ones do)."""
    words = [f"w{rng.randrange(5000)}" for _ in range(n)]
    if rng.random() < 0.3:
        words[rng.randrange(n)] = rng.choice(WORDS)
    return " ".join(words)


def build(root: Path, n_items: int, n_incidents: int) -> None:
    from hujjat.adapters.credentials import fast_credentials
    from hujjat.adapters.taxonomy_file import load_taxonomy
    from hujjat.bootstrap import init_archive
    from hujjat.domain.evidence import Acquisition, EvidenceItem, Sensitivity
    from hujjat.domain.ids import new_id
    from hujjat.domain.incidents import Incident, IncidentLink, IncidentSensitivity, LinkRole, Place
    from hujjat.ports.search import SearchDocument
    from hujjat.services.accounts import create_user

    rng = random.Random(7)
    archive = init_archive(root, actor="bench")
    ports = archive.ports
    create_user(ports, fast_credentials(), "bench", "admin", PASSWORD, restricted_access=True)
    types = sorted(load_taxonomy(root).types)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    item_ids: list[str] = []
    t0 = time.perf_counter()
    for batch in range(0, n_items, 5000):
        docs = []
        with ports.uow() as tx:
            for i in range(batch, min(n_items, batch + 5000)):
                item_id = new_id()
                sha = f"{i:064x}"
                kind = ("image/jpeg", "video/mp4", "text/plain")[i % 3]
                tx.items.add(EvidenceItem(item_id, sha, 1000 + i, kind, start + timedelta(minutes=i),
                                          sensitivity=Sensitivity(("public", "internal", "restricted")[i % 10 % 3])))
                name = f"{_text(rng, 1)}_{i}.{kind.split('/')[1]}"
                tx.items.add_acquisition(Acquisition(new_id(), item_id, start, "bench", "file", "bench", None, name,
                                                     None, _text(rng, 4)))
                item_ids.append(item_id)
                docs.append(SearchDocument("evidence", item_id, f"{name} {_text(rng, 8)}",
                                           title=name, date=start, language="en", source="bench",
                                           category=kind.split("/")[0], record={"id": item_id}))
        assert ports.search is not None
        ports.search.upsert_many(docs)
    print(f"items: {n_items} in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    for batch in range(0, n_incidents, 1000):
        docs = []
        with ports.uow() as tx:
            for i in range(batch, min(n_incidents, batch + 1000)):
                now = datetime.now(UTC)
                title = f"{_text(rng, 3).capitalize()} #{i}"
                incident = Incident(
                    id=new_id(), title=title, type=types[i % len(types)],
                    start=date(2024, 1, 1) + timedelta(days=i % 700),
                    place=Place(text="Moscow", name="Moscow", country_code="RU", country="Russia",
                                latitude=Decimal("55.75") + Decimal(i % 100) / 100, longitude=Decimal("37.61"),
                                geo_precision=1, source="manual"),
                    created_by="bench", created_at=now, updated_by="bench", updated_at=now,
                    sensitivity=IncidentSensitivity(("public", "internal", "restricted")[i % 3]), description=_text(rng, 12))
                tx.incidents.add(incident)
                tx.incidents.add_link(IncidentLink(new_id(), incident.id, "item", item_ids[i], LinkRole.DEPICTS, None,
                                                   "bench", now))
                docs.append(SearchDocument("incident", incident.id, f"{title} {incident.description}", title=title,
                                           date=now, language="en", place="Moscow", state="unverified",
                                           record={"id": incident.id}))
        assert ports.search is not None
        ports.search.upsert_many(docs)
    print(f"incidents: {n_incidents} in {time.perf_counter() - t0:.0f} s", flush=True)
    archive.close()


def sample_ids(root: Path) -> tuple[list[str], list[str]]:
    from hujjat.bootstrap import open_archive
    from hujjat.ports.accounts import ItemPageQuery
    from hujjat.ports.incidents import IncidentFilter

    archive = open_archive(root)
    with archive.ports.uow(read_only=True) as tx:
        items = [r.id for r in tx.accounts.page_items(ItemPageQuery(offset=1000, limit=500))[0]]
        incidents = [i.id for _, i in zip(range(500), tx.incidents.iter_incidents(IncidentFilter()), strict=False)]
    archive.close()
    return items, incidents


def session_cookie(port: int) -> str:
    import re

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    r = conn.getresponse()
    body = r.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    csrf_cookie = r.getheader("set-cookie", "").split(";")[0]
    from urllib.parse import urlencode

    conn.request("POST", "/login", urlencode({"username": "bench", "password": PASSWORD, "csrf_token": token}),
                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie})
    r = conn.getresponse()
    r.read()
    return r.getheader("set-cookie", "").split(";")[0]


def load(port: int, cookie: str, paths: list[str], clients: int, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop:
            t = time.perf_counter()
            conn.request("GET", rng.choice(paths), headers={"Cookie": cookie})
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t)
            bad += r.status != 200
        with lock:
            latencies.extend(mine)
            errors += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, errors, time.perf_counter() - started


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its descendants (the uvicorn
    workers), read from /proc; 0.0 where /proc is missing."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent, cpu seconds)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    family, total = {pid}, 0.0
    for _ in range(4):  # uvicorn: supervisor -> workers (and multiprocessing's tracker)
        family |= {p for p, (parent, _) in stats.items() if parent in family}
    for p in family:
        total += stats.get(p, (0, 0.0))[1]
    return total


def report(name: str, lat: list[float], errors: int, elapsed: float, cpu: float) -> tuple[float, float]:
    lat_ms = sorted(x * 1000 for x in lat)
    p95 = lat_ms[int(len(lat_ms) * 0.95) - 1]
    rps = len(lat_ms) / elapsed
    print(f"{name:10s} requests {len(lat_ms):6d}  errors {errors}  p50 {statistics.median(lat_ms):7.1f} ms  "
          f"p95 {p95:7.1f} ms  max {lat_ms[-1]:7.1f} ms  {rps:7.1f} req/s  "
          f"server CPU {cpu * 1000 / max(1, len(lat_ms)):5.2f} ms/request", flush=True)
    return p95, rps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-web"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="hujjat serve --workers")
    parser.add_argument("--groups", default="baseline,list,detail,search",
                        help="comma-separated groups to run (baseline, list, detail, search)")
    args = parser.parse_args()
    root = args.dir / "archive"
    if not (args.reuse and root.exists()):
        if root.exists():
            import shutil

            shutil.rmtree(args.dir)
        args.dir.mkdir(parents=True, exist_ok=True)
        build(root, args.items, args.incidents)
    items, incidents = sample_ids(root)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "hujjat.entrypoints.cli.main", "serve", "--port", str(port),
                               "--no-jobs", "--workers", str(args.workers), "--archive", str(root)], env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, ["src", os.environ.get("PYTHONPATH")]))})
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cookie = session_cookie(port)
        words = ["raid", "market", "detention", "облава", "мигрант", "police court", "passport"]
        groups = {
            "baseline": ["/static/app.css"],
            "list": ["/evidence", "/evidence?kind=image", "/evidence?page=50", "/incidents", "/incidents?page=3", "/"],
            "detail": [f"/evidence/{i}" for i in items[:200]] + [f"/incidents/{i}" for i in incidents[:200]],
            "search": [f"/search?q={quote_plus(w)}" for w in words],
        }
        load(port, cookie, groups["list"] + groups["detail"][:20], 4, 3)  # warm-up
        print(f"{args.items} items, {args.incidents} incidents, {args.clients} clients, {args.workers} server "
              f"process(es), {args.seconds:.0f} s per group; load average at start "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results = {}
        for name in args.groups.split(","):
            cpu = server_cpu(server.pid)
            measured = load(port, cookie, groups[name], args.clients, args.seconds)
            results[name] = report(name, *measured, server_cpu(server.pid) - cpu)
        print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if "baseline" in results:
            base = results["baseline"][1]
            for name in (n for n in ("list", "detail", "search") if n in results):
                print(f"{name}: throughput {results[name][1] / base:.2f}x of the static-file baseline")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
