"""Coming from langchain-qdrant: the same calls on ColBERTVectorStore (only the class and the embedding change).

Run: python examples/langchain_from_qdrant.py

``QdrantVectorStore.from_texts(texts, OpenAIEmbeddings(), ...)`` becomes
``ColBERTVectorStore.from_texts(texts, ColBERTEmbeddings(), ...)``; ids, ``collection_name``,
``force_recreate``, Qdrant filters, ``search_params``, ``metadata["_id"]`` and the retriever work as before.
"""

from __future__ import annotations

import tempfile

from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTVectorStore
from qdrant_client import models

TEXTS = [
    "Scurvy is caused by a lack of vitamin C.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "Paris is the capital of France.",
]


def main() -> None:
    embedding = ColBERTEmbeddings()  # the offline default ColBERT; any ColBERT model name works
    with tempfile.TemporaryDirectory() as folder:
        store = ColBERTVectorStore.from_texts(
            TEXTS,
            embedding,
            metadatas=[{"topic": "health"}, {"topic": "food"}, {"topic": "travel"}],
            ids=[1, 2, 3],
            path=folder,  # or location=":memory:", or url="http://localhost:6333", api_key=...
            collection_name="notes",
            force_recreate=True,
        )
        health = models.Filter(
            must=[models.FieldCondition(key="metadata.topic", match=models.MatchValue(value="health"))]
        )
        docs = store.similarity_search("vitamin C deficiency", k=2, filter=health, search_params={"hnsw_ef": 128})
        print(docs[0].page_content, docs[0].metadata)  # metadata has _id (an int here) and _collection_name
        retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 2})  # MMR on MaxSim
        print([d.metadata["_id"] for d in retriever.invoke("vitamin C")])
        store.index.close()

        again = ColBERTVectorStore.from_existing_collection("notes", embedding, path=folder)
        print(again.get_by_ids([3])[0].page_content)
        again.index.close()


if __name__ == "__main__":
    main()
