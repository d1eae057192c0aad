"""``colbert-retrieval index PATHS``: sync the files under the given paths into the index, one source per file.

Each file is a source of :meth:`~colbert_retrieval.qdrant.ColBERTIndex.sync` whose version is
:func:`~colbert_retrieval.documents.file_version` (its bytes and how it is chunked): an unchanged file is not
read, a changed one is replaced as one unit (a ``.jsonl`` corpus record by record, keeping its ids), and a file
that disappeared from the given paths is removed (unless ``keep_missing``). The chunks of all changed files are
encoded in one ingest. Damaged files are named one by one
and keep what was stored for them; files of formats that are not read are counted by suffix.

Examples:
    >>> formats_line({".png": 8, ".js": 1})
    '9 files of formats not read: 8 .png, 1 .js'
"""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from colbert_retrieval.documents import file_version, read_records
from colbert_retrieval.errors import InputFormatError, TruncationWarning
from colbert_retrieval.qdrant import ColBERTIndex, SyncSummary, Truncated

__all__ = ["FilesReport", "formats_line", "sync_files"]


@dataclass
class FilesReport:
    """What a sync of files did: files per outcome, chunks written and removed, texts cut, files not read."""

    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    written: int = 0
    deleted: int = 0
    vectors: int = 0
    truncated: Truncated = field(default_factory=Truncated)

    def add(self, summary: SyncSummary) -> None:
        """Count a sync's sources and ingest."""
        for name, result in summary.sources.items():
            getattr(self, result.status).append(name)
            self.deleted += result.removed
        self.written += summary.ingest.documents
        self.vectors += summary.ingest.vectors
        self.truncated += summary.ingest.truncated

    def __str__(self) -> str:
        return (
            f"files: {len(self.unchanged)} unchanged, {len(self.updated)} updated, {len(self.added)} added, "
            f"{len(self.removed)} removed; {self.written} chunks written ({self.vectors} vectors), "
            f"{self.deleted} old chunks removed"
        )


def formats_line(suffixes: Counter[str] | dict[str, int]) -> str:
    """One line counting the files not read, by suffix (most common first)."""
    counts = sorted(suffixes.items(), key=lambda item: (-item[1], item[0]))
    total = sum(n for _, n in counts)
    return f"{total} files of formats not read: " + ", ".join(f"{n} {suffix}" for suffix, n in counts)


def _under(source: str, roots: Sequence[Path]) -> bool:
    path = Path(source)
    return any(path == root or root in path.parents for root in roots)


def sync_files(
    index: ColBERTIndex,
    files: Sequence[Path],
    roots: Iterable[str],
    chunker: Any,
    *,
    keep_missing: bool = False,
    overwrite: bool = False,
    batch_size: int = 32,
    show_progress_bar: bool = True,
) -> FilesReport:
    """Sync ``files`` into ``index`` (one source each) and remove stored files under ``roots`` that are gone.

    Files are read only when their version differs from the stored one; the chunks of every changed file are
    encoded in one ingest (one per ``.jsonl`` corpus, synced record by record).

    Args:
        index: the index.
        files: the files found under ``roots`` (``documents.iter_files``).
        roots: the paths the user gave.
        chunker: how files become chunks (``documents.Chunker``).
        keep_missing: keep what is stored for files no longer under ``roots``.
        overwrite: encode every file again, changed or not.
        batch_size: chunks per forward pass.
        show_progress_bar: a bar over the chunks encoded.
    """
    report = FilesReport(truncated=Truncated(limit=index.model.document_length))
    stored = index.sources()
    chunked: dict[str, list[Any]] = {}
    corpora: dict[str, list[Any]] = {}
    versions: dict[str, str] = {}
    for path in files:
        source = str(path)
        corpus = path.suffix == ".jsonl"  # records keep their ids: synced record by record
        versions[source] = file_version(path, None if corpus else chunker)
        if not overwrite and stored.get(source) == versions[source]:
            report.unchanged.append(source)
            continue
        try:  # a damaged file writes nothing (and keeps what was stored for it)
            records = list(read_records(path, chunker))
        except (InputFormatError, ImportError) as error:
            print(f"skipped {path}: {error}", file=sys.stderr)
            report.failed.append((source, str(error)))
            continue
        (corpora if corpus else chunked)[source] = records
    if not keep_missing:
        present = {str(path) for path in files}
        below = [Path(root) for root in roots]
        chunked.update({source: [] for source in stored if source not in present and _under(source, below)})
    with warnings.catch_warnings():  # counted in the report, printed once by the command
        warnings.simplefilter("ignore", TruncationWarning)
        for sources, atomic in ((chunked, True), *(({name: records}, False) for name, records in corpora.items())):
            if sources:
                report.add(
                    index.sync(
                        sources,
                        versions=versions,
                        atomic=atomic,
                        overwrite=overwrite,
                        batch_size=batch_size,
                        show_progress_bar=show_progress_bar,
                    )
                )
    return report
