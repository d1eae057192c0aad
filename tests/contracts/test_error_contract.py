"""The error contract: every bad input to the public API raises a ``ColBERTRetrievalError`` subclass.

Each case names the call and the exact error type; the type also keeps its builtin base (``ValueError``,
``TypeError``, ...), so code that caught the builtin before still works. The CLI turns any of them into one
line on stderr and exit status 2.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from colbert_retrieval import errors, load_model, pooling, scores
from colbert_retrieval.cli import main
from colbert_retrieval.documents import split_words
from colbert_retrieval.evaluation import load_beir
from colbert_retrieval.models import ColBERT
from colbert_retrieval.models import _quantization as quantization
from colbert_retrieval.pylate import rank
from colbert_retrieval.qdrant import ColBERTIndex, Schema
from colbert_retrieval.single_vector import MuveraConfig, muvera_document

E = errors
ONE = np.eye(4, dtype=np.float32)


def model_cases(model: ColBERT) -> list[tuple[str, Callable[[], Any], type[Exception]]]:
    return [
        ("encode(None)", lambda: model.encode(None), E.InputTypeError),
        ("encode(['ok', 3])", lambda: model.encode(["ok", 3]), E.InputTypeError),
        ("encode([''])", lambda: model.encode([""]), E.EmptyInputError),
        ("encode([['a'], [None]])", lambda: model.encode([["a"], [None]]), E.InputTypeError),
        ("encode(pool_factor=0)", lambda: model.encode("a", is_query=False, pool_factor=0), E.InvalidArgumentError),
        ("encode(pool_factor=1.5)", lambda: model.encode("a", is_query=False, pool_factor=1.5), E.InvalidArgumentError),
        ("encode(batch_size=-1)", lambda: model.encode(["a"], batch_size=-1), E.InvalidArgumentError),
        ("encode(precision='int4')", lambda: model.encode("a", precision="int4"), E.InvalidArgumentError),
        ("tokenize([None])", lambda: model.tokenize([None]), E.InputTypeError),
        ("similarity(dims)", lambda: model.similarity([ONE], [np.eye(3, dtype=np.float32)]), E.DimensionMismatchError),
    ]


STATIC_CASES: list[tuple[str, Callable[[], Any], type[Exception]]] = [
    (
        "ColBERT(missing hub name)",
        lambda: ColBERT("no-such-org/no-such-model", local_files_only=True),
        E.ModelNotAvailableError,
    ),
    ("load_model(42)", lambda: load_model(42), E.InputTypeError),
    ("load_model(None, revision=)", lambda: load_model(None, revision="main"), E.InputTypeError),
    (
        "pool(pool_factor=0)",
        lambda: pooling.pool_embeddings_hierarchical([torch.ones(3, 2)], 0),
        E.InvalidArgumentError,
    ),
    (
        "pool(protected=-1)",
        lambda: pooling.pool_embeddings_hierarchical([torch.ones(3, 2)], 2, -1),
        E.InvalidArgumentError,
    ),
    (
        "pool(method='fast')",
        lambda: pooling.pool_embeddings_hierarchical([torch.ones(3, 2)], 2, method="fast"),
        E.InvalidArgumentError,
    ),
    (
        "pool(mixed dims)",
        lambda: pooling.pool_embeddings_hierarchical([torch.ones(5, 4), torch.ones(5, 3)], 2),
        E.DimensionMismatchError,
    ),
    ("TokenPooling(0)", lambda: pooling.TokenPooling(pool_factor=0), E.InvalidArgumentError),
    (
        "colbert_scores(dims)",
        lambda: scores.colbert_scores(torch.ones(1, 2, 3), torch.ones(1, 2, 4)),
        E.DimensionMismatchError,
    ),
    (
        "colbert_scores(2-D)",
        lambda: scores.colbert_scores(torch.ones(2, 3), torch.ones(1, 2, 3)),
        E.DimensionMismatchError,
    ),
    ("colbert_scores([])", lambda: scores.colbert_scores([], [ONE]), E.EmptyInputError),
    (
        "pairwise(counts)",
        lambda: scores.colbert_scores_pairwise(torch.ones(2, 2, 3), torch.ones(3, 2, 3)),
        E.DimensionMismatchError,
    ),
    (
        "kd_scores(3-D docs)",
        lambda: scores.colbert_kd_scores(torch.ones(1, 2, 3), torch.ones(1, 2, 3)),
        E.DimensionMismatchError,
    ),
    (
        "ColBERTScores(3-D docs)",
        lambda: scores.ColBERTScores()(torch.ones(1, 2, 3), torch.ones(1, 2, 3)),
        E.DimensionMismatchError,
    ),
    ("rerank(lengths)", lambda: rank.rerank([[1], [2]], [ONE], [[ONE]]), E.InvalidArgumentError),
    ("rerank(ids vs docs)", lambda: rank.rerank([[1, 2]], [ONE], [[ONE]]), E.InvalidArgumentError),
    ("rerank(3-D query)", lambda: rank.rerank([[1]], [np.ones((1, 2, 4))], [[ONE]]), E.DimensionMismatchError),
    ("quantize('int4')", lambda: quantization.quantize([ONE], "int4"), E.InvalidArgumentError),
    ("split_words(overlap)", lambda: split_words("a b c", size=2, overlap=5), E.InvalidArgumentError),
    ("load_beir(missing)", lambda: load_beir("/nonexistent/beir"), E.InputNotFoundError),
    (
        "muvera(dims)",
        lambda: muvera_document(np.ones((3, 5), dtype=np.float32), MuveraConfig(dim=4)),
        E.DimensionMismatchError,
    ),
]


def _check(name: str, call: Callable[[], Any], expected: type[Exception]) -> None:
    with pytest.raises(Exception) as caught:
        call()
    error = caught.value
    assert type(error) is expected, f"{name}: {type(error).__name__}: {error}"
    assert isinstance(error, errors.ColBERTRetrievalError)
    assert str(error), f"{name}: the message is empty"


@pytest.mark.parametrize(("name", "call", "expected"), STATIC_CASES, ids=[c[0] for c in STATIC_CASES])
def test_bad_input_raises_the_library_error(name: str, call: Callable[[], Any], expected: type[Exception]) -> None:
    _check(name, call, expected)


def test_bad_input_to_the_encoder_raises_the_library_error(tiny_colbert: ColBERT) -> None:
    for name, call, expected in model_cases(tiny_colbert):
        _check(name, call, expected)


def test_bad_input_to_the_index_raises_the_library_error(tiny_colbert: ColBERT, tmp_path: Path) -> None:
    with ColBERTIndex(tiny_colbert, "docs", store=tmp_path / "store") as index:
        index.add([{"id": "a", "text": "scurvy is a lack of vitamin c"}])
        dim = tiny_colbert.output_dimension
        cases = [
            ("search(k=0)", lambda: index.search("vitamin", k=0), E.InvalidArgumentError),
            ("search(mode='fast')", lambda: index.search("vitamin", config={"mode": "fast"}), E.InvalidArgumentError),
            ("search(filter op)", lambda: index.search("vitamin", filter={"x": {"like": 1}}), E.InvalidArgumentError),
            ("delete()", lambda: index.delete(), E.InvalidArgumentError),
            ("delete(filter={})", lambda: index.delete(filter={}), E.InvalidArgumentError),
            ("update(missing id)", lambda: index.update("nope", text="x"), E.DocumentNotFoundError),
            ("add([''])", lambda: index.add([""]), E.EmptyInputError),
            ("add([None])", lambda: index.add([None]), E.InputTypeError),
            (
                "add_embeddings(dim)",
                lambda: index.add_embeddings(["x"], [np.ones((3, dim + 1), dtype=np.float32)]),
                E.DimensionMismatchError,
            ),
        ]
        for name, call, expected in cases:
            _check(name, call, expected)
    _check(
        "open missing collection",
        lambda: ColBERTIndex(tiny_colbert, "other", store=tmp_path / "store", create=False),
        E.CollectionNotFoundError,
    )
    _check(
        "ColBERTIndex(pool_factor=0)",
        lambda: ColBERTIndex(tiny_colbert, "pooled", store=tmp_path / "store2", schema=Schema(pool_factor=0)),
        E.InvalidArgumentError,
    )
    _check("collection name", lambda: ColBERTIndex(tiny_colbert, "a/b", store=tmp_path / "s3"), E.InvalidArgumentError)


def test_every_error_type_keeps_its_builtin_base() -> None:
    bases = {
        E.InputTypeError: TypeError,
        E.EmptyInputError: ValueError,
        E.InvalidArgumentError: ValueError,
        E.DimensionMismatchError: ValueError,
        E.ModelNotAvailableError: OSError,
        E.CollectionNotFoundError: LookupError,
        E.DocumentNotFoundError: KeyError,
        E.InputNotFoundError: FileNotFoundError,
        E.IndexMismatchError: ValueError,
    }
    for error, base in bases.items():
        assert issubclass(error, base) and issubclass(error, E.ColBERTRetrievalError)
    assert str(E.DocumentNotFoundError("No document with id 'x'.")) == "No document with id 'x'."


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "q", "--path", "{tmp}/missing-store"],
        ["index", "{tmp}/no-such-file.txt", "--path", "{tmp}/store"],
        ["evaluate", "{tmp}/no-beir", "--path", "{tmp}/store"],
        ["migrate", "--from-local", "{tmp}/nothing", "--to-path", "{tmp}/target"],
    ],
)
def test_cli_prints_one_line_and_exits_2(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([part.format(tmp=tmp_path) for part in argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("error: ")]) == 1, err
