"""The embedded engine on NFCorpus: search modes side by side with 0.1.0's local-mode exact search.

    python benchmarks/qdrant_engine.py ../shared/data/nfcorpus

One run, one machine, default model, pool_factor 2, float16 vectors. Document vectors are encoded once
(cached in benchmarks/results/, ignored by git) and written with ``add_embeddings``; ingest throughput is
measured separately on a slice, full ``add`` against encode-only, side by side. Query vectors are encoded
once too, so that "engine" latency is everything ``index.search`` does except the encoder's forward pass
(first-stage and BM25 query vectors, the engine call, fusion, payloads); end-to-end latency adds the
forward pass.

1. Dev queries (never test): the hybrid fusion weight and candidate counts, and the two-stage prefetch size;
   the defaults of ``SearchConfig`` come from here.
2. Test queries: nDCG@10 and Recall@100 (k=100) per mode, p50/p95 latency at k=10, next to 0.1.0's default
   (exact MaxSim in qdrant-client's local mode).
3. Exact vs two-stage engine latency on corpus slices (the ``exact_below`` crossover).
4. Ingest: encode + pool only vs the full ``add`` into the embedded engine (``add`` returns once every
   point is durably written; the HNSW graph is then built in the background, as on a Qdrant server).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import machine, printed_result
from qdrant_client import QdrantClient

from colbert_retrieval import default_model
from colbert_retrieval.evaluation import load_beir, ndcg_at_k, recall_at_k
from colbert_retrieval.qdrant import ColBERTIndex, Schema

CACHE = Path(__file__).resolve().parent / "results" / "nfcorpus_pf2.pt.tmp"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CachedQueries:
    """The model, with query vectors looked up instead of encoded (to time the engine alone)."""

    def __init__(self, model: Any, cache: dict[str, np.ndarray]) -> None:
        self._model, self._cache = model, cache
        self.enabled = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def encode(self, texts: Any, **kwargs: Any) -> Any:
        cached = isinstance(texts, list) and all(t in self._cache for t in texts)
        if self.enabled and kwargs.get("is_query") and cached:
            return [self._cache[t] for t in texts]
        return self._model.encode(texts, **kwargs)


def document_vectors(model, texts):
    if CACHE.exists():
        return torch.load(CACHE, weights_only=True)
    vectors = model.encode(texts, is_query=False, pool_factor=2, convert_to_tensor=True, batch_size=32)
    vectors = [v.half() for v in vectors]
    CACHE.parent.mkdir(exist_ok=True)
    torch.save(vectors, CACHE)
    return vectors


def quality(index, data, **kwargs) -> tuple[float, float]:
    run = {qid: [str(h.id) for h in index.search(text, k=100, config=kwargs)] for qid, text in data.queries.items()}
    return ndcg_at_k(data.qrels, run, 10), recall_at_k(data.qrels, run, 100)


def latency(index, texts, **kwargs) -> np.ndarray:
    index.search(texts[0], k=10, config=kwargs)
    times = []
    for text in texts:
        start = time.perf_counter()
        index.search(text, k=10, config=kwargs)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def ingest_table(model, sample, tmp: str, rounds: int = 2, chunk: int = 256) -> str:
    """Encode-only (whole slice length-sorted, and in ``add``'s chunks) vs ``add`` into the embedded engine."""
    texts = [d["text"] for d in sample]
    best = {"sorted": 0.0, "chunks": 0.0, "add": 0.0}
    for round_ in range(rounds):
        start = time.perf_counter()
        model.encode(texts, is_query=False, pool_factor=2, batch_size=32)
        best["sorted"] = max(best["sorted"], len(texts) / (time.perf_counter() - start))
        start = time.perf_counter()
        for offset in range(0, len(texts), chunk):
            model.encode(texts[offset : offset + chunk], is_query=False, pool_factor=2, batch_size=32)
        best["chunks"] = max(best["chunks"], len(texts) / (time.perf_counter() - start))
        index = ColBERTIndex(model, f"ingest{round_}", store=f"{tmp}/ingest", schema=Schema(pool_factor=2))
        summary = index.add(sample, batch_size=32, chunk_size=chunk)
        best["add"] = max(best["add"], summary.docs_per_second)
        index.close()
    base = best["chunks"]
    return "\n".join(
        [
            f"\n### Ingest vs encode-only ({len(sample)} documents, pool_factor 2, best of {rounds} rounds)\n",
            "| path | docs/s | ratio to encode-only in the same chunks |",
            "|---|---|---|",
            f"| encode + pool, whole slice length-sorted | {best['sorted']:.1f} | {best['sorted'] / base:.2f} |",
            f"| encode + pool, in `add`'s chunks of {chunk} | {base:.1f} | 1.00 |",
            f"| full `add` into the embedded engine | {best['add']:.1f} | {best['add'] / base:.2f} |",
        ]
    )


def main(folder: str) -> None:
    test, dev = load_beir(folder, "test"), load_beir(folder, "dev")
    doc_ids = list(test.corpus)
    texts = [test.corpus[i] for i in doc_ids]
    documents = [{"id": i, "text": t} for i, t in zip(doc_ids, texts)]
    model = default_model()
    vectors = document_vectors(model, texts)
    queries = list(test.queries.values()) + list(dev.queries.values())
    cache = {q: model.encode(q, is_query=True) for q in queries}
    cached = CachedQueries(model, cache)
    log(f"{len(vectors)} documents, {len(cache)} queries encoded")
    out: list[str] = [
        f"Machine: {machine()}. Model: default (MiniLM-L6, 128-d), pool_factor 2, float16, {len(doc_ids)} documents.\n"
    ]

    with tempfile.TemporaryDirectory() as tmp:
        index = ColBERTIndex(
            cached, "nfcorpus", store=f"{tmp}/edge", schema=Schema(pool_factor=2, model_name="default")
        )
        start = time.perf_counter()
        index.add_embeddings(documents, vectors)
        index.optimize()  # the HNSW graph is built in the background after a write; wait for it
        write_s = time.perf_counter() - start

        # 1. dev sweeps
        out.append("### Dev queries: hybrid fusion weight and candidates (nDCG@10, 324 dev queries)\n")
        sizes = ((200, 100), (200, 200), (400, 200))
        out.append("| bm25_weight | " + " | ".join(f"{p} first-stage + {b} BM25" for p, b in sizes) + " |")
        out.append("|---|---|---|---|")
        for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            cells = [
                quality(index, dev, mode="hybrid", bm25_weight=weight, prefetch_limit=p, bm25_limit=b)[0]
                for p, b in sizes
            ]
            out.append(f"| {weight} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
            log(f"weight {weight}: {cells}")
        out.append(f"\nExact MaxSim on dev: {quality(index, dev, mode='exact')[0]:.4f}.\n")
        out.append("| colbert mode, first-stage candidates | MUVERA only | MUVERA + 100 BM25 |\n|---|---|---|")
        for prefetch in (100, 200, 400, 1000):
            alone = quality(index, dev, mode="colbert", prefetch_limit=prefetch, bm25_limit=0)[0]
            union = quality(index, dev, mode="colbert", prefetch_limit=prefetch, bm25_limit=100)[0]
            out.append(f"| {prefetch} | {alone:.4f} | {union:.4f} |")
        log("dev done")

        # 2. test queries, every mode, side by side with 0.1.0's local mode
        test_texts = list(test.queries.values())
        out.append("\n### Test queries: quality (k=100) and latency (k=10), 323 test queries\n")
        out.append(
            "| search | nDCG@10 | Recall@100 | engine p50 ms | engine p95 ms | end-to-end p50 ms |\n"
            "|---|---|---|---|---|---|"
        )
        local_client = QdrantClient(path=f"{tmp}/local")
        local = ColBERTIndex(cached, "nfcorpus", store=local_client, schema=Schema(pool_factor=2, model_name="default"))
        local.add_embeddings(documents, vectors)
        ndcg, recall = quality(local, test, mode="exact")
        engine = latency(local, test_texts, mode="exact")
        cached.enabled = False  # the same index, with the encoder's forward pass
        full = latency(local, test_texts[:100], mode="exact")
        cached.enabled = True
        local_p50 = float(np.percentile(engine, 50))
        out.append(
            f"| 0.1.0 default: exact MaxSim, qdrant-client local mode | {ndcg:.4f} | {recall:.4f} | "
            f"{local_p50:.1f} | {np.percentile(engine, 95):.1f} | {np.percentile(full, 50):.1f} |"
        )
        local_client.close()
        log("local mode done")
        settings = [
            ("exact MaxSim", {"mode": "exact"}),
            ("colbert, MUVERA top-200 only", {"mode": "colbert", "bm25_limit": 0}),
            ("colbert, MUVERA top-1000 only", {"mode": "colbert", "prefetch_limit": 1000, "bm25_limit": 0}),
            ("colbert (default: MUVERA top-200 + BM25 top-100)", {"mode": "colbert"}),
            ("hybrid (default: same candidates, bm25_weight 0.3)", {"mode": "hybrid"}),
            ("hybrid over every document (exact candidates)", {"mode": "hybrid", "prefetch_limit": len(doc_ids)}),
        ]
        p50 = {}
        for name, kwargs in settings:
            ndcg, recall = quality(index, test, **kwargs)
            engine = latency(index, test_texts, **kwargs)
            cached.enabled = False
            full = latency(index, test_texts[:100], **kwargs)
            cached.enabled = True
            p50[name] = float(np.percentile(engine, 50))
            out.append(
                f"| {name} | {ndcg:.4f} | {recall:.4f} | {p50[name]:.1f} | {np.percentile(engine, 95):.1f} | "
                f"{np.percentile(full, 50):.1f} |"
            )
            log(out[-1])
        default = p50["hybrid (default: same candidates, bm25_weight 0.3)"]
        out.append(
            f"\nEngine p50 of the default mode (hybrid) vs 0.1.0's local-mode exact search: "
            f"{local_p50 / default:.1f}x faster; colbert mode: "
            f"{local_p50 / p50['colbert (default: MUVERA top-200 + BM25 top-100)']:.1f}x.\n"
        )

        # 3. crossover of exact and two-stage latency
        out.append("### Exact vs two-stage engine latency by corpus size (p50 ms, k=10, 200 test queries)\n")
        out.append("| documents | exact | colbert | hybrid |\n|---|---|---|---|")
        some = test_texts[:200]
        for size in (125, 250, 500, 1000, 2000, len(doc_ids)):
            part = ColBERTIndex(
                cached,
                f"slice{size}",
                store=f"{tmp}/edge",
                schema=Schema(pool_factor=2, model_name="default"),
                search={"exact_below": 0},
            )
            part.add_embeddings(documents[:size], vectors[:size])
            part.optimize()
            cells = [float(np.percentile(latency(part, some, mode=m), 50)) for m in ("exact", "colbert", "hybrid")]
            out.append(f"| {size} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
            part.close()
            log(out[-1])
        index.close()

        # 4. ingest vs encode-only on a slice, side by side, in interleaved rounds (each keeps its best)
        out.append(ingest_table(model, documents[:768], tmp))
        out.append(
            f"\nWriting all {len(vectors)} pre-encoded documents with `add_embeddings` (MUVERA, BM25, upsert, "
            f"HNSW build): {write_s:.1f} s, {len(vectors) / write_s:.0f} docs/s."
        )
    print("\n".join(out))


if __name__ == "__main__":
    with printed_result("qdrant-engine"):
        main(sys.argv[1])
