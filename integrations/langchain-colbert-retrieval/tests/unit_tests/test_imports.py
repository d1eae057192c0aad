from __future__ import annotations

import langchain_colbert_retrieval

EXPECTED_ALL = ["ColBERTEmbeddings", "ColBERTReranker", "ColBERTRetriever", "ColBERTVectorStore"]


def test_all_imports() -> None:
    assert sorted(langchain_colbert_retrieval.__all__) == sorted(EXPECTED_ALL)
    for name in EXPECTED_ALL:
        assert hasattr(langchain_colbert_retrieval, name)
