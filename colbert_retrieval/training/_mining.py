"""Hard negatives mined from our own index: the documents the current model ranks high that are not relevant.

Given (query, relevant documents) judgments and a corpus, the corpus goes into an embedded index
(:class:`~colbert_retrieval.qdrant.ColBERTIndex`) and each query retrieves its top ``top_k`` by two-stage
search (MUVERA candidates reranked by MaxSim, as the index searches; exact MaxSim over every document costs
minutes per thousand queries on a CPU, and hard negatives need no exact ranks). Negatives are drawn from
those that are not judged relevant and are not near-duplicates of the positive (the same text indexed twice,
which corpora often hold); optionally (``relative_margin``) also from those scoring well below the positive.

Examples:
    >>> from colbert_retrieval.testing import shared_model
    >>> corpus = {"a": "Scurvy comes from a lack of vitamin C.", "b": "Vitamin D and bones.", "c": "Paris."}
    >>> rows = mine_hard_negatives(shared_model(), {"q": "what causes scurvy?"}, {"q": {"a": 1}}, corpus)
    >>> rows.column_names, rows[0]["positive"], rows[0]["negative_1"] in ("Vitamin D and bones.", "Paris.")
    (['query', 'positive', 'negative_1'], 'Scurvy comes from a lack of vitamin C.', True)
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import datasets
import numpy as np
import torch

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import ColBERT
from colbert_retrieval.qdrant import ColBERTIndex, Schema
from colbert_retrieval.scores import colbert_scores
from colbert_retrieval.single_vector import mean_vector

__all__ = ["mine_hard_negatives"]


def _candidates(
    model: ColBERT,
    queries: Mapping[str, str],
    corpus_ids: list[str],
    corpus_embeddings: Sequence[np.ndarray],
    top_k: int,
) -> tuple[dict[str, list[tuple[str, float]]], list[np.ndarray]]:
    """Each query's top ``top_k`` (document id, MaxSim) from an embedded index, and the query vectors."""
    query_ids = list(queries)
    vectors = model.encode([queries[q] for q in query_ids], is_query=True)
    with ColBERTIndex(model, "mining", store=":memory:", schema=Schema(pool_factor=1, bm25=False)) as index:
        index.add_embeddings([{"id": i, "text": i} for i in corpus_ids], list(corpus_embeddings))
        ranked: dict[str, list[tuple[str, float]]] = {}
        for start in range(0, len(query_ids), 64):
            hits = index.search(list(vectors[start : start + 64]), k=top_k, config={"mode": "colbert"})
            for query_id, found in zip(query_ids[start : start + 64], hits):
                ranked[query_id] = [(str(h.id), float(h.score or 0.0)) for h in found]
    return ranked, vectors


