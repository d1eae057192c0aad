"""PyLate's loss names map onto sentence-transformers' losses with PyLate's semantics."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.multi_vector_encoder.losses import (
    MultiVectorDistillKLDivLoss,
    MultiVectorMultipleNegativesRankingLoss,
)

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.pylate import losses, utils
from colbert_retrieval.scores import MinMaxScores, colbert_kd_scores

ROWS = [
    {"query": "what causes scurvy", "positive": "scurvy: no vitamin c.", "negative": "paris is in france."},
    {"query": "capital of france", "positive": "paris is in france.", "negative": "statins lower cholesterol."},
    {"query": "lower cholesterol", "positive": "statins lower cholesterol.", "negative": "scurvy: no vitamin c."},
]
KD_ROWS = [
    {"query": "what causes scurvy", "documents": ["scurvy: no vitamin c.", "paris."], "scores": [9.0, 1.0]},
    {"query": "capital of france", "documents": ["paris is in france.", "statins."], "scores": [8.0, 3.0]},
]


def features(model, rows):
    batch = utils.ColBERTCollator(tokenize_fn=model.tokenize)(rows)
    columns = [name[: -len("_input_ids")] for name in batch if name.endswith("_input_ids")]
    return [{k[len(c) + 1 :]: v for k, v in batch.items() if k.startswith(c + "_")} for c in columns], batch


def test_contrastive_is_mnrl_with_scale_one_over_temperature_and_sums_like_pylate(tiny_colbert) -> None:
    sentence_features, _ = features(tiny_colbert, ROWS)
    with torch.no_grad():
        ours = losses.Contrastive(tiny_colbert, temperature=0.5)(sentence_features)
        theirs = MultiVectorMultipleNegativesRankingLoss(tiny_colbert, scale=2.0)(sentence_features)
        summed = losses.Contrastive(tiny_colbert, temperature=0.5, size_average=False)(sentence_features)
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
    assert summed.item() == pytest.approx(len(ROWS) * ours.item(), rel=1e-6)
    with pytest.raises(InvalidArgumentError, match="temperature"):
        losses.Contrastive(tiny_colbert, temperature=0.0)


def test_cached_contrastive_matches_contrastive(tiny_colbert) -> None:
    sentence_features, _ = features(tiny_colbert, ROWS)
    plain = losses.Contrastive(tiny_colbert, temperature=0.2)(sentence_features)
    cached = losses.CachedContrastive(tiny_colbert, mini_batch_size=1, temperature=0.2)(sentence_features)
    assert cached.item() == pytest.approx(plain.item(), rel=1e-4)


def test_distillation_is_pylates_kl_on_min_max_normalised_scores(tiny_colbert) -> None:
    sentence_features, batch = features(tiny_colbert, KD_ROWS)
    assert len(sentence_features) == 3  # the documents list became two columns
    labels = batch["label"]
    assert labels.tolist() == [[9.0, 1.0], [8.0, 3.0]]
    with torch.no_grad():
        ours = losses.Distillation(tiny_colbert)(sentence_features, labels)
        normalised = MultiVectorDistillKLDivLoss(tiny_colbert, similarity_fct=MinMaxScores(colbert_kd_scores))
        raw = losses.Distillation(tiny_colbert, normalize_scores=False)(sentence_features, labels)
        plain = MultiVectorDistillKLDivLoss(tiny_colbert)(sentence_features, labels)
        summed = losses.Distillation(tiny_colbert, size_average=False)(sentence_features, labels)
        expected = normalised(sentence_features, labels)
    assert ours.item() == pytest.approx(expected.item(), rel=1e-6)
    assert raw.item() == pytest.approx(plain.item(), rel=1e-6)
    assert summed.item() == pytest.approx(len(KD_ROWS) * ours.item(), rel=1e-5)  # batchmean vs sum


def test_min_max_scores_map_each_query_to_zero_one() -> None:
    scores = MinMaxScores(lambda *args, **kwargs: torch.tensor([[3.0, 1.0, 2.0], [5.0, 5.0, 9.0]]))()
    assert scores.flatten().tolist() == pytest.approx([1.0, 0.0, 0.5, 0.0, 0.0, 1.0], abs=1e-6)
