"""Approximate vs exact search results on one index: the total's error, the facet counts' error
for values holding at least 5% of the matches (months: 1%), the time of each, and how many of the exact top 20
the sampled relevance page holds.

Run:  .venv/bin/python bench/search_accuracy.py ARCHIVE_DIR QUERY [QUERY...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hujjat.adapters.search.index import SqlSearchIndex
from hujjat.bootstrap import open_archive
from hujjat.processing.text.analyzer import SearchTextAnalyzer


def main() -> None:
    archive = open_archive(Path(sys.argv[1]), "bench")
    fast = archive.ports.search
    assert fast is not None
    exact = SqlSearchIndex(archive.engine, SearchTextAnalyzer(), exact_limit=10**9)
    for query in sys.argv[2:]:
        started = time.perf_counter()
        right = exact.search(query)
        exact_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        guess = fast.search(query)
        fast_ms = (time.perf_counter() - started) * 1000
        parts = []
        for facet in ("language", "source", "state", "month", "place"):
            true, estimate = dict(right.facets[facet]), dict(guess.facets[facet])
            share = 0.01 if facet == "month" else 0.05  # (months: 36 of about 2.8 % each in the generated corpus)
            big = [v for v, n in true.items() if n >= share * right.total]
            errors = [abs(estimate.get(v, 0) - true[v]) / true[v] for v in big]
            if errors:
                parts.append(f"{facet} max {max(errors):.0%} (mean {sum(errors) / len(errors):.0%}, {len(big)} values)")
        overlap = len({h.record_id for h in right.hits} & {h.record_id for h in guess.hits})
        change = (guess.total - right.total) / max(1, right.total)
        print(f"{query}: exact {right.total:,} in {exact_ms:.0f} ms; approximate={guess.approximate} "
              f"{guess.total:,} ({change:+.1%}) in {fast_ms:.0f} ms; " + "; ".join(parts)
              + f"; top-20 overlap {overlap}/20")


if __name__ == "__main__":
    main()
