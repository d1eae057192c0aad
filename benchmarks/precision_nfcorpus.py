"""nDCG@10 change on NFCorpus for each reduced-precision path vs float32 (run by hand).

    python benchmarks/precision_nfcorpus.py ../shared/data/nfcorpus

Paths: bf16 weights (``model.to(torch.bfloat16)``), bf16 MaxSim (``compute_dtype=torch.bfloat16``), float16
storage of document vectors (what the Qdrant index stores), on the default model, exact MaxSim over the
whole corpus. On a GPU the same script measures the GPU's bf16 encoder. Writes docs/benchmarks/precision.md.
"""

from __future__ import annotations

import copy
import sys

import torch
from _common import machine, table, write_result

from colbert_retrieval import default_model, scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k


def evaluate(data, doc_ids, queries, docs, compute_dtype=None) -> float:
    d, d_mask = scores.pad_embeddings(docs)
    run = {}
    for qid, q in queries.items():
        s = scores.colbert_scores(q[None], d, None, d_mask, compute_dtype=compute_dtype)[0]
        run[qid] = [doc_ids[i] for i in torch.topk(s, 10).indices.tolist()]
    return ndcg_at_k(data.qrels, run, 10)


def main(folder: str) -> None:
    data = load_beir(folder)
    doc_ids = list(data.corpus)
    texts = [data.corpus[i] for i in doc_ids]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    fp32 = default_model(device=device)
    bf16 = copy.deepcopy(fp32).to(torch.bfloat16)
    results = {}
    for name, model in (("float32", fp32), ("bf16 weights", bf16)):
        docs = [torch.from_numpy(e) for e in model.encode(texts, is_query=False, batch_size=64)]
        queries = {qid: torch.from_numpy(model.encode(t)) for qid, t in data.queries.items()}
        results[name] = evaluate(data, doc_ids, queries, docs)
        if name == "float32":
            results["float16 stored vectors"] = evaluate(data, doc_ids, queries, [x.half().float() for x in docs])
            results["bf16 MaxSim"] = evaluate(data, doc_ids, queries, docs, compute_dtype=torch.bfloat16)
        print(name, results, file=sys.stderr, flush=True)
    base = results["float32"]
    rows = [[name, f"{value:.4f}", f"{value - base:+.4f}"] for name, value in results.items()]
    markdown = f"Machine: {machine()}. Default model, NFCorpus, exact MaxSim, nDCG@10.\n\n" + table(
        ["path", "nDCG@10", "change vs float32"], rows
    )
    print(markdown)
    write_result("precision", markdown)


if __name__ == "__main__":
    main(sys.argv[1])
