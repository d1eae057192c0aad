"""The public API is frozen: changing it must be a deliberate edit of this file."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import colbert_retrieval
from colbert_retrieval import errors, pooling, scores

FROZEN = {
    "colbert_retrieval": [
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
        "scores",
    ],
    "colbert_retrieval.models": [
        "ColBERT",
        "Explanation",
        "Precision",
        "ShortInputs",
        "ShortPath",
        "TokenMatch",
        "default_model",
        "load_model",
        "quantize",
    ],
    "colbert_retrieval.scores": [
        "ColBERTScores",
        "DEFAULT_CHUNK_ELEMENTS",
        "GPU_CHUNK_ELEMENTS",
        "MinMaxScores",
        "RerankResult",
        "candidate_scores",
        "colbert_kd_scores",
        "colbert_scores",
        "colbert_scores_pairwise",
        "compute_dtype_for",
        "mask_from_padded",
        "maximal_marginal_relevance",
        "pad_embeddings",
        "rerank",
        "to_padded",
    ],
    "colbert_retrieval.pooling": [
        "METHODS",
        "TokenPooling",
        "compile_cpu_kernels",
        "pool_embeddings_hierarchical",
        "pooled_length",
    ],
    "colbert_retrieval.qdrant": [
        "ColBERTIndex",
        "DEFAULT_PATH",
        "IndexSettings",
        "IngestSummary",
        "MigrationSummary",
        "Schema",
        "SearchConfig",
        "SearchHit",
        "SearchMode",
        "SourceSync",
        "Storage",
        "StoragePreset",
        "Store",
        "SyncSummary",
        "migrate",
    ],
    "colbert_retrieval.qdrant.backends": [
        "Backend",
        "Candidates",
        "EdgeBackend",
        "PointData",
        "QueryPlan",
        "ServerBackend",
        "StoredPoint",
        "make_backend",
    ],
    "colbert_retrieval.documents": [
        "ID_KEY",
        "METADATA_KEY",
        "Chunk",
        "Chunker",
        "Record",
        "point_id",
        "point_ids",
        "read_records",
        "split_words",
    ],
    "colbert_retrieval.single_vector": [
        "FirstStage",
        "MuveraConfig",
        "SINGLE_VECTOR_METHODS",
        "encode_single_vectors",
        "first_stage_vectors",
        "mean_vector",
        "muvera_document",
        "muvera_query",
    ],
    "colbert_retrieval.evaluation": [
        "BeirDataset",
        "ColBERTDistillationEvaluator",
        "ColBERTTripletEvaluator",
        "NanoBEIREvaluator",
        "PyLateInformationRetrievalEvaluator",
        "calibration",
        "load_beir",
        "mrr_at_k",
        "ndcg_at_k",
        "recall_at_k",
    ],
    "colbert_retrieval.distributed": [
        "EncoderActor",
        "QdrantDatasink",
        "QdrantTarget",
        "index_with_ray",
        "load_shards",
        "read_documents",
        "read_shard_settings",
    ],
    "colbert_retrieval.cli": ["build_parser", "main"],
    "colbert_retrieval.pylate": ["evaluation", "losses", "models", "rank", "scores", "utils"],
    "colbert_retrieval.pylate.rank": ["RerankResult", "rerank"],
    "colbert_retrieval.testing": ["SAMPLE_QUERY", "SAMPLE_TEXTS", "SharedLocalClient", "shared_model"],
    "colbert_retrieval.errors": [
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
        "TruncationWarning",
    ],
}
TRAINING = {
    "colbert_retrieval.training": [
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
    ],
    "colbert_retrieval.pylate.losses": ["CachedContrastive", "Contrastive", "Distillation"],
    "colbert_retrieval.pylate.utils": ["ColBERTCollator"],
}


def _public_modules() -> list[str]:
    names = ["colbert_retrieval"]
    for info in pkgutil.walk_packages(colbert_retrieval.__path__, "colbert_retrieval."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


@pytest.mark.parametrize("module", sorted(FROZEN))
def test_all_is_frozen_and_every_name_exists(module: str) -> None:
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == sorted(FROZEN[module])
    for name in imported.__all__:
        assert hasattr(imported, name), f"{module}.{name}"


def test_training_api_is_frozen() -> None:
    pytest.importorskip("datasets", reason='pip install "colbert-retrieval[train]"')
    for module, names in TRAINING.items():
        imported = importlib.import_module(module)
        assert sorted(imported.__all__) == names
        assert all(hasattr(imported, name) for name in names)


def test_the_public_surface_is_at_most_half_of_0_2s() -> None:
    """0.2.0 had 69 public modules and 284 exported names; every module outside this list is private (``_name``)."""
    modules = _public_modules()
    assert sorted(modules) == sorted([*FROZEN, *TRAINING]), "a new public module: make it private or freeze it here"
    assert len(modules) <= 69 // 2
    assert sum(len(names) for names in {**FROZEN, **TRAINING}.values()) <= 284 // 2


def test_the_root_holds_packages_errors_and_private_helpers_only() -> None:
    """A module that serves one package lives in that package (the CLI's hardware report, BM25, records...)."""
    root = [info for info in pkgutil.iter_modules(colbert_retrieval.__path__)]
    loose = sorted(info.name for info in root if not info.ispkg and not info.name.startswith("_"))
    assert loose == ["errors", "testing"]


def test_errors_share_one_base() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ColBERTRetrievalError)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("colbert_retrieval", "rank"),
        ("colbert_retrieval", "reduce"),
        ("colbert_retrieval", "quantization"),
        ("colbert_retrieval.qdrant", "Record"),
        ("colbert_retrieval.qdrant.ColBERTIndex", "search_batch"),
        ("colbert_retrieval.qdrant.ColBERTIndex", "search_vectors"),
        ("colbert_retrieval.qdrant.ColBERTIndex", "asearch_batch"),
    ],
)
def test_names_removed_in_0_3_are_gone(module: str, name: str) -> None:
    """The migration table in docs/changelog.md names each replacement."""
    if module.endswith("ColBERTIndex"):
        from colbert_retrieval.qdrant import ColBERTIndex

        assert not hasattr(ColBERTIndex, name)
    else:
        assert not hasattr(importlib.import_module(module), name)


def test_pylate_module_names_import_as_pylate_s_do() -> None:
    from colbert_retrieval.pylate.models import ColBERT
    from colbert_retrieval.pylate.scores import colbert_scores

    from colbert_retrieval.pylate.rank import rerank

    assert ColBERT is colbert_retrieval.ColBERT and rerank is colbert_retrieval.scores.rerank
    assert colbert_scores is colbert_retrieval.scores.colbert_scores


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("colbert_retrieval.scores", "colbert_scores_ragged"),
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
