"""Qdrant measurements on NFCorpus with the offline default model (run by hand, CPU, embedded Qdrant).

    python benchmarks/qdrant_nfcorpus.py ../shared/data/nfcorpus

Measures, in one run on one machine:
1. encode-only docs/s (forward pass + pooling at pool_factor 2) vs the full ingest pipeline into an
   embedded on-disk collection (encode + pool + float16 + MUVERA + background upload);
2. nDCG@10 at pool_factor 1, 2, 3 (exact MaxSim over the whole corpus, float16-rounded vectors);
3. two-stage search (MUVERA or mean first stage, 100 candidates, MaxSim rerank in Qdrant) vs exact MaxSim
   inside Qdrant: nDCG@10, Recall@100 and query latency p50/p95.
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time

import numpy as np
import torch
from _common import printed_result

from colbert_retrieval import default_model, scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k, recall_at_k
from colbert_retrieval.pooling import pool_embeddings_hierarchical
from colbert_retrieval.qdrant import ColBERTIndex, Schema


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def brute_force_run(model, queries, doc_vectors, doc_ids, k=100):
    d, d_mask = scores.pad_embeddings([v.half().float() for v in doc_vectors])
    run = {}
    for qid, text in queries.items():
        q = torch.from_numpy(model.encode(text, is_query=True))
        top = torch.topk(scores.colbert_scores(q[None], d, None, d_mask)[0], k).indices.tolist()
        run[qid] = [doc_ids[i] for i in top]
    return run


def search_run(index, queries, exact, limit=None):
    run, latencies = {}, []
    for qid, text in list(queries.items())[:limit]:
        start = time.perf_counter()
        hits = index.search(
            text, k=100, config={"mode": "exact" if exact else "colbert"}
        )  # exact=False: prefetch + rerank in one Qdrant request
        latencies.append(time.perf_counter() - start)
        run[qid] = [str(h.id) for h in hits]
    return run, np.array(latencies) * 1000


def first_stage_sweep(model, data, doc_vectors, doc_ids, muvera):
    """nDCG@10 after exact MaxSim rerank of N first-stage candidates, for each first stage and N."""
    from colbert_retrieval.single_vector import mean_vector, muvera_document, muvera_query

    d, d_mask = scores.pad_embeddings([v.half().float() for v in doc_vectors])
    queries = {qid: torch.from_numpy(model.encode(text, is_query=True)) for qid, text in data.queries.items()}
    exact = {qid: scores.colbert_scores(q[None], d, None, d_mask)[0] for qid, q in queries.items()}
    docs_np = [v.float().numpy() for v in doc_vectors]
    stages = {
        "mean": (np.stack([mean_vector(x) for x in docs_np]), lambda q: mean_vector(q)),
        f"MUVERA ({muvera.output_dim}-d)": (
            np.stack([muvera_document(x, muvera) for x in docs_np]),
            lambda q: muvera_query(q, muvera),
        ),
    }
    rows = []
    for name, (matrix, encode_query) in stages.items():
        matrix = torch.from_numpy(matrix)
        row = [name]
        for n in (100, 200, 400):
            run = {}
            for qid, q in queries.items():
                candidates = torch.topk(matrix @ torch.from_numpy(encode_query(q.numpy())), n).indices
                order = candidates[torch.argsort(exact[qid][candidates], descending=True)][:100]
                run[qid] = [doc_ids[i] for i in order.tolist()]
            row.append(f"{ndcg_at_k(data.qrels, run, 10):.4f}")
        rows.append(row)
    return rows


def main(folder: str) -> None:
    data = load_beir(folder)
    doc_ids = list(data.corpus)
    texts = [data.corpus[i] for i in doc_ids]
    model = default_model()
    torch.manual_seed(0)

    start = time.perf_counter()
    unpooled = model.encode(texts, is_query=False, convert_to_tensor=True, batch_size=32)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    pooled = {2: pool_embeddings_hierarchical(unpooled, 2)}
    pool_s = time.perf_counter() - start
    pooled[3] = pool_embeddings_hierarchical(unpooled, 3)
    pooled[1] = unpooled
    encode_only = len(texts) / (encode_s + pool_s)
    log(f"encode {encode_s:.0f}s + pool {pool_s:.1f}s -> {encode_only:.1f} docs/s")

    with tempfile.TemporaryDirectory() as tmp:
        index = ColBERTIndex(model, "nfcorpus", store=tmp, schema=Schema(pool_factor=2))
        summary = index.add(({"id": i, "text": t} for i, t in zip(doc_ids, texts)), batch_size=32)
        log(f"ingest: {summary}")

        pool_rows = []
        for factor in (1, 2, 3):
            run = brute_force_run(model, data.queries, pooled[factor], doc_ids)
            vectors = sum(len(v) for v in pooled[factor]) / len(texts)
            pool_rows.append((factor, vectors, ndcg_at_k(data.qrels, run, 10), recall_at_k(data.qrels, run, 100)))
            log(f"pool {factor}: {pool_rows[-1]}")

        # Single-vector reduction (LangChain / LlamaIndex Embeddings adapters): normalised mean, cosine.
        doc_means = torch.nn.functional.normalize(torch.stack([v.float().mean(0) for v in pooled[1]]), dim=-1)
        mean_run = {}
        for qid, text in data.queries.items():
            qv = torch.nn.functional.normalize(torch.from_numpy(model.encode(text)).mean(0), dim=-1)
            top = torch.topk(doc_means @ qv, 100).indices.tolist()
            mean_run[qid] = [doc_ids[i] for i in top]
        single_vector = (ndcg_at_k(data.qrels, mean_run, 10), recall_at_k(data.qrels, mean_run, 100))
        log(f"single vector: {single_vector}")

        # First-stage candidate quality, computed offline (exact MaxSim rerank of the candidates).
        first_rows = first_stage_sweep(model, data, pooled[2], doc_ids, index.settings.muvera_config())
        search_rows = []
        two_stage, lat_two = search_run(index, data.queries, exact=False)
        search_rows.append(("two-stage, MUVERA first stage (200 candidates)", two_stage, lat_two))
        log("two-stage done")
        exact, lat_exact = search_run(index, data.queries, exact=True)
        search_rows.append(("exact MaxSim in Qdrant", exact, lat_exact))
        log("exact done")
        index.close()

    mean_index = ColBERTIndex(model, "mean", store=":memory:", schema=Schema(first_stage="mean", pool_factor=2))
    mean_index.add_embeddings([{"id": i, "text": t} for i, t in zip(doc_ids, texts)], pooled[2])
    mean_run, lat_mean = search_run(mean_index, data.queries, exact=False)
    search_rows.insert(1, ("two-stage, mean first stage (200 candidates)", mean_run, lat_mean))

    print(
        f"Machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, embedded Qdrant (qdrant-client local mode). "
        f"Model: default (MiniLM-L6, {model.output_dimension}-d). Corpus: {len(texts)} documents, "
        f"{len(data.queries)} test queries.\n"
    )
    print("### Ingest vs encode-only (pool_factor 2)\n")
    print("| path | docs/s | ratio |\n|---|---|---|")
    print(f"| encode + pool only | {encode_only:.1f} | 1.00 |")
    print(
        f"| full ingest into embedded Qdrant | {summary.docs_per_second:.1f} | "
        f"{summary.docs_per_second / encode_only:.2f} |\n"
    )
    print("### Pool factor (exact MaxSim, float16 vectors)\n")
    print("| pool_factor | vectors/doc | bytes/doc (fp16) | nDCG@10 | Recall@100 |\n|---|---|---|---|---|")
    for factor, vectors, ndcg, recall in pool_rows:
        print(f"| {factor} | {vectors:.1f} | {vectors * model.output_dimension * 2:,.0f} | {ndcg:.4f} | {recall:.4f} |")
    print("\n### Single vector per text (mean of token vectors, cosine) vs MaxSim\n")
    print("| scoring | nDCG@10 | Recall@100 |\n|---|---|---|")
    print(f"| mean token vector, cosine (Embeddings adapters) | {single_vector[0]:.4f} | {single_vector[1]:.4f} |")
    print(f"| MaxSim, unpooled | {pool_rows[0][2]:.4f} | {pool_rows[0][3]:.4f} |")
    print("\n### First-stage candidates: nDCG@10 after exact MaxSim rerank (pool_factor 2)\n")
    print("| first stage | 100 candidates | 200 | 400 |\n|---|---|---|---|")
    for row in first_rows:
        print("| " + " | ".join(row) + " |")
    print("\n### Two-stage vs exact search in embedded Qdrant (pool_factor 2)\n")
    print("| search | nDCG@10 | Recall@100 | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for name, run, lat in search_rows:
        print(
            f"| {name} | {ndcg_at_k(data.qrels, run, 10):.4f} | {recall_at_k(data.qrels, run, 100):.4f} | "
            f"{np.percentile(lat, 50):.1f} | {np.percentile(lat, 95):.1f} |"
        )


if __name__ == "__main__":
    with printed_result("qdrant-nfcorpus"):
        main(sys.argv[1])
