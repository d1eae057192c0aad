from __future__ import annotations

import langchain_colbert_retrieval
import pytest

EXPECTED_ALL = ["ColBERTEmbeddings", "ColBERTRerank", "ColBERTRetriever", "ColBERTVectorStore"]


def test_all_imports() -> None:
    assert sorted(langchain_colbert_retrieval.__all__) == sorted(EXPECTED_ALL)
    for name in EXPECTED_ALL:
        assert hasattr(langchain_colbert_retrieval, name)


def test_the_old_reranker_name_still_works_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="ColBERTRerank"):
        old = langchain_colbert_retrieval.ColBERTReranker
    assert old is langchain_colbert_retrieval.ColBERTRerank
