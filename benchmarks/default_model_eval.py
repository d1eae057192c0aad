"""Choose the offline default model's configuration by measurement on NFCorpus (run by hand).

    python benchmarks/default_model_eval.py ../shared/data/nfcorpus [--quick]

For each forward configuration (query/document markers, [MASK] query expansion, document length and
sliding windows) the corpus and the test queries are encoded once with the raw 384-d MiniLM token
vectors; each head (identity 384-d, seeded orthogonal or random projections) is then applied to those
vectors, normalised, and scored with exact MaxSim over the whole corpus. Pooling at pool_factor 2 is
measured for the best configurations. Prints a Markdown table (nDCG@10 on the 323 test queries).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

import torch

from colbert_retrieval import scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.models._default import DefaultModelConfig, build_minilm_colbert, head_weight
from colbert_retrieval.pooling import pool_embeddings_hierarchical


def rank(query_vectors, doc_vectors, doc_ids, k=100):
    d, d_mask = scores.pad_embeddings(doc_vectors)
    run = {}
    for qid, q in query_vectors.items():
        s = scores.colbert_scores(q[None], d, None, d_mask)[0]
        top = torch.topk(s, k).indices.tolist()
        run[qid] = [doc_ids[i] for i in top]
    return run


def project(vectors, weight):
    return [torch.nn.functional.normalize(v @ weight.T, dim=-1) for v in vectors]


def main(folder: str, quick: bool) -> None:
    data = load_beir(folder)
    doc_ids = list(data.corpus)
    texts = [data.corpus[i] for i in doc_ids]
    qids = list(data.queries)
    qtexts = [data.queries[q] for q in qids]
    forward_configs = [
        DefaultModelConfig(markers=False, expansion=False, document_length=180),
        DefaultModelConfig(markers=False, expansion=False, document_length=256),
        DefaultModelConfig(markers=True, expansion=False, document_length=256),
        DefaultModelConfig(markers=True, expansion=True, document_length=256),
        DefaultModelConfig(markers=False, expansion=False, document_length=256, skiplist=False),
    ]
    if quick:
        forward_configs = forward_configs[1:2]
    heads = [
        ("identity", 384),
        ("orthogonal", 128),
        ("random", 128),
        ("orthogonal", 192),
        ("orthogonal", 256),
    ]
    rows = []
    for fc in forward_configs:
        base = replace(fc, head="identity", dim=384)
        model = build_minilm_colbert(base)
        torch.set_num_threads(torch.get_num_threads())
        start = time.perf_counter()
        docs = [
            torch.from_numpy(e) for e in model.encode(texts, is_query=False, normalize_embeddings=False, batch_size=32)
        ]
        seconds = time.perf_counter() - start
        queries = [torch.from_numpy(e) for e in model.encode(qtexts, is_query=True, normalize_embeddings=False)]
        print(f"encoded {fc} in {seconds:.0f}s", file=sys.stderr)
        for head, dim in heads:
            weight = head_weight(replace(fc, head=head, dim=dim))
            d = project(docs, weight)
            q = dict(zip(qids, project(queries, weight)))
            run = rank(q, d, doc_ids)
            ndcg = ndcg_at_k(data.qrels, run, 10)
            mean_tokens = sum(len(x) for x in d) / len(d)
            rows.append((fc, head, dim, 1, ndcg, mean_tokens))
            print(f"  {head}-{dim}: nDCG@10={ndcg:.4f}", file=sys.stderr)
            if (head, dim) in {("identity", 384), ("orthogonal", 128)} and fc == forward_configs[0 if quick else 1]:
                pooled = pool_embeddings_hierarchical(d, pool_factor=2)
                run = rank(q, pooled, doc_ids)
                ndcg = ndcg_at_k(data.qrels, run, 10)
                rows.append((fc, head, dim, 2, ndcg, sum(len(x) for x in pooled) / len(pooled)))
                print(f"  {head}-{dim} pool 2: nDCG@10={ndcg:.4f}", file=sys.stderr)
    columns = ["markers", "query expansion", "document_length", "skiplist", "head", "dim", "pool_factor"]
    columns += ["vectors/doc", "bytes/doc (fp16)", "nDCG@10"]
    print("| " + " | ".join(columns) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for fc, head, dim, pool, ndcg, tokens in rows:
        print(
            f"| {'[Q]/[D]' if fc.markers else 'none'} | {'[MASK] to 32' if fc.expansion else 'none'} | "
            f"{fc.document_length} | {'punctuation' if fc.skiplist else 'none'} | {head} | {dim} | {pool} | "
            f"{tokens:.0f} | {tokens * dim * 2:,.0f} | {ndcg:.4f} |"
        )


if __name__ == "__main__":
    main(sys.argv[1], "--quick" in sys.argv)