def mine_hard_negatives(
    model: ColBERT,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    corpus: Mapping[str, str],
    *,
    n_negatives: int = 1,
    positives_per_query: int = 1,
    passes: int = 1,
    top_k: int = 50,
    relative_margin: float | None = None,
    duplicate_threshold: float = 0.98,
    seed: int = 0,
    corpus_embeddings: Sequence[np.ndarray] | None = None,
    batch_size: int = 32,
) -> datasets.Dataset:
    """A training dataset ``(query, positive, negative_1, ..., negative_n)`` with mined hard negatives.

    Args:
        model: the encoder whose mistakes are mined (usually the model about to be trained).
        queries: query id to text.
        qrels: query id to ``{document id: grade}``; grades above 0 are positives.
        corpus: document id to text.
        n_negatives: negatives per row.
        positives_per_query: rows per query and pass, each with another positive (best grades first).
        passes: how many times the queries are listed (each pass draws other positives and negatives; a
            trainer epoch over the result is ``passes`` passes over the queries).
        top_k: retrieved candidates per query.
        relative_margin: if set, candidates scoring above ``(1 - relative_margin) *`` the positive's MaxSim
            are skipped (probably relevant but unjudged). Off by default: where the model ranks the positive
            low, that rule leaves no negative at all, and those are the queries training should fix.
        duplicate_threshold: candidates whose mean token vector has at least this cosine with the positive's
            (1.0 for the same text) are near-duplicates of it and skipped.
        seed: random seed of the draws.
        corpus_embeddings: the corpus's token vectors in ``corpus`` order, if already computed.
        batch_size: texts per forward pass.

    Returns:
        The rows, pass by pass; queries without a judged positive in the corpus or without enough
        negatives are left out.

    Raises:
        InvalidArgumentError: a count below 1 or a margin outside ``[0, 1)``.
    """
    for name, value in (("n_negatives", n_negatives), ("positives_per_query", positives_per_query)):
        positive_int(value, name)
    positive_int(passes, "passes")
    positive_int(top_k, "top_k")
    if relative_margin is not None and not 0.0 <= relative_margin < 1.0:
        raise InvalidArgumentError(f"relative_margin must be in [0, 1), got {relative_margin!r}.")
    corpus_ids = list(corpus)
    if corpus_embeddings is None:
        corpus_embeddings = model.encode([corpus[i] for i in corpus_ids], is_query=False, batch_size=batch_size)
    judged = {q: t for q, t in queries.items() if any(g > 0 and d in corpus for d, g in qrels.get(q, {}).items())}
    ranked, vectors = _candidates(model, judged, corpus_ids, corpus_embeddings, top_k)
    position = {doc_id: n for n, doc_id in enumerate(corpus_ids)}
    directions = _mean_directions(corpus_embeddings)
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for _ in range(passes):
        for (query_id, text), query_vectors in zip(judged.items(), vectors):
            positives = [d for d, g in sorted(qrels[query_id].items(), key=lambda x: -x[1]) if g > 0 and d in corpus]
            relevant = set(qrels[query_id])
            chosen = _draw_positives(positives, qrels[query_id], positives_per_query, rng)
            documents = [torch.as_tensor(np.asarray(corpus_embeddings[position[d]], dtype=np.float32)) for d in chosen]
            query = torch.as_tensor(np.asarray(query_vectors, dtype=np.float32))
            positive_scores = colbert_scores([query], documents)[0].tolist()
            for positive, score in zip(chosen, positive_scores):
                ceiling = float("inf") if relative_margin is None else (1.0 - relative_margin) * score
                pool = [d for d, s in ranked[query_id] if d not in relevant and s <= ceiling]
                pool = _without_duplicates(pool, positive, directions, position, duplicate_threshold)
                if len(pool) < n_negatives:
                    continue
                negatives = rng.sample(pool, n_negatives)
                row = {"query": text, "positive": corpus[positive]}
                row.update({f"negative_{n + 1}": corpus[d] for n, d in enumerate(negatives)})
                rows.append(row)
    columns = ["query", "positive"] + [f"negative_{n + 1}" for n in range(n_negatives)]
    return datasets.Dataset.from_dict({c: [row[c] for row in rows] for c in columns})


def _mean_directions(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """Each document's normalised mean token vector (near-duplicate texts have nearly the same one)."""
    return np.stack([mean_vector(e) for e in embeddings])


def _without_duplicates(
    pool: list[str], positive: str, directions: np.ndarray, position: dict[str, int], threshold: float
) -> list[str]:
    """The candidates that are not near-duplicates of the positive (cosine of mean vectors below ``threshold``)."""
    if not pool:
        return pool
    similarity = directions[[position[d] for d in pool]] @ directions[position[positive]]
    return [d for d, value in zip(pool, similarity.tolist()) if value < threshold]


def _draw_positives(positives: list[str], grades: Mapping[str, int], count: int, rng: random.Random) -> list[str]:
    """``count`` positives, from the best grade down, at random within a grade."""
    by_grade: dict[int, list[str]] = {}
    for doc_id in positives:
        by_grade.setdefault(grades[doc_id], []).append(doc_id)
    chosen: list[str] = []
    for grade in sorted(by_grade, reverse=True):
        group = by_grade[grade][:]
        rng.shuffle(group)
        chosen.extend(group[: count - len(chosen)])
        if len(chosen) >= count:
            break
    return chosen
