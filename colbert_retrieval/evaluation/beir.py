r"""Load a dataset in BEIR format (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``).

Examples:
    >>> import json, pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "T", "text": "x"}) + "\n")
    >>> _ = (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "x?"}) + "\n")
    >>> (root / "qrels").mkdir()
    >>> _ = (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    >>> data = load_beir(root)
    >>> data.corpus, data.queries, data.qrels
    ({'d1': 'T x'}, {'q1': 'x?'}, {'q1': {'d1': 1}})
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from colbert_retrieval.errors import InputNotFoundError

__all__ = ["BeirDataset", "load_beir"]


@dataclass(frozen=True)
class BeirDataset:
    """Corpus texts (``title + " " + text``), the queries that have judgments, and the judgments."""

    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def load_beir(folder: str | Path, split: str = "test") -> BeirDataset:
    """Read a BEIR folder; only queries judged in ``split`` are kept.

    Args:
        folder: folder holding ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/``.
        split: which qrels file (``test``, ``dev``, ``train``).

    Returns:
        The dataset.

    Raises:
        FileNotFoundError: a file is missing (the message names it).
    """
    root = Path(folder)
    qrels_path = root / "qrels" / f"{split}.tsv"
    for path in (root / "corpus.jsonl", root / "queries.jsonl", qrels_path):
        if not path.exists():
            msg = f"{path} not found; a BEIR folder needs corpus.jsonl, queries.jsonl and qrels/{split}.tsv."
            raise InputNotFoundError(msg)
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf8") as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)
        for row in reader:
            if len(row) >= 3:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    corpus: dict[str, str] = {}
    with (root / "corpus.jsonl").open(encoding="utf8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                corpus[str(item["_id"])] = f"{item.get('title', '')} {item.get('text', '')}".strip()
    queries: dict[str, str] = {}
    with (root / "queries.jsonl").open(encoding="utf8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                if str(item["_id"]) in qrels:
                    queries[str(item["_id"])] = item["text"]
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)
