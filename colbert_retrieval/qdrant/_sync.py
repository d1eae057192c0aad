"""Sync: "these are the documents of source S now", so re-indexing never serves stale, deleted or half-new text.

A source is what its documents came from (a file's path; metadata ``source``). :func:`sync_source` makes the
stored documents of one source exactly the given ones, and writes nothing when its version is already stored:

* **atomic** (the default; a file's chunks): the new version is written beside the old one under versioned
  point ids, and the old version is deleted only once the new one is complete. A crash leaves the old version
  whole (and maybe part of the new one); the next sync of the source keeps the newest complete version and
  deletes the rest, so after it every source is fully old or fully new, never both or neither.
* **document by document** (``atomic=False``; a corpus whose records keep their own ids): stable ids, only
  documents whose text or metadata changed are encoded again, documents no longer in the source are deleted,
  and each document is replaced atomically by one upsert.

Every synced point carries its source's version in its payload (``SYNC_KEY``: version, size, atomic, time).

Examples:
    >>> state = SourceState()
    >>> state.add("p1", None, {"version": "v1", "size": 2, "atomic": True, "time": 1})
    >>> state.add("p2", None, {"version": "v1", "size": 2, "atomic": True, "time": 1})
    >>> state.current(), state.settled()
    ('v1', True)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.documents import METADATA_KEY, SOURCE_KEY, SYNC_KEY, Record, to_record
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import _ingest as ingest
from colbert_retrieval.qdrant.backends import Backend

__all__ = [
    "SourceState",
    "SyncStatus",
    "SyncSummary",
    "records_version",
    "source_states",
    "stored_sources",
    "sync_source",
]

#: The payload field that names a document's source.
SOURCE_FIELD = f"{METADATA_KEY}.{SOURCE_KEY}"
VERSION_FIELD = f"{SYNC_KEY}.version"

#: What a sync did to a source.
SyncStatus = str  # "unchanged" | "added" | "updated" | "removed"


@dataclass(frozen=True)
class SyncSummary:
    """What :meth:`ColBERTIndex.sync` did to one source.

    Attributes:
        source: the source.
        status: ``"unchanged"`` (its version was stored: nothing encoded), ``"added"`` (nothing was stored for
            it), ``"updated"`` (another version was stored) or ``"removed"`` (it has no documents now).
        version: the version now stored.
        written: the ingest of the new version's documents (all zero when unchanged).
        removed: stored points deleted: the old version, documents no longer in the source, or what an
            interrupted sync left behind.
    """

    source: str
    status: SyncStatus
    version: str | None
    written: ingest.IngestSummary
    removed: int = 0

    def __str__(self) -> str:
        text = f"{self.source}: {self.status}"
        if self.status != "unchanged":
            text += f" ({self.written.documents} written, {self.removed} removed)"
        return text


@dataclass
class SourceState:
    """The stored points of one source: per point id its user id and its sync record (None: written by ``add``)."""

    points: dict[str, tuple[Any, dict[str, Any] | None]] = field(default_factory=dict)

    def add(self, point: str, user_id: Any, tag: dict[str, Any] | None) -> None:
        """Record one stored point."""
        self.points[point] = (user_id, tag if isinstance(tag, dict) else None)

    def versions(self) -> dict[str | None, list[dict[str, Any] | None]]:
        """The stored versions, each with the sync records of its points."""
        found: dict[str | None, list[dict[str, Any] | None]] = {}
        for _, tag in self.points.values():
            found.setdefault(tag.get("version") if tag else None, []).append(tag)
        return found

    def current(self) -> str | None:
        """The version the source holds; None where no such version is stored.

        That is the newest complete atomic version, or the one version of a source synced document by document.
        """
        versions = self.versions()
        complete = [
            (tags[0]["time"], version)
            for version, tags in versions.items()
            if version is not None and tags[0] and tags[0].get("atomic") and len(tags) == tags[0].get("size")
        ]
        if complete:
            return max(complete)[1]
        if len(versions) == 1:
            (version, tags), *_ = versions.items()
            return version if version is not None and tags[0] and not tags[0].get("atomic") else None
        return None

    def settled(self) -> bool:
        """Whether the source holds one version and nothing else (no leftovers of an interrupted sync)."""
        return self.current() is not None and len(self.versions()) == 1


def records_version(records: Iterable[Record]) -> str:
    """A version of documents: a hash of their ids, texts and metadata, in order.

    Examples:
        >>> records_version([Record("a", id=1)]) == records_version([Record("a", id=1)])
        True
        >>> records_version([Record("a", id=1)]) == records_version([Record("b", id=1)])
        False
    """
    digest = hashlib.sha256()
    for record in records:
        line = json.dumps([record.id, record.text, record.metadata], sort_keys=True, ensure_ascii=False, default=str)
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _source_filter(source: str | None = None) -> qm.Filter:
    if source is None:
        return qm.Filter(must_not=[qm.IsEmptyCondition(is_empty=qm.PayloadField(key=SOURCE_FIELD))])
    return qm.Filter(must=[qm.FieldCondition(key=SOURCE_FIELD, match=qm.MatchValue(value=source))])


def source_states(backend: Backend, source: str | None = None, page_size: int = 512) -> dict[str, SourceState]:
    """The stored points of every source (or of one), read page by page in one scroll."""
    states: dict[str, SourceState] = {}
    offset: str | None = None
    condition = _source_filter(source)
    while True:
        points, offset = backend.scroll(offset, page_size, filter=condition)
        for point in points:
            name = (point.payload.get(METADATA_KEY) or {}).get(SOURCE_KEY)
            if isinstance(name, str):
                state = states.setdefault(name, SourceState())
                state.add(point.id, point.payload.get("id"), point.payload.get(SYNC_KEY))
        if offset is None:
            return states


def _with_source(item: Any, position: int, source: str) -> Record:
    record = to_record(item, position)
    given = record.metadata.get(SOURCE_KEY, source)
    if given != source:
        msg = (
            f"Document at position {position} has metadata source {given!r} but is synced as source {source!r}; "
            "drop the field or sync it with its own source."
        )
        raise InvalidArgumentError(msg)
    return Record(text=record.text, id=record.id, metadata={**record.metadata, SOURCE_KEY: source})


def sync_source(
    backend: Backend,
    writer: Any,
    source: str,
    documents: Iterable[Any],
    *,
    version: str | None = None,
    atomic: bool = True,
    overwrite: bool = False,
    batch_size: int = 32,
    show_progress_bar: bool = False,
) -> SyncSummary:
    """Make the stored documents of ``source`` exactly ``documents`` (see ``ColBERTIndex.sync``)."""
    if not isinstance(source, str) or not source:
        msg = f"source must be a non-empty string (a file path, a URL, a table name), got {source!r}."
        raise InvalidArgumentError(msg)
    records = [_with_source(item, position, source) for position, item in enumerate(documents)]
    version = version or records_version(records)
    state = source_states(backend, source).get(source, SourceState())
    nothing = ingest.IngestSummary(0, 0, 0, 0.0)
    if not records:
        backend.delete_where(_source_filter(source))
        return SyncSummary(source, "removed" if state.points else "unchanged", None, nothing, len(state.points))
    if state.current() == version and not overwrite:
        # Leftovers of an interrupted atomic sync (an older or a partial version): the complete one stays.
        stale = [point for point, (_, tag) in state.points.items() if not tag or tag.get("version") != version]
        if stale:
            backend.delete(stale)
        return SyncSummary(source, "unchanged", version, nothing, len(stale))
    keep = {writer.point_id(record, version if atomic else None) for record in records}
    tag = ingest.SyncTag(source, version, len(keep), atomic, time.time_ns())
    written = writer.add(
        records, batch_size=batch_size, overwrite=overwrite, show_progress_bar=show_progress_bar, tag=tag
    )
    stale = [point for point in state.points if point not in keep]
    if atomic:  # one delete: every point of the source that is not of the new version
        backend.delete_where(
            qm.Filter(
                must=[qm.FieldCondition(key=SOURCE_FIELD, match=qm.MatchValue(value=source))],
                must_not=[qm.FieldCondition(key=VERSION_FIELD, match=qm.MatchValue(value=version))],
            )
        )
    else:
        if stale:
            backend.delete(stale)
        backend.set_payload(sorted(keep), {SYNC_KEY: tag.payload()})  # the unchanged (skipped) documents too
    return SyncSummary(source, "updated" if state.points else "added", version, written, len(stale))


def stored_sources(states: Mapping[str, SourceState]) -> dict[str, str | None]:
    """Each source's version where it is settled, None where its next sync has something to finish."""
    return {name: state.current() if state.settled() else None for name, state in sorted(states.items())}
