"""Fine-tune ColBERT on your own documents from Python (the CLI is ``colbert-retrieval train``).

Run: python examples/fine_tune.py [BEIR_FOLDER]

Without a folder it writes a tiny BEIR-format dataset (corpus, queries, train/dev judgments) and runs two
steps, to show the calls; point it at your own BEIR folder for a real run. Needs
``pip install "colbert-retrieval[train]"``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from colbert_retrieval.training import FineTuneConfig, fine_tune

CORPUS = {
    "scurvy": "Scurvy is a disease caused by a lack of vitamin C.",
    "citrus": "Oranges and lemons are rich in vitamin C.",
    "paris": "Paris is the capital city of France.",
    "statins": "Statins lower LDL cholesterol.",
    "sun": "Sunlight helps the skin make vitamin D.",
}
QUERIES = {
    "q1": "what causes scurvy",
    "q2": "capital of france",
    "q3": "lower cholesterol",
    "q4": "foods with vitamin c",
}
JUDGMENTS = {"train": [("q1", "scurvy"), ("q2", "paris"), ("q3", "statins")], "dev": [("q4", "citrus")]}


def write_beir(folder: Path) -> Path:
    """A BEIR folder: corpus.jsonl, queries.jsonl and qrels/<split>.tsv (query-id, corpus-id, score)."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"_id": doc_id, "title": "", "text": text}) for doc_id, text in CORPUS.items()]
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps({"_id": q, "text": t}) for q, t in QUERIES.items()))
    for split, pairs in JUDGMENTS.items():
        rows = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t1" for q, d in pairs)]
        (folder / "qrels" / f"{split}.tsv").write_text("\n".join(rows) + "\n")
    return folder


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(sys.argv[1]) if len(sys.argv) > 1 else write_beir(Path(scratch) / "beir")
        config = FineTuneConfig(
            data=data,
            output=Path(scratch) / "my-colbert",  # the model, README.md (model card), training_report.json
            max_steps=None if len(sys.argv) > 1 else 2,  # a real run uses the defaults (3 passes)
        )
        report = fine_tune(config)
        before, after = report.before["dev"], report.after["dev"]
        print("dev nDCG@10 before:", before.get("ndcg@10"), "after:", after.get("ndcg@10"))
        print("kept:", report.kept, "| curve:", report.curve, "| minutes:", round(report.wall_seconds / 60, 1))


if __name__ == "__main__":
    main()
