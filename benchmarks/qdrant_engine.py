"""The embedded engine on NFCorpus: search modes side by side with 0.1.0's local-mode exact search.

    python benchmarks/qdrant_engine.py ../shared/data/nfcorpus > docs/benchmarks/qdrant-engine.md

One run, one machine, default model, pool_factor 2, float16 vectors. Document vectors are encoded once
(cached in benchmarks/results/, ignored by git) and written with ``add_embeddings``; ingest throughput is
measured separately on a slice, full ``add`` against encode-only, side by side.

1. Dev queries (never test): sweep of the hybrid fusion weight and candidate counts, and of the two-stage
   prefetch size; the defaults of ``SearchConfig`` are the best dev setting.
2. Test queries: nDCG@10, Recall@100, p50/p95 latency per query (query encoding included) for every mode,
   and for 0.1.0's default (exact MaxSim in qdrant-client's local mode).
3. Exact vs two-stage latency on corpus slices (the ``exact_below`` crossover).
4. Ingest: encode + pool only vs the full ``add`` into the embedded engine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import machine
from qdrant_client import QdrantClient

from colbert_retrieval import default_model
from colbert_retrieval.evaluation import load_beir, ndcg_at_k, recall_at_k
from colbert_retrieval.qdrant import ColBERTIndex

CACHE = Path(__file__).resolve().parent / "results" / "nfcorpus_pf2.pt.tmp"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def document_vectors(model, texts):
    if CACHE.exists():
        return torch.load(CACHE, weights_only=True)
    vectors = model.encode(texts, is_query=False, pool_factor=2, convert_to_tensor=True, batch_size=32)
    vectors = [v.half() for v in vectors]
    CACHE.parent.mkdir(exist_ok=True)
    torch.save(vectors, CACHE)
    return vectors


def run_queries(index, queries, **kwargs):
    run, latencies = {}, []
    for qid, text in queries.items():
        start = time.perf_counter()
        hits = index.search(text, k=100, **kwargs)
        latencies.append(time.perf_counter() - start)
        run[qid] = [str(h.id) for h in hits]
    return run, np.array(latencies) * 1000


def row(name, data, run, latencies):
    return (
        f"| {name} | {ndcg_at_k(data.qrels, run, 10):.4f} | {recall_at_k(data.qrels, run, 100):.4f} | "
        f"{np.percentile(latencies, 50):.1f} | {np.percentile(latencies, 95):.1f} |"
    )


def main(folder: str) -> None:
    test, dev = load_beir(folder, "test"), load_beir(folder, "dev")
    doc_ids = list(test.corpus)
    texts = [test.corpus[i] for i in doc_ids]
    documents = [{"id": i, "text": t} for i, t in zip(doc_ids, texts)]
    model = default_model()
    vectors = document_vectors(model, texts)
    log(f"{len(vectors)} documents encoded")
    out: list[str] = [f"Machine: {machine()}. Model: default (MiniLM-L6, 128-d), pool_factor 2, float16.\n"]

    with tempfile.TemporaryDirectory() as tmp:
        index = ColBERTIndex(model, "nfcorpus", path=f"{tmp}/edge", pool_factor=2)
        start = time.perf_counter()
        index.add_embeddings(documents, vectors)
        write_s = time.perf_counter() - start
        log(f"embedded write: {write_s:.1f}s")

        # 1. dev sweeps
        out.append("### Dev queries: hybrid fusion and candidate counts (nDCG@10, 324 dev queries)\n")
        out.append("| bm25_weight | 200 first-stage + 100 BM25 | 200 + 200 | 400 + 200 |\n|---|---|---|---|")
        best = (0.0, None)
        for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            cells = []
            for prefetch, bm25_limit in ((200, 100), (200, 200), (400, 200)):
                run, _ = run_queries(
                    index,
                    dev.queries,
                    mode="hybrid",
                    bm25_weight=weight,
                    prefetch_limit=prefetch,
                    bm25_limit=bm25_limit,
                )
                score = ndcg_at_k(dev.qrels, run, 10)
                cells.append(f"{score:.4f}")
                if score > best[0]:
                    best = (score, (weight, prefetch, bm25_limit))
            out.append(f"| {weight} | " + " | ".join(cells) + " |")
            log(f"weight {weight}: {cells}")
        out.append(f"\nBest on dev: bm25_weight, prefetch, bm25_limit = {best[1]} (nDCG@10 {best[0]:.4f}).\n")
        exact_dev, _ = run_queries(index, dev.queries, mode="exact")
        out.append(f"Exact MaxSim on dev: {ndcg_at_k(dev.qrels, exact_dev, 10):.4f}.\n")
        out.append("| two-stage prefetch (colbert mode) | dev nDCG@10 |\n|---|---|")
        for prefetch in (100, 200, 400, 1000):
            run, _ = run_queries(index, dev.queries, mode="colbert", prefetch_limit=prefetch)
            out.append(f"| {prefetch} | {ndcg_at_k(dev.qrels, run, 10):.4f} |")

        # 2. test queries, every mode, side by side with 0.1.0's local mode
        out.append("\n### Test queries: search modes (323 test queries, latency per query incl. encoding)\n")
        out.append("| search | nDCG@10 | Recall@100 | p50 ms | p95 ms |\n|---|---|---|---|---|")
        local_client = QdrantClient(path=f"{tmp}/local")
        local = ColBERTIndex(model, "nfcorpus", client=local_client, pool_factor=2)
        local.add_embeddings(documents, vectors)
        run, lat = run_queries(local, test.queries, mode="exact")
        out.append(row("0.1.0 default: exact MaxSim, qdrant-client local mode", test, run, lat))
        local_p50 = float(np.percentile(lat, 50))
        local_client.close()
        log("local mode done")
        settings = [
            ("exact MaxSim, embedded engine", {"mode": "exact"}),
            ("colbert: MUVERA HNSW top-200 -> MaxSim", {"mode": "colbert", "prefetch_limit": 200}),
            ("colbert: MUVERA HNSW top-400 -> MaxSim", {"mode": "colbert", "prefetch_limit": 400}),
            ("colbert: MUVERA HNSW top-1000 -> MaxSim", {"mode": "colbert", "prefetch_limit": 1000}),
            ("hybrid (default settings)", {"mode": "hybrid"}),
            ("hybrid, bm25_weight 0 (candidate union only)", {"mode": "hybrid", "bm25_weight": 0.0}),
            ("exact MaxSim + BM25 fusion (hybrid, exact candidates)", {"mode": "hybrid", "prefetch_limit": 3633}),
        ]
        p50 = {}
        for name, kwargs in settings:
            run, lat = run_queries(index, test.queries, **kwargs)
            out.append(row(name, test, run, lat))
            p50[name] = float(np.percentile(lat, 50))
            log(name)
        default_p50 = p50["hybrid (default settings)"]
        out.append(
            f"\nDefault mode (hybrid) p50 vs 0.1.0's local-mode exact p50: {local_p50 / default_p50:.1f}x faster.\n"
        )

        # 3. crossover of exact and two-stage latency
        out.append("### Exact vs two-stage latency by corpus size (p50 ms over 100 test queries)\n")
        out.append("| documents | exact | colbert (200) | hybrid (first stage) |\n|---|---|---|---|")
        some = dict(list(test.queries.items())[:100])
        for size in (250, 500, 1000, 2000, 3633):
            part = ColBERTIndex(model, f"slice{size}", path=f"{tmp}/edge", pool_factor=2, exact_below=0)
            part.add_embeddings(documents[:size], vectors[:size])
            cells = [
                float(np.percentile(run_queries(part, some, mode=m)[1], 50)) for m in ("exact", "colbert", "hybrid")
            ]
            out.append(f"| {size} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
            part.close()
            log(f"slice {size}: {cells}")
        index.close()

        # 4. ingest vs encode-only on a slice, side by side
        sample = documents[:480]
        start = time.perf_counter()
        model.encode([d["text"] for d in sample], is_query=False, pool_factor=2, batch_size=32)
        encode_rate = len(sample) / (time.perf_counter() - start)
        fresh = ColBERTIndex(model, "ingest", path=f"{tmp}/ingest", pool_factor=2)
        summary = fresh.add(sample, batch_size=32, chunk_size=96)
        fresh.close()
        start = time.perf_counter()
        model.encode([d["text"] for d in sample], is_query=False, pool_factor=2, batch_size=32)
        encode_rate = max(encode_rate, len(sample) / (time.perf_counter() - start))
        out.append("\n### Ingest vs encode-only (480 documents, pool_factor 2)\n")
        out.append("| path | docs/s | ratio |\n|---|---|---|")
        out.append(f"| encode + pool only (best of two runs around the ingest) | {encode_rate:.1f} | 1.00 |")
        out.append(
            f"| full `add` into the embedded engine | {summary.docs_per_second:.1f} | "
            f"{summary.docs_per_second / encode_rate:.2f} |"
        )
        out.append(
            f"\nWriting all {len(vectors)} pre-encoded documents with `add_embeddings` (MUVERA, BM25, upsert, "
            f"HNSW build): {write_s:.1f} s, {len(vectors) / write_s:.0f} docs/s."
        )
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
