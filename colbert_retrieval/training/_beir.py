"""Exact-MaxSim retrieval runs over a whole corpus, and a trainer evaluator built on them.

The same function scores the untouched model, every checkpoint during training (on the eval split) and
the final model (on the test split), so before/after numbers are measured the same way: no pooling, no
first stage, every query against every document.

Examples:
    >>> from colbert_retrieval.testing import shared_model
    >>> runs, _ = exact_maxsim_runs(shared_model(), {"a": "Scurvy: no vitamin C.", "b": "Paris."}, {"q": "scurvy"}, k=2)
    >>> runs["q"]
    ['a', 'b']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from colbert_retrieval.evaluation import ndcg_per_query, retrieval_metrics
from colbert_retrieval.models import ColBERT
from colbert_retrieval.scores import colbert_scores

__all__ = ["BeirEvaluator", "exact_maxsim_runs"]


def exact_maxsim_runs(
    model: ColBERT,
    corpus: Mapping[str, str],
    queries: Mapping[str, str],
    *,
    k: int = 100,
    batch_size: int = 32,
    show_progress_bar: bool = False,
    corpus_embeddings: list[np.ndarray] | None = None,
) -> tuple[dict[str, list[str]], list[np.ndarray]]:
    """Each query's top ``k`` documents by exact MaxSim over the whole corpus.

    Args:
        model: the encoder.
        corpus: document id to text.
        queries: query id to text.
        k: documents per query.
        batch_size: texts per forward pass.
        show_progress_bar: show the corpus encoding progress.
        corpus_embeddings: the corpus's token vectors in ``corpus`` order, if already computed.

    Returns:
        The run (query id to document ids, best first) and the corpus token vectors (to reuse).
    """
    ids = list(corpus)
    if corpus_embeddings is None:
        corpus_embeddings = model.encode(
            [corpus[i] for i in ids], is_query=False, batch_size=batch_size, show_progress_bar=show_progress_bar
        )
    query_ids = list(queries)
    if not query_ids:
        return {}, corpus_embeddings
    query_vectors = model.encode([queries[q] for q in query_ids], is_query=True, batch_size=batch_size)
    documents = [torch.as_tensor(np.asarray(d, dtype=np.float32)) for d in corpus_embeddings]
    run: dict[str, list[str]] = {}
    for start in range(0, len(query_ids), 64):
        chunk = [torch.as_tensor(np.asarray(q, dtype=np.float32)) for q in query_vectors[start : start + 64]]
        scores = colbert_scores(chunk, documents)
        top = torch.topk(scores, k=min(k, len(ids)), dim=1).indices.tolist()
        for offset, row in enumerate(top):
            run[query_ids[start + offset]] = [ids[j] for j in row]
    return run, corpus_embeddings


class BeirEvaluator(BaseEvaluator):
    """Trainer evaluator: exact-MaxSim nDCG@10 (and Recall@100, MRR@10) of a BEIR split.

    Pass it as ``evaluator=`` to sentence-transformers' trainer; its primary metric ``{name}_ndcg@10`` is
    what ``metric_for_best_model="eval_{name}_ndcg@10"`` selects checkpoints on. It follows
    sentence-transformers' evaluator protocol (``primary_metric``, ``greater_is_better``, ``__call__``).

    Args:
        corpus: document id to text.
        queries: query id to text (the split's judged queries).
        qrels: query id to ``{document id: grade}``.
        name: prefix of the metric names (e.g. ``dev``).
        batch_size: texts per forward pass.
        record: a JSON-lines file that keeps each evaluation's per-query nDCG@10 (read back on creation, so a
            resumed run still has the curve of the steps it evaluated before; None: memory only).
    """

    def __init__(
        self,
        corpus: Mapping[str, str],
        queries: Mapping[str, str],
        qrels: Mapping[str, Mapping[str, int]],
        name: str = "dev",
        batch_size: int = 32,
        record: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.corpus, self.queries, self.qrels = dict(corpus), dict(queries), dict(qrels)
        self.name = name
        self.batch_size = batch_size
        self.greater_is_better = True
        self.primary_metric = f"{name}_ndcg@10"
        self.history: list[tuple[int, dict[str, float]]] = []
        self.record = Path(record) if record is not None else None
        #: ``(step, query id -> nDCG@10)`` of every evaluation (the held-out curve's per-query scores).
        self.per_query: list[tuple[int, dict[str, float]]] = []
        if self.record is not None and self.record.exists():
            for line in self.record.read_text(encoding="utf8").splitlines():
                entry = json.loads(line)
                self.per_query.append((int(entry["step"]), entry["ndcg@10"]))

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Metrics of ``model`` on the split, names prefixed with ``{name}_``."""
        training = model.training
        model.eval()
        try:
            run, _ = exact_maxsim_runs(model, self.corpus, self.queries, batch_size=self.batch_size)
        finally:
            model.train(training)
        metrics = {f"{self.name}_{key}": value for key, value in retrieval_metrics(self.qrels, run).items()}
        self.history.append((steps, metrics))
        scores = ndcg_per_query(self.qrels, run, 10)
        self.per_query = [entry for entry in self.per_query if entry[0] != steps] + [(steps, scores)]
        if self.record is not None:
            with self.record.open("a", encoding="utf8") as handle:
                handle.write(json.dumps({"step": steps, "ndcg@10": scores}) + "\n")
        return metrics

    def get_config_dict(self) -> dict[str, Any]:
        """What the model card records about this evaluator."""
        return {"queries": len(self.queries), "documents": len(self.corpus), "scoring": "exact MaxSim"}

    @property
    def description(self) -> str:
        """Name shown in the model card."""
        return "BEIR retrieval (exact MaxSim)"

    def prefix_name_to_metrics(self, metrics: dict[str, float], name: str) -> dict[str, float]:
        """The trainer's hook: metrics are already prefixed."""
        return metrics

    def store_metrics_in_model_card_data(
        self, model: Any, metrics: dict[str, Any], epoch: int = 0, step: int = 0
    ) -> None:
        """The trainer's hook: the model card is written by :func:`colbert_retrieval.training._fine_tune`."""
