"""Web application load benchmark: p95 page time and requests/s at N concurrent clients.

Builds (once; `--reuse` keeps it) an archive with 100,000 evidence items and 10,000 incidents,
written straight through the repositories (no blob bytes: pages read records, not files) and
indexed for search; starts `hujjat serve` on 127.0.0.1; then N concurrent clients with keep-alive
connections fetch list, detail and search pages for a fixed time each. Search pages are asked for
twice: the bench's seven queries over and over (as colleagues and page refreshes ask them; served
from the per-process result cache after the first time) and `search-new`, where every request is a
query not asked before in the run (a word without one filler word), which the cache never answers. The clients are wrk
(bench/web_wrk.lua rotates the paths and prints the percentiles; `--client python` uses threads
here instead, which take CPU the server needs on a small machine). The baseline, measured in
the same run with the same clients, is a static file (the framework and server overhead alone).

Besides latency and throughput, each group reports the server's CPU time per request (user + system
time of every server process, from /proc, divided by the requests served) and the load generator's:
on a shared machine latency mostly measures queueing for a CPU, while CPU per request is what a
change to the server actually moves. The load average is printed at the start and the end.

    .venv/bin/python bench/web.py --items 100000 --incidents 10000 --clients 20 --workers 2 --dir /tmp/bench-web
    .venv/bin/python bench/web.py --reuse --clients 20 --workers 2 --seconds 15 --dir /tmp/bench-web
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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


@dataclass
class Measured:
    """One group's run: request count, errors, wall seconds, latency percentiles (ms) and the
    load generator's own CPU seconds (on 2 shared cores it competes with the server)."""

    requests: int
    errors: int
    elapsed: float
    p50: float
    p95: float
    p99: float
    max: float
    client_cpu: float


def load_python(port: int, cookie: str, paths: list[str], clients: int, seconds: float) -> Measured:
    """The fallback load generator: `clients` threads with keep-alive connections (costs the
    server CPU: about as much per request as a small page)."""
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

    cpu = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)

    def pct(q: float) -> float:
        return ms[max(0, int(len(ms) * q) - 1)]

    return Measured(len(ms), errors, elapsed, statistics.median(ms), pct(0.95), pct(0.99), ms[-1],
                    time.process_time() - cpu)


WRK_SCRIPT = Path(__file__).with_name("web_wrk.lua")


def load_wrk(port: int, cookie: str, paths: list[str], clients: int, seconds: float, threads: int = 1) -> Measured:
    """wrk (C, event loop; Debian package `wrk`) with bench/web_wrk.lua rotating the paths: far less
    CPU per request than the Python client, so the server keeps more of the machine."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="hujjat-wrk-") as listing:
        listing.write("\n".join(paths) + "\n")
        listing.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "30s",
                              "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", listing.name,
                              f"Cookie: {cookie}"], check=True, capture_output=True, text=True).stdout
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((x for x in out.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    f = {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}
    errors = sum(f[k] for k in ("non2xx3xx", "connect", "read", "write", "timeout"))
    return Measured(f["requests"], errors, f["duration_us"] / 1e6 or elapsed, f["p50_us"] / 1000,
                    f["p95_us"] / 1000, f["p99_us"] / 1000, f["max_us"] / 1000,
                    (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))


def check_pages(port: int, cookie: str, paths: list[str]) -> None:
    """Every path answers 200 with the session (wrk counts a redirect to /login as a success)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in paths:
        conn.request("GET", path, headers={"Cookie": cookie})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"GET {path}: HTTP {r.status}, expected 200")


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


def machine_busy() -> float:
    """CPU seconds all CPUs have spent busy so far (user, system, irq, steal: /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def report(name: str, m: Measured, cpu: float, busy: float) -> Measured:
    """One group's line. `others`: CPUs kept busy by neither the server nor the load generator
    (other processes on the machine, the kernel), in cores on average: what the run had to share."""
    n = max(1, m.requests)
    others = max(0.0, busy - cpu - m.client_cpu) / m.elapsed
    print(f"{name:8s} {m.requests:6d} req  {m.errors} errors  {m.requests / m.elapsed:7.1f} req/s  "
          f"p50 {m.p50:6.1f}  p95 {m.p95:6.1f}  p99 {m.p99:6.1f}  max {m.max:7.1f} ms  "
          f"server CPU {cpu * 1000 / n:5.2f} ms/req  client CPU {m.client_cpu * 1000 / n:5.2f} ms/req  "
          f"others {others:4.2f} CPUs", flush=True)
    return m


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-web"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="hujjat serve --workers")
    parser.add_argument("--groups", default="baseline,list,detail,search,search-new",
                        help="comma-separated groups to run (baseline, list, detail, search, search-new)")
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk",
                        help="load generator: wrk (apt-get install wrk) or the Python threads")
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian), or use --client python")
    root = args.dir / "archive"
    if not (args.reuse and root.exists()):
        if root.exists():
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
            # never asked before in the run (so never answered from the result cache): a common
            # word without one filler word matches about as many documents as the word alone
            "search-new": [f"/search?q={quote_plus(f'{w} -w{n}')}" for n in range(600) for w in words],
        }
        for name in args.groups.split(","):
            # search-new: other queries of the same shape, so that no measured one is cached
            check_pages(port, cookie, groups[name] if name != "search-new" else [
                f"/search?q={quote_plus(f'{w} -w{n}')}" for n in range(4990, 5000) for w in words[:1]])
        load_python(port, cookie, groups["list"] + groups["detail"][:20], 4, 3)  # warm-up

        def load(paths: list[str]) -> Measured:
            if args.client == "wrk":
                return load_wrk(port, cookie, paths, args.clients, args.seconds, args.wrk_threads)
            return load_python(port, cookie, paths, args.clients, args.seconds)

        print(f"client {args.client}; {args.items} items, {args.incidents} incidents, {args.clients} clients, "
              f"{args.workers} server "
              f"process(es), {args.seconds:.0f} s per group; load average at start "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results: dict[str, Measured] = {}
        for name in args.groups.split(","):
            cpu, busy = server_cpu(server.pid), machine_busy()
            measured = load(groups[name])
            results[name] = report(name, measured, server_cpu(server.pid) - cpu, machine_busy() - busy)
        print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if "baseline" in results:
            base = results["baseline"]
            for name in (n for n in ("list", "detail", "search", "search-new") if n in results):
                m = results[name]
                print(f"{name}: throughput {m.requests / m.elapsed / (base.requests / base.elapsed):.2f}x, "
                      f"p95 {m.p95 / base.p95:.1f}x of the static-file baseline's")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
