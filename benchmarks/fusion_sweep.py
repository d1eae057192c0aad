"""Offline sweep of hybrid fusion functions on NFCorpus dev queries (never test), from cached vectors.

    python benchmarks/fusion_sweep.py ../shared/data/nfcorpus [dev]

For every dev query it computes once: exact MaxSim to every document (torch), BM25 to every document (the
engine's BM25 with IDF, through the embedded store) and the MUVERA first-stage score of every document. Then
it replays hybrid search for several candidate sizes and fusion functions in numpy and prints nDCG@10,
so the fusion in ``colbert_retrieval.qdrant._plans`` is chosen by measurement. Needs the document vectors
cached by ``qdrant_engine.py``.
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np
import torch
from _common import printed_result
from qdrant_engine import CACHE

from colbert_retrieval import default_model, scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.qdrant import ColBERTIndex, Schema
from colbert_retrieval.qdrant._bm25 import BM25Encoder
from colbert_retrieval.qdrant.backends import QueryPlan
from colbert_retrieval.single_vector import muvera_document, muvera_query


def z(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 0 else np.zeros_like(x)


def minmax(x: np.ndarray) -> np.ndarray:
    r = x.max() - x.min()
    return (x - x.min()) / r if r > 0 else np.zeros_like(x)


def main(folder: str, split: str = "dev") -> None:
    data = load_beir(folder, split)
    doc_ids = list(data.corpus)
    vectors = torch.load(CACHE, weights_only=True)
    model = default_model()
    with tempfile.TemporaryDirectory() as tmp:
        index = ColBERTIndex(model, "sweep", store=tmp, schema=Schema(pool_factor=2))
        index.add_embeddings([{"id": i, "text": data.corpus[i]} for i in doc_ids], vectors)
        muvera = index.settings.muvera_config()
        encoder = BM25Encoder(index.settings.bm25_config())
        fs_docs = np.stack([muvera_document(v.float().numpy(), muvera) for v in vectors])
        d, mask = scores.pad_embeddings([v.float() for v in vectors])
        position = {i: n for n, i in enumerate(doc_ids)}
        per_query = {}
        for qid, text in data.queries.items():
            q = model.encode(text, is_query=True)
            maxsim = scores.colbert_scores(torch.from_numpy(q)[None], d, None, mask)[0].numpy()
            sparse = encoder.embed_queries([text])[0]
            bm25 = np.zeros(len(doc_ids))
            if len(sparse):
                hits = index.backend.query_batch([QueryPlan("bm25", sparse, len(doc_ids), with_payload=True)])[0]
                for h in hits:
                    bm25[position[str(h.payload["id"])]] = h.score
            first = fs_docs @ muvera_query(q, muvera)
            per_query[qid] = (maxsim, bm25, first, len(q))
        index.close()

    def evaluate(prefetch: int, bm25_limit: int, fusion, known: int | None = None) -> float:
        run = {}
        for qid, (maxsim, bm25, first, tokens) in per_query.items():
            if known is not None:  # BM25 scores read only from the BM25 top-`known`, 0 elsewhere
                top = np.argsort(-bm25)[:known]
                bm25 = np.where(np.isin(np.arange(len(bm25)), top), bm25, 0.0)
            cand = set(np.argsort(-first)[:prefetch].tolist())
            if bm25_limit:
                cand |= {i for i in np.argsort(-bm25)[:bm25_limit].tolist() if bm25[i] > 0}
            cand = np.array(sorted(cand))
            fused = fusion(maxsim[cand], bm25[cand], tokens)
            run[qid] = [doc_ids[i] for i in cand[np.argsort(-fused)][:100]]
        return ndcg_at_k(data.qrels, run, 10)

    everything = len(doc_ids)
    print(f"exact MaxSim: {evaluate(everything, 0, lambda m, b, t: m):.4f}")
    print(f"BM25 alone: {evaluate(everything, 0, lambda m, b, t: b):.4f}")
    fusions = {}
    for w in (0.2, 0.3, 0.4, 0.5, 0.6):
        fusions[f"z w={w}"] = lambda m, b, t, w=w: (1 - w) * z(m) + w * z(b)
        fusions[f"minmax w={w}"] = lambda m, b, t, w=w: (1 - w) * minmax(m) + w * minmax(b)
        fusions[f"maxsim/tokens + w*bm25/max w={w}"] = lambda m, b, t, w=w: (
            (1 - w) * m / t + w * (b / b.max() if b.max() > 0 else b)
        )
    fusions["rrf k=60"] = lambda m, b, t: 1 / (60 + np.argsort(np.argsort(-m))) + 1 / (60 + np.argsort(np.argsort(-b)))
    print("BM25 scores known only within BM25's top-N (z, w=0.3, 200+100 candidates):")
    for known in (100, 300, 1000, None):
        print(f"  top-{known}: {evaluate(200, 100, fusions['z w=0.3'], known):.4f}")
    print("| fusion | all docs | 200+100 | 200+200 | 400+200 | 1000+300 |\n|---|---|---|---|---|---|")
    for name, fusion in fusions.items():
        cells = [evaluate(p, b, fusion) for p, b in ((everything, 0), (200, 100), (200, 200), (400, 200), (1000, 300))]
        print(f"| {name} | " + " | ".join(f"{c:.4f}" for c in cells) + " |", flush=True)


if __name__ == "__main__":
    with printed_result("fusion-sweep"):
        main(*sys.argv[1:])
