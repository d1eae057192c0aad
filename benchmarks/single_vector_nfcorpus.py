"""Single vectors from the default ColBERT as a plain dense retriever on NFCorpus (run by hand).

    python benchmarks/single_vector_nfcorpus.py ../shared/data/nfcorpus

What a LangChain / LlamaIndex user gets by putting ``ColBERTEmbeddings`` / ``ColBERTEmbedding`` vectors into
any single-vector store: exact dot-product search over the whole corpus with each method of
:func:`colbert_retrieval.single_vector._encode.encode_single_vectors`, next to the base bi-encoder
(sentence-transformers' all-MiniLM-L6-v2, the model the default ColBERT is built from) and ColBERT MaxSim.
Writes docs/benchmarks/single-vector.md.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from _common import machine, table, write_result
from sentence_transformers import SentenceTransformer

from colbert_retrieval import default_model, scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.models._default import minilm_path
from colbert_retrieval.single_vector import encode_single_vectors


def dense_ndcg(
    doc_ids: list[str], queries: dict[str, str], docs: np.ndarray, query_vectors: np.ndarray, qrels
) -> float:
    similarities = query_vectors @ docs.T
    run = {qid: [doc_ids[i] for i in np.argsort(-row)[:10]] for qid, row in zip(queries, similarities)}
    return ndcg_at_k(qrels, run, 10)


def main(folder: str) -> None:
    data = load_beir(folder)
    doc_ids = list(data.corpus)
    texts = [data.corpus[i] for i in doc_ids]
    queries = {qid: data.queries[qid] for qid in data.qrels}
    model = default_model(device="cpu")
    rows = []
    for method in ("sentence", "muvera", "mean"):
        docs = encode_single_vectors(model, texts, is_query=False, method=method)
        query_vectors = encode_single_vectors(model, list(queries.values()), is_query=True, method=method)
        value = dense_ndcg(doc_ids, queries, docs, query_vectors, data.qrels)
        rows.append([f"`{method}`" + (" (default)" if method == "sentence" else ""), docs.shape[1], f"{value:.4f}"])
        print(rows[-1], flush=True)
    base = SentenceTransformer(minilm_path(), device="cpu")
    docs = base.encode(texts, normalize_embeddings=True, batch_size=32)
    query_vectors = base.encode(list(queries.values()), normalize_embeddings=True)
    base_value = dense_ndcg(doc_ids, queries, docs, query_vectors, data.qrels)
    rows.append(["all-MiniLM-L6-v2 bi-encoder (sentence-transformers, reference)", docs.shape[1], f"{base_value:.4f}"])
    multi = [torch.from_numpy(e) for e in model.encode(texts, is_query=False, pool_factor=2)]
    d, d_mask = scores.pad_embeddings(multi)
    run = {}
    for qid, text in queries.items():
        s = scores.colbert_scores(torch.from_numpy(model.encode(text, is_query=True))[None], d, None, d_mask)[0]
        run[qid] = [doc_ids[i] for i in torch.topk(s, 10).indices.tolist()]
    rows.append(
        [
            "ColBERT MaxSim (multi-vector, pool_factor 2; for comparison)",
            "n x 128",
            f"{ndcg_at_k(data.qrels, run, 10):.4f}",
        ]
    )
    markdown = (
        f"Machine: {machine()}. Default model, NFCorpus test ({len(queries)} queries, {len(texts)} documents), "
        "exact dot-product search over the whole corpus, nDCG@10.\n\n"
        + table(["single vector", "dimension", "nDCG@10"], rows)
    )
    print(markdown)
    write_result("single-vector", markdown)


if __name__ == "__main__":
    main(sys.argv[1])
