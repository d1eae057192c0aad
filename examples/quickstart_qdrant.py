"""Index documents into embedded Qdrant with the offline default model, then search them with a filter.

The default search mode is hybrid: MaxSim and BM25 scores fused; ``hit.scores`` holds the two parts.

Run: python examples/quickstart_qdrant.py
"""

from __future__ import annotations

import tempfile

from colbert_retrieval import default_model
from colbert_retrieval.qdrant import ColBERTIndex

DOCUMENTS = [
    {"id": "scurvy", "text": "Scurvy is a disease resulting from a lack of vitamin C.", "metadata": {"lang": "en"}},
    {"id": "citrus", "text": "Oranges and lemons are rich in vitamin C.", "metadata": {"lang": "en"}},
    {"id": "paris", "text": "Paris est la capitale de la France.", "metadata": {"lang": "fr"}},
]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        index = ColBERTIndex(default_model(), "quickstart", store=folder)  # embedded, on disk
        print(index.add(DOCUMENTS))  # re-running writes nothing new: ids are deterministic
        for hit in index.search("what causes scurvy?", k=2, filter={"lang": "en"}):
            parts = ", ".join(f"{name} {value:.2f}" for name, value in hit.scores.items())
            print(f"{hit.score:6.2f} ({parts})  {hit.id}: {hit.text}")
        for hit in index.search("what causes scurvy?", k=1, config={"mode": "exact"}):  # MaxSim over every document
            print(f"exact MaxSim {hit.score:.2f}  {hit.id}")
        index.close()


if __name__ == "__main__":
    main()
