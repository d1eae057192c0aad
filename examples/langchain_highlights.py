"""LangChain: show which words of each retrieved document matched the question (highlights).

Run: python examples/langchain_highlights.py ["your question"]

``highlights=True`` puts the matched words into ``metadata["highlights"]`` (offsets into ``page_content``), from
the vectors the search scored; the same works through ``store.as_retriever(search_kwargs={"highlights": True})``
and ``ColBERTRetriever(index=..., highlights=True)``.
"""

from __future__ import annotations

import sys

from langchain_colbert_retrieval import ColBERTVectorStore
from langchain_core.documents import Document


def marked(document: Document, before: str = "**", after: str = "**") -> str:
    """The document's text with its highlighted words wrapped in ``before`` / ``after``."""
    text, pieces, position = document.page_content, [], 0
    for span in document.metadata["highlights"]:
        pieces += [text[position : span["start"]], before, span["text"], after]
        position = span["end"]
    return "".join(pieces) + text[position:]


def main(question: str = "what causes scurvy") -> list[str]:
    store = ColBERTVectorStore.from_texts(
        ["Scurvy is caused by a lack of vitamin C.", "Paris is the capital of France."],
        location=":memory:",
    )
    found = store.similarity_search(question, k=1, highlights=True)
    lines = [marked(document) for document in found]
    for line in lines:
        print(line)  # e.g. **Scurvy** is caused by a lack of vitamin C.
    return lines


if __name__ == "__main__":
    main(*sys.argv[1:2])
