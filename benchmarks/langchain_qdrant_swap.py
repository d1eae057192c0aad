"""Swap ``QdrantVectorStore`` (langchain-qdrant) for ``ColBERTVectorStore``: which typical calls behave the same.

    pip install -e "integrations/langchain-colbert-retrieval[test]"   # brings langchain-qdrant
    python benchmarks/langchain_qdrant_swap.py

The calls and the comparison rule live in the adapter's tests
(``integrations/langchain-colbert-retrieval/tests/qdrant_swap.py``), which also hold the bar. This script
writes the side-by-side table, with its count, to docs/benchmarks/langchain-qdrant-swap.md.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

from _common import table, write_result
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_qdrant import QdrantVectorStore
from qdrant_client import models as qm

from colbert_retrieval import default_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integrations/langchain-colbert-retrieval/tests"))
from qdrant_swap import calls, outcome, same

REASONS = {
    "max_marginal_relevance_search_by_vector(embeddings.embed_query(q))": (
        "MMR weighs relevance by MaxSim, which needs the query's token vectors: pass "
        "`embeddings.embed_query_multi(q)` (works) or call `max_marginal_relevance_search(q)`; a single vector "
        "raises an error that says so."
    ),
    "empty query text": (
        "every colbert-retrieval entry point refuses empty text with `EmptyInputError` (a ValueError) instead "
        "of returning arbitrary documents (hostile-input policy)."
    ),
}


def _create_dense_collection(client, name, embedding) -> None:  # langchain-qdrant's constructor needs it
    vectors = qm.VectorParams(size=len(embedding.embed_query("x")), distance=qm.Distance.COSINE)
    client.create_collection(name, vectors_config=vectors)


def main() -> None:
    colbert = ColBERTEmbeddings(model=default_model())
    fake = DeterministicFakeEmbedding(size=32)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qdrant = {n: outcome(c) for n, c in calls(QdrantVectorStore, fake, a, _create_dense_collection).items()}
        ours = {n: outcome(c) for n, c in calls(ColBERTVectorStore, colbert, b, lambda *_: None).items()}
    rows = []
    for name in qdrant:
        verdict = "same" if same(qdrant[name], ours[name]) else "differs"
        rows.append([name, verdict, str(qdrant[name])[:60], str(ours[name])[:60]])
    matching = sum(r[1] == "same" for r in rows)
    differences = "\n".join(f"- `{r[0]}`: {REASONS.get(r[0], 'undocumented')}" for r in rows if r[1] != "same")
    markdown = (
        f"{matching} of {len(rows)} typical langchain-qdrant calls behave the same on `ColBERTVectorStore` "
        "(only the class and the embedding argument changed; same shape, or errors one `except` clause "
        "catches). `Document.id` is not compared: langchain-qdrant leaves it None, ColBERTVectorStore also "
        "sets it. The constructor call creates langchain-qdrant's collection first (its vector size is the "
        "embedding's); ColBERTVectorStore creates its own.\n\n"
        f"Differences and why:\n\n{differences}\n\n"
        "Not among the calls: the payload keeps the text under `text` unless `content_payload_key` names "
        "another key (langchain-qdrant's default is `page_content`: pass it to keep its layout); "
        "`content_payload_key` / `metadata_payload_key` are honoured and kept with the collection; "
        "`sparse_embedding=` is not needed (BM25 is computed by the collection); `consistency=` / "
        "`hybrid_fusion=` are refused.\n\n" + table(["call", "", "QdrantVectorStore", "ColBERTVectorStore"], rows)
    )
    print(markdown)
    write_result("langchain-qdrant-swap", markdown)


if __name__ == "__main__":
    main()
