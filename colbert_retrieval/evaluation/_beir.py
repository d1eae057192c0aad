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
from dataclasses import dataclass
from pathlib import Path

from colbert_retrieval._inputs import read_jsonl
from colbert_retrieval.errors import InputFormatError, InputNotFoundError

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
        InputNotFoundError: a file is missing (the message names it).
        InputFormatError: a line is not a JSON object with an ``_id``, or no query is judged.
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
                try:
                    qrels.setdefault(row[0], {})[row[1]] = int(row[2])
                except ValueError:
                    raise InputFormatError(f"{qrels_path}: relevance {row[2]!r} is not an integer.") from None
    corpus: dict[str, str] = {}
    for number, item in read_jsonl(root / "corpus.jsonl"):
        corpus[_id(item, root / "corpus.jsonl", number)] = f"{item.get('title', '')} {item.get('text', '')}".strip()
    queries: dict[str, str] = {}
    for number, item in read_jsonl(root / "queries.jsonl"):
        if _id(item, root / "queries.jsonl", number) in qrels:
            queries[str(item["_id"])] = str(item.get("text", ""))
    if not queries:
        msg = f"No query in {root / 'queries.jsonl'} is judged in {qrels_path}; check the split and the query ids."
        raise InputFormatError(msg)
    return BeirDataset(corpus=corpus, queries=queries, qrels=qrels)


def _id(item: dict[str, object], path: Path, number: int) -> str:
    if "_id" not in item:
        raise InputFormatError(f"{path}:{number}: a BEIR line needs an '_id' field.")
    return str(item["_id"])
