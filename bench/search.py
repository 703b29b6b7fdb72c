"""Search benchmark: index N generated posts (default 1,000,000) in an archive (SQLite, or
PostgreSQL with --database), then time 50 mixed queries (words in six languages/scripts,
inflected forms, phrases, OR/NOT, prefixes, field filters, date order), top-20 with all six
facets, against a naive `LIKE '%word%'` scan computing the same page and facets, in the same run.
Each search is timed in wall-clock and in CPU time of this process (SQLite runs in-process, so on
a shared, loaded machine the CPU time shows the cost without the waiting for a core).

Run:  .venv/bin/python bench/search.py --posts 1000000 [--dir /tmp/hujjat-bench] [--known-language]
      [--database postgresql://postgres@127.0.0.1:5432/hj_bench_search] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_corpus import PostGenerator

from hujjat.adapters.db.search_tables import search_documents as docs
from hujjat.adapters.db.search_tables import search_texts as texts
from hujjat.bootstrap import init_archive, open_archive
from hujjat.ports.search import FACETS, SearchDocument, SearchFilters

QUERIES: list[tuple[str, str]] = [  # (query, word for the LIKE baseline)
    ("мигрант", "мигрант"), ("мигрантов", "мигрантов"), ("рейд", "рейд"), ("рейды", "рейды"),
    ("задержали", "задержали"), ("депортация", "депортация"), ("пытки", "пытки"), ("свидетели", "свидетели"),
    ("работодатель", "работодатель"), ("регистрации", "регистрации"),
    ("муҳоҷир", "муҳоҷир"), ("ҳуҷҷат", "ҳуҷҷат"), ("шиканҷа", "шиканҷа"), ("додгоҳ", "додгоҳ"),
    ("шиноснома", "шиноснома"), ("hujjat", "hujjat"), ("Toshkent", "Toshkent"), ("Тошкент", "Тошкент"),
    ("oʻzbek", "zbek"), ("ўзбек", "ўзбек"), ("qiynoq", "qiynoq"), ("deportatsiya", "deportatsiya"),
    ("мигранттардын", "мигранттардын"), ("кармалды", "кармалды"), ("зомбулук", "зомбулук"),
    ("күбөлөр", "күбөлөр"), ("raid", "raid"), ("deported", "deported"), ("torture", "torture"),
    ("witnesses", "witnesses"),
    ('"полиция задержала"', "полиция задержала"), ('"ҳуқуқи инсон"', "ҳуқуқи инсон"),
    ('"human rights"', "human rights"), ('"chegara chegarada"', "chegara chegarada"),
    ("мигрант AND рейд", "мигрант"), ("пытки OR шиканҷа OR qiynoq", "пытки"), ("рейд -ночью", "рейд"),
    ("депорт*", "депорт"), ("hujj*", "hujj"), ("torture NOT video", "torture"),
    ("мигрант chat:channel_007", "мигрант"), ("муҳоҷир lang:tg", "муҳоҷир"), ("рейд state:verified", "рейд"),
    ("суд place:Moscow", "суд"), ("рейд chat:channel_001 chat:channel_002", "рейд"),
    ("паспорт", "паспорт"),
    ("депортация -видео", "депортация"),
]
DATE_ORDERED = {"мигрант", "hujjat", "рейд state:verified", "депорт*", "torture"}


def tail_queries() -> list[tuple[str, str]]:
    """Three words of the generated long tail (frequent, middling, rare), as users search names."""
    tail = PostGenerator().tail
    return [(tail["cyrl"][10], tail["cyrl"][10]), (tail["latn"][300], tail["latn"][300]),
            (tail["cyrl"][5000], tail["cyrl"][5000])]


def build(archive_dir: Path, count: int, known_language: bool, database: str | None) -> tuple[Any, float, float]:
    """Index `count` generated posts through the product's bulk path (upsert_many, as reindex and
    imports do); returns the archive, wall-clock and CPU seconds (generation included)."""
    archive = init_archive(archive_dir, database=database, actor="bench")
    index = archive.ports.search
    assert index is not None
    generator = PostGenerator()
    batch: list[SearchDocument] = []
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    for post in generator.posts(count):
        record: dict[str, object] = {"chat": post.chat, "message_id": post.message_id,
                                     "date": post.date.isoformat(), "text": post.text}
        batch.append(SearchDocument(
            "post", post.id, post.text, date=post.date, language=post.language if known_language else None,
            source=post.chat, place=post.place, state=post.state, category="message", record=record,
        ))
        if len(batch) == 5000:
            index.upsert_many(batch)
            done += len(batch)
            batch.clear()
            if done % 100_000 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"  indexed {done:,} ({rate:,.0f} posts/s)", file=sys.stderr, flush=True)
    index.upsert_many(batch)
    assert len(generator.seen) == count, "the generator repeated a sentence"
    return archive, time.perf_counter() - started, time.process_time() - cpu


def naive(engine: sa.Engine, word: str) -> float:
    """The baseline: one LIKE scan of every text into a temporary result, then the page (newest
    first) and the same six facet counts from it, in one statement as the indexed search does."""
    found = (
        sa.select(docs.c.id, docs.c.date, *(docs.c[name] for name in FACETS))
        .select_from(docs.join(texts, texts.c.id == docs.c.id))
        .where(texts.c.body.like(f"%{word}%"))
        .cte("found")
        .prefix_with("MATERIALIZED")
    )
    top = sa.select(found.c.id).order_by(found.c.date.desc()).limit(20).subquery("top")
    parts = [sa.select(sa.literal("#"), sa.cast(top.c.id, sa.String), sa.literal(0))]
    parts += [sa.select(sa.literal(n), found.c[n], sa.func.count()).group_by(found.c[n]) for n in FACETS]
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sa.union_all(*parts)).all()
    return time.perf_counter() - started


def database_size(engine: sa.Engine, root: Path) -> float:
    """MiB of the search tables (PostgreSQL) or of the whole database file (SQLite)."""
    if engine.dialect.name == "sqlite":
        return sum(p.stat().st_size for p in root.glob("*.db*")) / 2**20
    with engine.connect() as conn:
        size = conn.execute(sa.text(
            "SELECT sum(pg_total_relation_size(c)) FROM unnest(ARRAY['search_documents', 'search_texts']) AS c"
        )).scalar_one()
    return float(size or 0) / 2**20


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--known-language", action="store_true", help="skip language detection")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="query the archive already built in --dir")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (an empty scratch database) instead of SQLite")
    args = parser.parse_args()
    root = (args.dir or Path(tempfile.mkdtemp(prefix="hujjat-search-bench-"))) / "archive"
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at start, {os.cpu_count()} CPUs")
    if args.reuse:
        archive: Any = open_archive(root, "bench")
        print(f"reusing {archive.ports.search.count():,} indexed posts in {root} ({archive.engine.dialect.name})")
    else:
        where = args.database.rsplit("@", 1)[-1] if args.database else root
        print(f"building {args.posts:,} posts in {where} (language {'given' if args.known_language else 'detected'})")
        archive, seconds, cpu_seconds = build(root, args.posts, args.known_language, args.database)
        size = database_size(archive.engine, root)
        print(f"indexing: {seconds:.1f} s, {args.posts / seconds:,.0f} posts/s (CPU of this process {cpu_seconds:.1f} s, "
              f"{args.posts / cpu_seconds:,.0f} posts/s), database {size:,.0f} MiB; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    ports, engine = archive.ports, archive.engine
    timings: list[float] = []
    cpu: list[float] = []
    totals: dict[str, int] = {}
    approximated: dict[str, bool] = {}
    queries = QUERIES + tail_queries()
    assert len(queries) == 50
    for query, _ in queries:  # warm-up: page cache, models
        ports.search.search(query, SearchFilters(), "relevance", 20)
    for query, _ in queries:
        order = "date" if query in DATE_ORDERED else "relevance"
        runs, cpu_runs = [], []
        for _ in range(args.repeat):
            started, used = time.perf_counter(), time.process_time()
            result = ports.search.search(query, SearchFilters(), order, 20)
            runs.append(time.perf_counter() - started)
            cpu_runs.append(time.process_time() - used)
        cpu.extend(cpu_runs)
        totals[query] = result.total
        approximated[query] = result.approximate
        timings.extend(runs)
        about = "~" if result.approximate else " "
        print(f"  {statistics.median(runs) * 1000:8.1f} ms (CPU {statistics.median(cpu_runs) * 1000:6.1f})  "
              f"{about}{result.total:>8,} hits  {order[:3]}  {query}")
    baseline = []
    for _query, word in queries:
        baseline.append(naive(engine, word))
    p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
    b50, b95 = percentile(baseline, 0.5) * 1000, percentile(baseline, 0.95) * 1000
    c50, c95 = percentile(cpu, 0.5) * 1000, percentile(cpu, 0.95) * 1000
    print(f"\nindexed search (top-20 + 6 facets), {len(timings)} timings: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms; CPU time of this process p50 {c50:.1f} ms, p95 {c95:.1f} ms")
    print(f"approximate (sampled) results: {sum(1 for q in queries if totals[q[0]] and approximated[q[0]])} of "
          f"{len(queries)} queries")
    print(f"naive LIKE scan (page + 6 facets), {len(baseline)} timings: p50 {b50:.1f} ms, p95 {b95:.1f} ms")
    print(f"ratio (LIKE / indexed): p50 {b50 / p50:.0f}x, p95 {b95 / p95:.0f}x")
    print("target p95 < 50 ms:", "met" if p95 < 50 else "NOT met")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end")


if __name__ == "__main__":
    main()
