"""The public API is frozen: changing it must be a deliberate edit of this file."""

from __future__ import annotations

import pytest

import colbert_retrieval
from colbert_retrieval import errors, evaluation, models, pooling, quantization, rank, reduce, scores


def test_top_level_all_is_frozen() -> None:
    assert sorted(colbert_retrieval.__all__) == sorted(
        [
            "ColBERT",
            "ColBERTRetrievalError",
            "DimensionMismatchError",
            "EmptyInputError",
            "InputTypeError",
            "InvalidArgumentError",
            "ModelNotAvailableError",
            "__version__",
            "default_model",
            "load_model",
            "models",
            "pooling",
            "quantization",
            "rank",
            "reduce",
            "scores",
        ]
    )


def test_submodule_all_is_frozen() -> None:
    assert models.__all__ == ["ColBERT", "default_model", "load_model"]
    assert sorted(scores.__all__) == sorted(
        [
            "DEFAULT_CHUNK_ELEMENTS",
            "GPU_CHUNK_ELEMENTS",
            "ColBERTScores",
            "MinMaxScores",
            "candidate_scores",
            "colbert_kd_scores",
            "colbert_scores",
            "colbert_scores_pairwise",
            "mask_from_padded",
            "pad_embeddings",
            "compute_dtype_for",
            "maximal_marginal_relevance",
            "to_padded",
        ]
    )
    assert rank.__all__ == ["RerankResult", "rerank"]
    from colbert_retrieval import testing

    assert testing.__all__ == ["SAMPLE_QUERY", "SAMPLE_TEXTS", "SharedLocalClient", "shared_model"]
    from colbert_retrieval import distributed
    from colbert_retrieval.qdrant import storage

    assert distributed.__all__ == [
        "EncoderActor",
        "QdrantDatasink",
        "QdrantTarget",
        "index_with_ray",
        "load_shards",
        "read_documents",
        "read_shard_settings",
    ]
    assert all(callable(getattr(distributed, name)) for name in distributed.__all__)
    assert storage.__all__ == ["StoragePreset", "quantization_config", "storage_preset"]
    assert sorted(pooling.__all__) == [
        "METHODS",
        "TokenPooling",
        "compile_cpu_kernels",
        "pool_embeddings_hierarchical",
        "pooled_length",
    ]
    assert sorted(quantization.__all__) == ["Precision", "quantize"]
    assert sorted(evaluation.__all__) == [
        "BeirDataset",
        "ColBERTDistillationEvaluator",
        "ColBERTTripletEvaluator",
        "NanoBEIREvaluator",
        "PyLateInformationRetrievalEvaluator",
        "load_beir",
        "mrr_at_k",
        "ndcg_at_k",
        "recall_at_k",
    ]
    assert sorted(errors.__all__) == sorted(
        [
            "CollectionNotFoundError",
            "ColBERTRetrievalError",
            "DimensionMismatchError",
            "DocumentNotFoundError",
            "EmptyInputError",
            "IndexMismatchError",
            "InputFormatError",
            "InputNotFoundError",
            "InputTypeError",
            "InvalidArgumentError",
            "ModelNotAvailableError",
            "StoreFormatError",
            "StoreLockedError",
            "StoreUnavailableError",
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
            "StoragePreset",
            "migrate",
        ]
    )
    assert reduce.__all__ == ["mean_vector"]


def test_training_api_is_frozen() -> None:
    pytest.importorskip("datasets", reason='pip install "colbert-retrieval[train]"')
    from colbert_retrieval import losses, training, utils

    assert losses.__all__ == ["CachedContrastive", "Contrastive", "Distillation"]
    assert utils.__all__ == ["ColBERTCollator"]
    assert sorted(training.__all__) == [
        "BeirEvaluator",
        "CachedContrastive",
        "ColBERTCollator",
        "Contrastive",
        "Distillation",
        "FineTuneConfig",
        "FineTuneReport",
        "exact_maxsim_runs",
        "fine_tune",
        "mine_hard_negatives",
    ]
    for module in (losses, utils, training):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_encoding_runtime_single_vector_and_explanation_api_is_frozen() -> None:
    from colbert_retrieval import explanation, single_vector
    from colbert_retrieval.models import runtime

    assert single_vector.__all__ == ["SINGLE_VECTOR_METHODS", "encode_single_vectors"]
    assert explanation.__all__ == ["Explanation", "TokenMatch"]
    assert sorted(runtime.__all__) == [
        "BACKENDS",
        "INFERENCE_PRECISIONS",
        "PrecisionChoice",
        "check_runtime_options",
        "cpu_has_native_bf16",
        "forward_precision",
        "resolve_inference_precision",
    ]
    assert runtime.BACKENDS == ("torch", "onnx", "openvino")
    for method in ("explain", "resolved_inference_precision"):
        assert callable(getattr(colbert_retrieval.ColBERT, method))


def test_every_exported_name_exists() -> None:
    for module in (colbert_retrieval, models, scores, rank, pooling, quantization, evaluation, errors):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_errors_share_one_base() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ColBERTRetrievalError)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("colbert_retrieval.scores", "colbert_scores_ragged"),
        ("colbert_retrieval.scores", "rerank"),
        ("colbert_retrieval.pooling", "pool_torch"),
        ("colbert_retrieval.pooling", "pool_scipy"),
        ("colbert_retrieval.pooling", "POOLING_METHODS"),
    ],
)
def test_names_deprecated_in_0_2_are_gone(module: str, name: str) -> None:
    import importlib

    assert not hasattr(importlib.import_module(module), name)


def test_the_deprecated_defaults_module_and_old_keywords_are_gone() -> None:
    import importlib

    import numpy as np

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("colbert_retrieval.defaults")
    query = np.eye(3, dtype=np.float32)
    with pytest.raises(TypeError, match="queries"):
        scores.colbert_scores(queries=[query], documents=[query])
    with pytest.raises(ValueError, match="torch"):
        pooling.pool_embeddings_hierarchical([query], 2, method="torch")
