"""Qdrant's in-engine fusion (DBSF, weighted RRF) against the client-side z-fusion of hybrid search, NFCorpus dev.

    python benchmarks/engine_fusion.py ../shared/data/nfcorpus

Dev queries only (never test): this chooses how hybrid search fuses. Same index, same candidates for every
fusion (MUVERA top ``prefetch_limit`` + BM25 top ``bm25_limit``, MaxSim over their union; BM25's own top list):

* ``z`` (today's default): one engine call returns both lists, the client z-normalises and weights them
  (``(1 - w) z(MaxSim) + w z(BM25)``), then reads the top-k payloads (2 round trips on a server);
* ``dbsf``: Qdrant's distribution-based score fusion (each list normalised by mean +- 3 std, summed, no weights);
* ``rrf k, w``: Qdrant's weighted reciprocal rank fusion; both in-engine fusions return the top k with payloads
  in the one call (1 round trip).

Also prints the engine time per query for each (query vectors encoded once beforehand), embedded store, and,
as a check that the index redesign changed no ranking, nDCG@10 on the test split of each mode through the
public ``index.search`` (compare docs/benchmarks/qdrant-engine.md).
"""

from __future__ import annotations

import sys
import tempfile
import time
from typing import Any

import numpy as np
import qdrant_edge as qe
from _common import machine, printed_result

from colbert_retrieval import default_model
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.qdrant import ColBERTIndex, Schema, SearchConfig
from colbert_retrieval.qdrant._bm25 import BM25Encoder
from colbert_retrieval.qdrant._plans import SearchMode, fuse, plans_for
from colbert_retrieval.qdrant._schema import BM25_VECTOR, COLBERT_VECTOR, FIRST_STAGE_VECTOR
from colbert_retrieval.qdrant.backends import Candidates, QueryPlan
from colbert_retrieval.qdrant.backends._edge import _params, _query
from colbert_retrieval.single_vector import muvera_query


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prefetches(multivector: np.ndarray, first: np.ndarray, sparse: Any, config: SearchConfig) -> list[Any]:
    """The two lists every fusion sees: MaxSim over the candidate union, and BM25's own top list."""
    candidates = [qe.Prefetch(limit=config.prefetch_limit, query=_query(FIRST_STAGE_VECTOR, first))]
    lists = []
    if len(sparse):
        candidates.append(qe.Prefetch(limit=config.bm25_limit, query=_query(BM25_VECTOR, sparse)))
    plan = QueryPlan(COLBERT_VECTOR, multivector, 1, (Candidates(FIRST_STAGE_VECTOR, first, 1),))
    total = config.prefetch_limit + (config.bm25_limit if len(sparse) else 0)
    lists.append(
        qe.Prefetch(
            limit=total,
            query=_query(COLBERT_VECTOR, multivector),
            prefetches=candidates,
            params=_params(plan.params()),
        )
    )
    if len(sparse):
        lists.append(qe.Prefetch(limit=config.bm25_limit, query=_query(BM25_VECTOR, sparse)))
    return lists


