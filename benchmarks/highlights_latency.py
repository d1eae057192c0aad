"""What highlights cost: search latency with and without, beside an A/A pair, and the span tables' size.

    pip install -e ".[bench]"
    python benchmarks/highlights_latency.py ../shared/data/nfcorpus

The NFCorpus corpus goes into an embedded index with the defaults (pooling 2, BM25, hybrid search); its test
queries are searched one call per query (k=10), as a RAG app does, with ``highlights`` off, off again (A/A:
the noise of this machine) and on, in interleaved rounds. Ratios are per-round medians with their min-max
spread (times on this CPU are not reported: absolute numbers belong to GPU runs). At ingest, the span tables'
work (tokenising with offsets, nearest stored vector per token) is timed against encoding and pooling the same
documents, and their payload size against the stored vectors'. Writes docs/benchmarks/highlights.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from _common import machine, table, write_result


def rounds(candidates: dict, count: int) -> dict[str, list[float]]:
    """Seconds per round of each candidate, the candidates interleaved within each round."""
    for function in candidates.values():  # warm-up
        function()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(count):
        for name, function in candidates.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return times


def ratio(times: dict[str, list[float]], name: str, base: str) -> str:
    values = [a / b for a, b in zip(times[name], times[base])]
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--queries", type=int, default=100, help="test queries per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--documents", type=int, default=None, help="index only the first N (default: all)")
    args = parser.parse_args()

    import numpy as np
    import torch

    from colbert_retrieval import default_model
    from colbert_retrieval.evaluation import load_beir
    from colbert_retrieval.models import document_token_spans
    from colbert_retrieval.pooling import compile_cpu_kernels, pool_embeddings_hierarchical
    from colbert_retrieval.qdrant import SPANS_KEY, ColBERTIndex
    from colbert_retrieval.qdrant._highlights import span_table

    compile_cpu_kernels(wait=True)
    data = load_beir(args.data, "test")
    corpus = dict(list(data.corpus.items())[: args.documents])
    model = default_model()
    queries = list(data.queries.values())[: args.queries]

    sample = list(corpus.values())[:256]  # ingest: the span tables' work against encoding + pooling
    start = time.perf_counter()
    tokens = model.encode(sample, is_query=False, convert_to_tensor=True, batch_size=32)
    pooled = pool_embeddings_hierarchical(list(tokens), 2)
    encode_seconds = time.perf_counter() - start
    start = time.perf_counter()
    spans = document_token_spans(model, sample)
    tables = [span_table(t, p, s) for t, p, s in zip(tokens, pooled, spans)]
    table_seconds = time.perf_counter() - start
    covered = sum(t is not None for t in tables)

    with ColBERTIndex(model, "nfcorpus", store=":memory:") as index:
        index.add(({"id": i, "text": t} for i, t in corpus.items()), batch_size=32)
        search = {
            "off": lambda: [index.search(q, k=10) for q in queries],
            "off again (A/A)": lambda: [index.search(q, k=10) for q in queries],
            "on": lambda: [index.search(q, k=10, config={"highlights": True}) for q in queries],
        }
        times = rounds(search, args.rounds)
        hits = [h for q in queries for h in index.search(q, k=10, config={"highlights": True})]
        points = index._backend.retrieve([h.point_id for h in hits[:200]], with_vectors=True)
    table_bytes = [len(json.dumps(p.payload.get(SPANS_KEY, []))) for p in points]
    vector_bytes = [np.asarray(p.vectors["colbert"]).size * 2 for p in points]
    rows = [
        ["search, highlights off (A/A)", ratio(times, "off again (A/A)", "off")],
        ["search, highlights on / off", ratio(times, "on", "off")],
        ["ingest: span tables / (encode + pool)", f"{table_seconds / encode_seconds:.3f}"],
        ["payload: span table bytes / stored float16 vector bytes", f"{sum(table_bytes) / sum(vector_bytes):.3f}"],
    ]
    with_spans = sum(1 for h in hits if h.highlights)
    markdown = (
        f"Embedded index of {len(corpus)} NFCorpus documents with the defaults (pooling 2, hybrid); "
        f"{len(queries)} test queries, one call each, k=10; {args.rounds} interleaved rounds. "
        f"Ratios of time (lower is cheaper): median of the rounds (min-max). Machine: {machine()}; torch threads "
        f"{torch.get_num_threads()}.\n\n"
        + table(["measure", "ratio"], rows)
        + f"\n\n{with_spans} of {len(hits)} hits carry at least one highlight; span tables cover {covered} of "
        f"{len(sample)} sampled documents (the rest would re-encode at search)."
    )
    print(markdown)
    write_result("highlights", markdown)


if __name__ == "__main__":
    main()
