"""Stress run: search threads and an ingest thread on one shared index, for minutes (run by hand).

    python benchmarks/stress_concurrency.py [--minutes 10] [--searchers 8] [--backend embedded|server]

A reference set of documents is indexed first and its ranking for a few queries recorded; then
``--searchers`` threads search those queries (filtered to the reference set) while one thread keeps writing
other documents (32 rotating batches of 16, rewritten, so the data size stays constant). Every search must
return the reference ranking (ids and scores); any exception or wrong result is counted. The resident
memory is sampled every 10 s. Prints a summary and writes docs/benchmarks/stress-<backend>.md.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time

from _common import machine, write_result
from qdrant_client import QdrantClient

from colbert_retrieval import default_model
from colbert_retrieval.qdrant import ColBERTIndex

QUERIES = ["vitamin deficiency disease", "capital city of a country", "heart and blood pressure", "rivers and lakes"]
TOPICS = ["vitamins and disease", "cities and countries", "the heart and blood", "rivers and water", "music"]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--searchers", type=int, default=8)
    parser.add_argument("--backend", choices=["embedded", "server"], default="embedded")
    # exact: scores depend only on the query and the reference documents. Hybrid scores legitimately move while
    # other documents are written (BM25's IDF and the fusion's normalisation follow the collection).
    parser.add_argument("--mode", choices=["exact", "colbert", "hybrid"], default="exact")
    args = parser.parse_args()
    model = default_model()
    with tempfile.TemporaryDirectory() as tmp:
        store = tmp if args.backend == "embedded" else QdrantClient(location=":memory:")
        index = ColBERTIndex(model, "stress", store=store)
        reference = [
            {"id": f"ref{i}", "text": f"A note on {TOPICS[i % 5]}, number {i}.", "metadata": {"group": "ref"}}
            for i in range(300)
        ]
        index.add(reference)
        index.optimize()
        expected = {
            q: [
                (h.id, round(h.score, 4))
                for h in index.search(q, k=10, filter={"group": "ref"}, config={"mode": args.mode})
            ]
            for q in QUERIES
        }
        stop = threading.Event()
        counts = {"searches": 0, "errors": 0, "wrong": 0, "added": 0}
        lock = threading.Lock()
        examples: list[str] = []

        def search_loop(seed: int) -> None:
            n = seed
            while not stop.is_set():
                query = QUERIES[n % len(QUERIES)]
                n += 1
                try:
                    hits = index.search(query, k=10, filter={"group": "ref"}, config={"mode": args.mode})
                    got = [(h.id, round(h.score, 4)) for h in hits]
                    wrong = got != expected[query]
                except Exception as error:  # counted, never raised: the run must finish
                    with lock:
                        counts["errors"] += 1
                        examples.append(repr(error)[:200])
                    continue
                with lock:
                    counts["searches"] += 1
                    counts["wrong"] += wrong
                    if wrong and len(examples) < 5:
                        examples.append(f"{query}: {got[:3]} != {expected[query][:3]}")

        def ingest_loop() -> None:
            batch = 0
            while not stop.is_set():
                # 32 rotating batches rewritten (overwrite=True): constant data size, so memory must stay flat
                docs = [
                    {"id": f"new{batch % 32}-{i}", "text": f"Fresh text {batch} {i} about {TOPICS[(batch + i) % 5]}."}
                    for i in range(16)
                ]
                try:
                    index.add(docs, overwrite=True)
                    with lock:
                        counts["added"] += len(docs)
                except Exception as error:
                    with lock:
                        counts["errors"] += 1
                        examples.append(repr(error)[:200])
                batch += 1

        threads = [threading.Thread(target=search_loop, args=(i,)) for i in range(args.searchers)]
        threads.append(threading.Thread(target=ingest_loop))
        memory = [rss_mb()]
        start = time.time()
        for thread in threads:
            thread.start()
        while time.time() - start < args.minutes * 60:
            time.sleep(10)
            memory.append(rss_mb())
        stop.set()
        for thread in threads:
            thread.join()
        index.close()
    summary = (
        f"Machine: {machine()}. {args.backend} backend, {args.mode} search, {args.searchers} search threads + 1 "
        f"ingest thread for {args.minutes:g} min: {counts['searches']:,} searches, "
        f"{counts['added']:,} documents written, "
        f"**{counts['errors']} errors, {counts['wrong']} wrong results** (against the reference ranking). "
        f"Resident memory: {memory[0]:.0f} MB at the start, {memory[len(memory) // 2]:.0f} MB half-way, "
        f"{memory[-1]:.0f} MB at the end (max {max(memory):.0f} MB)."
        + (f"\n\nFirst problems: {examples}" if examples else "")
    )
    print(summary)
    write_result(f"stress-{args.backend}", summary)


if __name__ == "__main__":
    main()
