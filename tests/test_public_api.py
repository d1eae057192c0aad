"""The public API is frozen: changing it must be a deliberate edit of this file."""

from __future__ import annotations

import colbert_retrieval
from colbert_retrieval import errors, evaluation, models, pooling, quantization, reduce, scores


def test_top_level_all_is_frozen() -> None:
    assert sorted(colbert_retrieval.__all__) == sorted(
        [
            "ColBERT",
            "ColBERTRetrievalError",
            "DimensionMismatchError",
            "EmptyInputError",
            "InputTypeError",
            "ModelNotAvailableError",
            "__version__",
            "default_model",
            "models",
            "pooling",
            "quantization",
            "reduce",
            "scores",
        ]
    )


def test_submodule_all_is_frozen() -> None:
    assert models.__all__ == ["ColBERT"]
    assert sorted(scores.__all__) == sorted(
        [
            "DEFAULT_CHUNK_ELEMENTS",
            "GPU_CHUNK_ELEMENTS",
            "colbert_scores",
            "colbert_scores_pairwise",
            "colbert_scores_ragged",
            "mask_from_padded",
            "pad_embeddings",
            "rerank",
            "compute_dtype_for",
            "to_padded",
        ]
    )
    assert sorted(pooling.__all__) == sorted(
        [
            "CPU_GROUP_DOCS",
            "POOLING_METHODS",
            "pool_embeddings_hierarchical",
            "pool_scipy",
            "pool_torch",
            "pooled_length",
            "pooling_groups",
            "ward_labels",
        ]
    )
    assert sorted(quantization.__all__) == ["Precision", "quantize"]
    assert sorted(evaluation.__all__) == ["BeirDataset", "load_beir", "mrr_at_k", "ndcg_at_k", "recall_at_k"]
    assert sorted(errors.__all__) == sorted(
        [
            "CollectionNotFoundError",
            "ColBERTRetrievalError",
            "DimensionMismatchError",
            "EmptyInputError",
            "IndexMismatchError",
            "InputTypeError",
            "ModelNotAvailableError",
            "StoreFormatError",
            "StoreLockedError",
        ]
    )


def test_qdrant_all_is_frozen() -> None:
    from colbert_retrieval import qdrant

    assert sorted(qdrant.__all__) == sorted(
        [
            "DEFAULT_PATH",
            "ColBERTIndex",
            "IndexSettings",
            "IngestSummary",
            "MigrationSummary",
            "Record",
            "SearchHit",
            "SearchMode",
            "migrate",
        ]
    )
    assert reduce.__all__ == ["mean_vector"]


def test_every_exported_name_exists() -> None:
    for module in (colbert_retrieval, models, scores, pooling, quantization, evaluation, errors):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_errors_share_one_base() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ColBERTRetrievalError)
