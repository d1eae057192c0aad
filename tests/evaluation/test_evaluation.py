from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from colbert_retrieval.evaluation import load_beir, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_hand_computed() -> None:
    qrels = {"q1": {"a": 2, "b": 1, "c": 0}, "q2": {"x": 1}}
    run = {"q1": ["c", "a", "z", "b"], "q2": ["y", "z"]}
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k(qrels, run, k=10) == pytest.approx((dcg / idcg + 0.0) / 2)
    # The cut-off applies to the run and to the ideal ranking.
    assert ndcg_at_k(qrels, run, k=1) == pytest.approx(0.0)


def test_recall_and_mrr_hand_computed() -> None:
    qrels = {"q1": {"a": 1, "b": 2, "c": 1}, "q2": {"x": 1}, "q3": {"n": 0}}
    run = {"q1": ["z", "b", "a"], "q2": ["x"]}
    assert recall_at_k(qrels, run, k=2) == pytest.approx((1 / 3 + 1) / 2)  # q3 has no relevant doc: skipped
    assert mrr_at_k(qrels, run, k=10) == pytest.approx((1 / 2 + 1) / 2)
    assert mrr_at_k(qrels, run, k=1) == pytest.approx((0 + 1) / 2)


def test_load_beir(tmp_path: Path) -> None:
    corpus = [
        {"_id": "d1", "title": "Vitamin C", "text": "prevents scurvy"},
        {"_id": "d2", "title": "", "text": "x"},
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(c) for c in corpus) + "\n")
    queries = [{"_id": "q1", "text": "scurvy?"}, {"_id": "q9", "text": "unjudged"}]
    (tmp_path / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\n")
    data = load_beir(tmp_path)
    assert data.corpus == {"d1": "Vitamin C prevents scurvy", "d2": "x"}
    assert data.queries == {"q1": "scurvy?"}
    assert data.qrels == {"q1": {"d1": 2}}
    with pytest.raises(FileNotFoundError, match=r"dev\.tsv"):
        load_beir(tmp_path, split="dev")