def main(folder: str) -> None:
    data = load_beir(folder, "dev")
    test = load_beir(folder, "test")
    model = default_model()
    config = SearchConfig()
    ids = list(data.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        index = ColBERTIndex(model, "nfcorpus", store=tmp, schema=Schema(pool_factor=2))
        start = time.perf_counter()
        index.add(({"id": i, "text": data.corpus[i]} for i in ids), batch_size=32)
        index.optimize()
        log(f"indexed {len(ids)} documents in {time.perf_counter() - start:.0f} s")
        shard = index.backend.shard
        muvera = index.settings.muvera_config()
        bm25 = BM25Encoder(index.settings.bm25_config())
        queries = list(data.queries.items())
        encoded = {qid: model.encode(text, is_query=True) for qid, text in queries}
        first = {qid: muvera_query(encoded[qid], muvera) for qid, _ in queries}
        sparse = {qid: bm25.embed_queries([text])[0] for qid, text in queries}

        def run_engine(fusion: Any) -> tuple[dict[str, list[str]], float]:
            run, seconds = {}, []
            for qid, _ in queries:
                lists = prefetches(encoded[qid], first[qid], sparse[qid], config)
                if len(lists) == 2:
                    request = qe.QueryRequest(limit=10, query=fusion, prefetches=lists, with_payload=True)
                else:  # no BM25 term in the query: the MaxSim list alone, as the client-side fusion does
                    plan = QueryPlan(COLBERT_VECTOR, encoded[qid], 10, (Candidates(FIRST_STAGE_VECTOR, first[qid], 1),))
                    request = qe.QueryRequest(
                        limit=10,
                        query=_query(COLBERT_VECTOR, encoded[qid]),
                        prefetches=[
                            qe.Prefetch(limit=config.prefetch_limit, query=_query(FIRST_STAGE_VECTOR, first[qid]))
                        ],
                        params=_params(plan.params()),
                        with_payload=True,
                    )
                start = time.perf_counter()
                points = shard.query_batch(qe.QueryBatchRequest([request]))[0]
                seconds.append(time.perf_counter() - start)
                run[qid] = [str(p.payload["id"]) for p in points]
            return run, float(np.median(seconds)) * 1000

        def run_z(weight: float) -> tuple[dict[str, list[str]], float]:
            run, seconds = {}, []
            weighted = SearchConfig(bm25_weight=weight)
            for qid, _ in queries:
                plans = plans_for(
                    SearchMode.HYBRID, encoded[qid], first[qid], sparse[qid], 10, None, weighted, small=False
                )
                start = time.perf_counter()
                results = index.backend.query_batch(plans)
                maxsim = [(p.id, float(p.score or 0.0)) for p in results[0]]
                lexical = {p.id: float(p.score or 0.0) for p in results[1]} if len(results) > 1 else {}
                top = [row[0] for row in fuse(maxsim, lexical, weight if lexical else 0.0)[:10]]
                found = {p.id: p for p in index.backend.retrieve(top)}
                seconds.append(time.perf_counter() - start)
                run[qid] = [str(found[i].payload["id"]) for i in top if i in found]
            return run, float(np.median(seconds)) * 1000

        rows = []
        for weight in (0.2, 0.3, 0.4):
            run, ms = run_z(weight)
            rows.append((f"z, w={weight} (client-side)", ndcg_at_k(data.qrels, run, 10), ms, 2))
        run, ms = run_engine(qe.Fusion.Dbsf())
        rows.append(("DBSF (in-engine)", ndcg_at_k(data.qrels, run, 10), ms, 1))
        for k in (20, 60):
            for weight in (0.2, 0.3, 0.5):
                run, ms = run_engine(qe.Fusion.Rrf(k, [1.0 - weight, weight]))
                rows.append((f"RRF k={k}, w={weight} (in-engine)", ndcg_at_k(data.qrels, run, 10), ms, 1))
        modes = {}
        for mode in ("exact", "colbert", "hybrid"):
            run = {}
            for qid, text in test.queries.items():
                run[qid] = [str(h.id) for h in index.search(text, k=100, config={"mode": mode})]
            modes[mode] = ndcg_at_k(test.qrels, run, 10)
        index.close()
    print(f"# In-engine fusion vs client-side z-fusion (NFCorpus dev, {len(queries)} queries)\n")
    print(f"{machine()}. Default model, pool_factor 2, embedded store, {len(ids)} documents; candidates: MUVERA top")
    print(f"{config.prefetch_limit} + BM25 top {config.bm25_limit}, MaxSim over their union; k=10. Engine time: the")
    print("store's calls for one query (query vectors encoded beforehand), median.\n")
    print("| fusion | nDCG@10 (dev) | engine ms / query | round trips on a server |")
    print("|---|---|---|---|")
    for name, ndcg, ms, trips in rows:
        print(f"| {name} | {ndcg:.4f} | {ms:.1f} | {trips} |")
    print(f"\nThe public `index.search` per mode, test split ({len(test.queries)} queries), nDCG@10: ")
    print(", ".join(f"{mode} {value:.4f}" for mode, value in modes.items()) + ".")


if __name__ == "__main__":
    with printed_result("engine-fusion"):
        main(*sys.argv[1:])
