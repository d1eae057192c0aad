"""Fitting a model's relevance calibration on an index: judged queries in, a :class:`Relevance` out.

The examples are what users threshold: each held-out query's top ``k`` hits of the index's default search, with
the features the searcher computes for them (:func:`~colbert_retrieval.models._relevance.query_features`) and a 0/1
label from the judgments (a hit is relevant when its id is judged above 0). Fit on training queries only; judge
the result on queries it never saw (``colbert_retrieval.evaluation.calibration``).

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "fit", store=":memory:")
    >>> _ = index.add([{"id": "a", "text": "Scurvy comes from a lack of vitamin C."},
    ...                {"id": "b", "text": "Paris is the capital of France."}])
    >>> features, labels = relevance_examples(index, {"q": "what causes scurvy"}, {"q": {"a": 1}}, k=2)
    >>> features.shape, labels.tolist()
    ((2, 3), [1.0, 0.0])
    >>> index.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import Relevance, query_features

__all__ = ["fit_relevance", "relevance_examples"]


def relevance_examples(
    index: Any,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    k: int = 10,
    mode: str | None = None,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels of each judged query's top ``k`` hits (the index's default search, or ``mode``).

    ``index`` is a :class:`~colbert_retrieval.qdrant.ColBERTIndex` (its ``search`` and ``settings`` only).

    Queries without judgments are left out (their hits have no labels).

    Raises:
        InvalidArgumentError: no query has judgments.
    """
    judged = [qid for qid in queries if qrels.get(qid)]
    if not judged:
        msg = "relevance_examples needs queries with judgments (qrels); none of the queries has any."
        raise InvalidArgumentError(msg)
    rows: list[np.ndarray] = []
    labels: list[float] = []
    config: dict[str, Any] = {"mode": mode} if mode is not None else {}
    for start in range(0, len(judged), batch_size):
        ids = judged[start : start + batch_size]
        found = index.search([queries[qid] for qid in ids], k=k, config=config)
        for qid, hits in zip(ids, found):
            if not hits:
                continue
            cosine = [h.scores.get("mean_maxsim", 0.0) for h in hits]
            maxsim = hits[0].scores.get("maxsim", 0.0)
            tokens = round(maxsim / cosine[0]) if cosine[0] else 1
            rows.append(query_features(cosine, tokens))
            labels.extend(1.0 if qrels[qid].get(str(h.id), 0) > 0 else 0.0 for h in hits)
    return np.vstack(rows) if rows else np.zeros((0, 3)), np.asarray(labels)


def fit_relevance(
    index: Any,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    *,
    k: int = 10,
    mode: str | None = None,
    fitted_on: str = "",
) -> Relevance:
    """The index model's relevance calibration, fitted on judged queries' top ``k`` hits.

    Set it on the model (``model.relevance = fit_relevance(...)``) and ``save`` the model to keep it.

    Raises:
        InvalidArgumentError: no judged query, or hits of one label only (nothing to calibrate against).
    """
    features, labels = relevance_examples(index, queries, qrels, k=k, mode=mode)
    used = mode or ("hybrid" if index.settings.has_bm25 else "colbert")
    note = fitted_on or f"{len(labels)} top-{k} hits of {len({*queries} & {*qrels})} judged queries"
    return Relevance.fit(features, labels, mode=used, fitted_on=note)
