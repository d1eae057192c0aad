"""Training fixtures: a tiny BEIR folder (corpus, queries, train/dev/test judgments) built per test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("datasets", reason='pip install "colbert-retrieval[train]"')

CORPUS = {
    "scurvy": "scurvy is a disease caused by a lack of vitamin c.",
    "citrus": "oranges and lemons are rich in vitamin c.",
    "paris": "paris is the capital city of france.",
    "louvre": "the louvre museum is in paris.",
    "statins": "statins lower ldl cholesterol.",
    "heart": "high cholesterol raises the risk of heart disease.",
    "bones": "vitamin d and calcium keep bones strong.",
    "sun": "sunlight helps the skin make vitamin d.",
}
QUERIES = {
    "t1": "what causes scurvy",
    "t2": "capital of france",
    "t3": "how to lower cholesterol",
    "t4": "vitamin d sources",
    "d1": "foods with vitamin c",
    "d2": "museums in paris",
    "e1": "heart disease risk",
}
QRELS = {
    "train": [("t1", "scurvy", 2), ("t1", "citrus", 1), ("t2", "paris", 2), ("t3", "statins", 2), ("t4", "sun", 1)],
    "dev": [("d1", "citrus", 2), ("d2", "louvre", 2)],
    "test": [("e1", "heart", 2)],
}


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    with (folder / "corpus.jsonl").open("w") as handle:
        for doc_id, text in CORPUS.items():
            handle.write(json.dumps({"_id": doc_id, "title": "", "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as handle:
        for query_id, text in QUERIES.items():
            handle.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    for split, rows in QRELS.items():
        lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{g}" for q, d, g in rows]
        (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def beir_dir(tmp_path: Path) -> Path:
    return write_beir(tmp_path / "beir")
