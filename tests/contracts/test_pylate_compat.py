"""The drop-in claim: PyLate's calls (names, keywords, return shapes) work on colbert_retrieval.

These are our own tests of the behaviours PyLate's test suite relies on (benchmarks/pylate_suite.py runs
PyLate's suite itself by hand); docs/pylate-differences.md lists what differs on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from colbert_retrieval import models, scores
from colbert_retrieval.pylate import rank


def unit(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute(q: np.ndarray, d: np.ndarray) -> float:
    return float((q @ d.T).max(axis=1).sum())


def test_rank_rerank_takes_pylates_keywords_and_returns_id_score_dicts() -> None:
    queries = [unit(4, 8, 0), unit(3, 8, 1)]
    documents = [[unit(5, 8, 2), unit(2, 8, 3)], [unit(1, 8, 4), unit(6, 8, 5), unit(3, 8, 6)]]
    ids = [["a", "b"], [1, 3, 2]]
    ranked = rank.rerank(documents_ids=ids, queries_embeddings=queries, documents_embeddings=documents)
    assert [len(r) for r in ranked] == [2, 3]
    for query, candidates, candidate_ids, result in zip(queries, documents, ids, ranked):
        expected = sorted(
            ({"id": i, "score": brute(query, d)} for i, d in zip(candidate_ids, candidates)), key=lambda r: -r["score"]
        )
        assert [r["id"] for r in result] == [r["id"] for r in expected]
        np.testing.assert_allclose([r["score"] for r in result], [r["score"] for r in expected], rtol=1e-5)
        assert all(set(r) == {"id", "score"} and isinstance(r["score"], float) for r in result)


def test_rank_rerank_takes_one_query_matrix_and_small_batches() -> None:
    query, docs = unit(4, 8, 0), [unit(n, 8, n) for n in (3, 9, 1, 5)]
    whole = rank.rerank([[0, 1, 2, 3]], query, [docs])
    batched = rank.rerank([[0, 1, 2, 3]], query, [docs], batch_size=1)
    assert [r["id"] for r in whole[0]] == [r["id"] for r in batched[0]]
    assert rank.rerank([[]], [query], [[]]) == [[]]


def test_colbert_scores_take_pylates_keywords_padded_or_ragged() -> None:
    q = torch.from_numpy(np.stack([unit(4, 8, i) for i in range(2)]))
    d = torch.from_numpy(np.stack([unit(6, 8, 10 + i) for i in range(3)]))
    padded = scores.colbert_scores(queries_embeddings=q, documents_embeddings=d)
    ragged = scores.colbert_scores(queries_embeddings=list(q.numpy()), documents_embeddings=list(d.numpy()))
    expected = [[brute(qi.numpy(), di.numpy()) for di in d] for qi in q]
    np.testing.assert_allclose(padded.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(ragged.numpy(), expected, rtol=1e-5)
    pairs = scores.colbert_scores_pairwise(queries_embeddings=q, documents_embeddings=d[:2])
    np.testing.assert_allclose(pairs.numpy(), [expected[0][0], expected[1][1]], rtol=1e-5)


def test_float_masks_as_pylate_passes_them() -> None:
    q = torch.tensor([[[1.0], [0.0]]])
    d = torch.tensor([[[10.0], [1.0]]])
    out = scores.colbert_scores(
        q, d, queries_mask=torch.tensor([[1.0, 1.0]]), documents_mask=torch.tensor([[0.0, 1.0]])
    )
    assert out.tolist() == [[1.0]]


def test_kd_scores_and_contrastive_scores_match_their_definitions() -> None:
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(3, 4, 8, generator=generator)
    groups = torch.randn(3, 2, 5, 8, generator=generator)
    kd = scores.colbert_kd_scores(queries_embeddings=queries, documents_embeddings=groups)
    contrastive = scores.ColBERTScores()(queries, groups)
    assert kd.shape == (3, 2) and contrastive.shape == (3, 6)
    for i in range(3):
        for j in range(3):
            for k in range(2):
                value = (queries[i] @ groups[j, k].T).max(dim=1).values.sum().item()
                assert contrastive[i, j * 2 + k].item() == pytest.approx(value, rel=1e-5)
                if i == j:
                    assert kd[i, k].item() == pytest.approx(value, rel=1e-5)


def test_contrastive_scores_carry_gradients() -> None:
    queries = torch.randn(2, 3, 4, requires_grad=True)
    groups = torch.randn(2, 2, 5, 4)
    scores.ColBERTScores()(queries, groups).sum().backward()
    assert queries.grad is not None and queries.grad.abs().sum() > 0


def test_similarity_fn_name_is_pylates_spelling_and_saves_as_sentence_transformers(
    tiny_colbert, tmp_path: Path
) -> None:
    assert tiny_colbert.similarity_fn_name == "MaxSim"
    assert repr(tiny_colbert.similarity_fn_name) == "'MaxSim'"
    assert tiny_colbert.similarity_fn_name == "maxsim"  # sentence-transformers' evaluators look it up this way
    tiny_colbert.save(str(tmp_path / "saved"))
    config = json.loads((tmp_path / "saved" / "config_sentence_transformers.json").read_text())
    assert config["similarity_fn_name"] == "maxsim"


def test_tokenize_sets_max_seq_length_as_pylate_does(tiny_bert_dir: Path) -> None:
    model = models.ColBERT(str(tiny_bert_dir), device="cpu", query_length=16, document_length=40)
    model.tokenize(["hello"], is_query=True)
    assert model._first_module().max_seq_length == 15  # the marker takes one position
    model.tokenize(["hello"], is_query=False)
    assert model._first_module().max_seq_length == 39
    bare = models.ColBERT(str(tiny_bert_dir), device="cpu", query_prefix="", document_prefix="", query_length=16)
    bare.tokenize(["hello"], is_query=True)
    assert bare._first_module().max_seq_length == 16
    long_text = " ".join(["word"] * 80)
    assert model.encode(long_text, is_query=False).shape[0] <= 40  # encode does not depend on it


def test_encode_nested_lists_as_pylate(tiny_colbert) -> None:
    nested = tiny_colbert.encode([["a b", "c d e"], ["f"]], is_query=False)
    assert [len(group) for group in nested] == [2, 1]
    assert all(isinstance(e, np.ndarray) for group in nested for e in group)
