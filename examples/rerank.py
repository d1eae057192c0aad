"""Encode a few passages with the offline default model and rerank them for a question with MaxSim.

Run: python examples/rerank.py ["your question"]
"""

from __future__ import annotations

import sys

from colbert_retrieval import default_model

PASSAGES = [
    "Scurvy is a disease resulting from a lack of vitamin C. Early symptoms include weakness and sore arms.",
    "Statins lower LDL cholesterol and reduce the risk of heart attacks in people with cardiovascular disease.",
    "Paris is the capital and most populous city of France, on the river Seine.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C (ascorbic acid).",
    "Regular physical activity improves blood pressure, sleep and mood.",
]


def main(question: str) -> list[tuple[float, str]]:
    model = default_model()
    query = model.encode(question, is_query=True)
    documents = model.encode(PASSAGES, is_query=False)
    scores = model.similarity([query], documents)[0]
    ranking = sorted(zip(scores.tolist(), PASSAGES), reverse=True)
    print(f"Question: {question}")
    for rank, (score, passage) in enumerate(ranking, start=1):
        print(f"{rank}. {score:7.3f}  {passage}")
    return ranking


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What disease does a lack of vitamin C cause?")
