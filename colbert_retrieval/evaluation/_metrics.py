"""Ranking metrics with trec_eval's definitions (averaged over the queries that have judgments).

* nDCG@k (``ndcg_cut.k``): linear gain ``rel``, discount ``log2(rank + 1)``; the ideal ranking sorts all
  judged documents of the query by relevance. Judgments of 0 or below count as non-relevant.
* Recall@k (``recall.k``): relevant documents retrieved in the top k / all relevant documents.
* MRR@k (``recip_rank`` cut at k): 1 / rank of the first relevant document in the top k.

Queries with judgments but no run contribute 0; queries without any relevant document are skipped,
as trec_eval does.

Examples:
    >>> qrels = {"q": {"a": 2, "b": 1}}
    >>> # DCG = 1/log2(2) + 2/log2(4) = 2; IDCG = 2/log2(2) + 1/log2(3) = 2.6309
    >>> round(ndcg_at_k(qrels, {"q": ["b", "x", "a"]}, k=10), 4)
    0.7602
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["mrr_at_k", "ndcg_at_k", "ndcg_per_query", "recall_at_k", "retrieval_metrics"]

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def _judged(qrels: Qrels) -> list[str]:
    return [q for q, docs in qrels.items() if any(r > 0 for r in docs.values())]


def ndcg_per_query(qrels: Qrels, run: Run, k: int = 10) -> dict[str, float]:
    """nDCG@k of each judged query (what paired comparisons of two runs need).

    Args:
        qrels: query id -> document id -> graded relevance.
        run: query id -> ranked document ids (best first).
        k: cut-off.

    Returns:
        Query id -> nDCG@k, for every query with a relevant judgment (0 where the run has none).

    Examples:
        >>> ndcg_per_query({"q": {"a": 1}, "r": {"b": 1}}, {"q": ["a"], "r": ["x"]})
        {'q': 1.0, 'r': 0.0}
    """
    values = {}
    for query in _judged(qrels):
        judgments = qrels[query]
        ranked = list(run.get(query, []))[:k]
        dcg = sum(max(judgments.get(doc, 0), 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked))
        ideal = sorted((r for r in judgments.values() if r > 0), reverse=True)[:k]
        idcg = sum(r / math.log2(rank + 2) for rank, r in enumerate(ideal))
        values[query] = dcg / idcg if idcg > 0 else 0.0
    return values


def ndcg_at_k(qrels: Qrels, run: Run, k: int = 10) -> float:
    """Mean nDCG@k.

    Args:
        qrels: query id -> document id -> graded relevance.
        run: query id -> ranked document ids (best first).
        k: cut-off.

    Returns:
        The mean over judged queries.
    """
    values = list(ndcg_per_query(qrels, run, k).values())
    return sum(values) / len(values) if values else 0.0


def recall_at_k(qrels: Qrels, run: Run, k: int = 100) -> float:
    """Mean Recall@k.

    Examples:
        >>> recall_at_k({"q": {"a": 1, "b": 1}}, {"q": ["a", "c"]}, k=2)
        0.5
    """
    values = []
    for query in _judged(qrels):
        relevant = {d for d, r in qrels[query].items() if r > 0}
        found = relevant.intersection(list(run.get(query, []))[:k])
        values.append(len(found) / len(relevant))
    return sum(values) / len(values) if values else 0.0


def mrr_at_k(qrels: Qrels, run: Run, k: int = 10) -> float:
    """Mean reciprocal rank of the first relevant document within the top k.

    Examples:
        >>> mrr_at_k({"q": {"a": 1}}, {"q": ["x", "a"]}, k=10)
        0.5
    """
    values = []
    for query in _judged(qrels):
        judgments = qrels[query]
        score = 0.0
        for rank, doc in enumerate(list(run.get(query, []))[:k]):
            if judgments.get(doc, 0) > 0:
                score = 1.0 / (rank + 1)
                break
        values.append(score)
    return sum(values) / len(values) if values else 0.0


def retrieval_metrics(qrels: Qrels, run: Run) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR@10 of a run, rounded to 4 decimals (what ``colbert-retrieval`` reports).

    Examples:
        >>> retrieval_metrics({"q": {"a": 1}}, {"q": ["a"]})
        {'ndcg@10': 1.0, 'recall@100': 1.0, 'mrr@10': 1.0}
    """
    return {
        "ndcg@10": round(ndcg_at_k(qrels, run, 10), 4),
        "recall@100": round(recall_at_k(qrels, run, 100), 4),
        "mrr@10": round(mrr_at_k(qrels, run, 10), 4),
    }
