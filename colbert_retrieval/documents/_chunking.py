"""Split long texts into overlapping word windows, and read indexable files (txt, md, jsonl, BEIR corpus).

Examples:
    >>> split_words("a b c d e f g", size=4, overlap=2)
    ['a b c d', 'c d e f', 'e f g']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from colbert_retrieval._inputs import read_jsonl, read_text_file
from colbert_retrieval.documents._records import Record
from colbert_retrieval.errors import InputFormatError, InputNotFoundError, InvalidArgumentError

__all__ = ["SUFFIXES", "iter_files", "json_record", "read_records", "split_words"]

SUFFIXES = (".txt", ".md", ".jsonl")


def split_words(text: str, size: int = 180, overlap: int = 40) -> list[str]:
    """Overlapping chunks of ``size`` words, consecutive chunks sharing ``overlap`` words.

    Raises:
        ValueError: ``overlap`` not smaller than ``size``.
    """
    if not 0 <= overlap < size:
        msg = f"overlap ({overlap}) must be >= 0 and smaller than size ({size})."
        raise InvalidArgumentError(msg)
    words = text.split()
    if len(words) <= size:
        return [" ".join(words)] if words else []
    step = size - overlap
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def iter_files(paths: list[str]) -> Iterator[Path]:
    """Files given directly, and the .txt/.md/.jsonl files under given folders (sorted).

    Raises:
        FileNotFoundError: a path does not exist.
    """
    for name in paths:
        path = Path(name)
        if not path.exists():
            msg = f"{name} does not exist."
            raise InputNotFoundError(msg)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        else:
            yield path


def json_record(item: dict[str, Any], where: str, default_id: str | int | None = None) -> Record | None:
    """The record of one JSON line: ``text`` or BEIR ``title`` + ``text``, ``id``/``_id``, the rest as metadata.

    Returns None for a line whose title and text are both empty (nothing to index).

    Raises:
        InputFormatError: a non-string title or text (the message starts with ``where``).

    Examples:
        >>> json_record({"_id": "d1", "title": "Scurvy", "text": "Vitamin C.", "year": 1753}, "corpus.jsonl:1")
        Record(text='Scurvy Vitamin C.', id='d1', metadata={'year': 1753})
    """
    parts = [item.get("title"), item.get("text")]
    if any(part is not None and not isinstance(part, str) for part in parts):
        msg = f"{where}: 'title' and 'text' must be strings."
        raise InputFormatError(msg)
    text = " ".join(s for s in parts if s).strip()
    if not text:
        return None
    identifier = item.get("id", item.get("_id", default_id))
    metadata = {k: v for k, v in item.items() if k not in {"id", "_id", "text", "title"}}
    return Record(text=text, id=identifier, metadata=metadata)


def read_records(path: Path, size: int = 180, overlap: int = 40) -> Iterator[Record]:
    """Records of one file.

    A ``.jsonl`` file gives one record per line (``text`` or BEIR ``title``/``text``, ``id``/``_id``, the
    other fields as metadata); a text or markdown file gives overlapping chunks with ids ``path#i``.
    """
    if path.suffix == ".jsonl":
        for number, item in read_jsonl(path):
            record = json_record(item, f"{path}:{number}", default_id=f"{path}:{number - 1}")
            if record is not None:
                record.metadata.setdefault("source", str(path))
                yield record
        return
    text = read_text_file(path)
    for index, chunk in enumerate(split_words(text, size, overlap)):
        yield Record(text=chunk, id=f"{path}#{index}", metadata={"source": str(path), "chunk": index})
