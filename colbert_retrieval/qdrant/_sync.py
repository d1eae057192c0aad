"""Sync: "these are the documents of source S now", so re-indexing never serves stale, deleted or half-new text.

A source is what its documents came from (a file's path; metadata ``source``). :func:`sync_sources` makes the
stored documents of each given source exactly the given ones, and writes nothing for a source whose version is
already stored:

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
    >>> state.add("p1", {"version": "v1", "size": 2, "atomic": True, "time": 1})
    >>> state.add("p2", {"version": "v1", "size": 2, "atomic": True, "time": 1})
    >>> state.current(), state.settled()
    ('v1', True)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.documents import PAYLOAD_KEYS, SOURCE_KEY, SYNC_KEY, PayloadKeys, Record, to_record
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import _writer_steps as ingest
from colbert_retrieval.qdrant.backends import Backend

__all__ = [
    "SourceState",
    "SourceSync",
    "SyncStatus",
    "SyncSummary",
    "records_version",
    "source_states",
    "stored_sources",
    "sync_sources",
]


#: The payload field that names a document's source.
def _source_field(keys: PayloadKeys) -> str:
    """The payload path of a point's source (``metadata.source`` under the default keys)."""
    return keys.field(SOURCE_KEY)


VERSION_FIELD = f"{SYNC_KEY}.version"

#: What a sync did to a source.
SyncStatus = str  # "unchanged" | "added" | "updated" | "removed"


@dataclass(frozen=True)
class SourceSync:
    """What a sync did to one source.

    Attributes:
        status: ``"unchanged"`` (its version was stored: nothing encoded), ``"added"`` (nothing was stored for
            it), ``"updated"`` (another version was stored) or ``"removed"`` (it has no documents now).
        version: the version now stored (None once removed).
        written: documents encoded and written.
        removed: stored points deleted: the old version, documents no longer in the source, or what an
            interrupted sync left behind.
    """

    status: SyncStatus
    version: str | None
    written: int = 0
    removed: int = 0

    def __str__(self) -> str:
        return self.status + (
            "" if self.status == "unchanged" else f" ({self.written} written, {self.removed} removed)"
        )


@dataclass(frozen=True)
class SyncSummary:
    """What :meth:`ColBERTIndex.sync` did: per source (:class:`SourceSync`), and the ingest of all of them.

    Attributes:
        sources: source name -> what happened to it.
        ingest: the one ingest that wrote every new or changed document (with the texts the model cut).
    """

    sources: dict[str, SourceSync]
    ingest: ingest.IngestSummary

    def count(self, status: SyncStatus) -> int:
        """How many sources ended with ``status``."""
        return sum(result.status == status for result in self.sources.values())

    @property
    def removed(self) -> int:
        """Stored points deleted, all sources together."""
        return sum(result.removed for result in self.sources.values())

    def __str__(self) -> str:
        counts = ", ".join(f"{self.count(status)} {status}" for status in ("unchanged", "updated", "added", "removed"))
        return f"sources: {counts}; {self.ingest.documents} documents written, {self.removed} removed"


@dataclass
class SourceState:
    """The stored points of one source: per point id its sync record (None: written by ``add``)."""

    points: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def add(self, point: str, tag: dict[str, Any] | None) -> None:
        """Record one stored point."""
        self.points[point] = tag if isinstance(tag, dict) else None

    def versions(self) -> dict[str | None, list[dict[str, Any] | None]]:
        """The stored versions, each with the sync records of its points."""
        found: dict[str | None, list[dict[str, Any] | None]] = {}
        for tag in self.points.values():
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


def _source_filter(keys: PayloadKeys, source: str | None = None) -> qm.Filter:
    field = _source_field(keys)
    if source is None:
        return qm.Filter(must_not=[qm.IsEmptyCondition(is_empty=qm.PayloadField(key=field))])
    return qm.Filter(must=[qm.FieldCondition(key=field, match=qm.MatchValue(value=source))])


def source_states(
    backend: Backend, sources: Sequence[str] | None = None, page_size: int = 512, keys: PayloadKeys = PAYLOAD_KEYS
) -> dict[str, SourceState]:
    """The stored points of every source (or of these), read page by page in one scroll."""
    states: dict[str, SourceState] = {}
    offset: str | None = None
    if sources is not None and not sources:
        return states
    condition = (
        _source_filter(keys)
        if sources is None
        else qm.Filter(must=[qm.FieldCondition(key=_source_field(keys), match=qm.MatchAny(any=list(sources)))])
    )
    while True:
        points, offset = backend.scroll(offset, page_size, filter=condition)
        for point in points:
            name = (point.payload.get(keys.metadata) or {}).get(SOURCE_KEY)
            if isinstance(name, str):
                state = states.setdefault(name, SourceState())
                state.add(point.id, point.payload.get(SYNC_KEY))
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


def sync_sources(
    backend: Backend,
    writer: Any,
    sources: Mapping[str, Iterable[Any]],
    *,
    versions: Mapping[str, str] | None = None,
    atomic: bool = True,
    overwrite: bool = False,
    batch_size: int = 32,
    show_progress_bar: bool = False,
    keys: PayloadKeys = PAYLOAD_KEYS,
) -> SyncSummary:
    """Make the stored documents of each source exactly the given ones (see ``ColBERTIndex.sync``).

    One ingest writes the new documents of every changed source (full batches, one upload queue); then each
    source's old points are deleted, one source at a time.
    """
    if not isinstance(sources, Mapping):
        msg = f"sync() takes a mapping of source name -> documents, got {type(sources).__name__}: {{name: documents}}."
        raise InvalidArgumentError(msg)
    for name in sources:
        if not isinstance(name, str) or not name:
            msg = f"A source name must be a non-empty string (a file path, a URL, a table name), got {name!r}."
            raise InvalidArgumentError(msg)
    given = {name: [_with_source(item, n, name) for n, item in enumerate(docs)] for name, docs in sources.items()}
    chosen = {name: (versions or {}).get(name) or records_version(records) for name, records in given.items()}
    states = source_states(backend, list(given), keys=keys)
    results: dict[str, SourceSync] = {}
    tags: dict[str, ingest.SyncTag] = {}
    keep: dict[str, set[str]] = {}
    now = time.time_ns()
    for name, records in given.items():
        state = states.get(name, SourceState())
        if not records:
            if state.points:
                backend.delete_where(_source_filter(keys, name))
            results[name] = SourceSync("removed" if state.points else "unchanged", None, 0, len(state.points))
        elif state.current() == chosen[name] and not overwrite:
            # Leftovers of an interrupted atomic sync (an older or a partial version): the complete one stays.
            stale = [point for point, tag in state.points.items() if not tag or tag.get("version") != chosen[name]]
            if stale:
                backend.delete(stale)
            results[name] = SourceSync("unchanged", chosen[name], 0, len(stale))
        else:
            keep[name] = {writer.point_id(record, chosen[name] if atomic else None) for record in records}
            tags[name] = ingest.SyncTag(chosen[name], len(keep[name]), atomic, now)
    written_ids: set[str] = set()
    summary = (  # nothing changed: no ingest (no upload thread, no progress bar)
        writer.add(
            [record for name in tags for record in given[name]],
            batch_size=batch_size,
            overwrite=overwrite,
            show_progress_bar=show_progress_bar,
            tags=tags,
            written_ids=written_ids,
        )
        if tags
        else ingest.IngestSummary(0, 0, 0, 0.0)
    )
    for name, tag in tags.items():  # the new versions are complete: now the old ones go
        state = states.get(name, SourceState())
        stale = [point for point in state.points if point not in keep[name]]
        if atomic:  # one delete: every point of the source that is not of the new version
            backend.delete_where(
                qm.Filter(
                    must=[qm.FieldCondition(key=_source_field(keys), match=qm.MatchValue(value=name))],
                    must_not=[qm.FieldCondition(key=VERSION_FIELD, match=qm.MatchValue(value=tag.version))],
                )
            )
        else:
            if stale:
                backend.delete(stale)
            backend.set_payload(sorted(keep[name]), {SYNC_KEY: tag.payload()})  # the unchanged documents too
        status = "updated" if state.points else "added"
        results[name] = SourceSync(status, tag.version, len(keep[name] & written_ids), len(stale))
    return SyncSummary({name: results[name] for name in given}, summary)


def stored_sources(states: Mapping[str, SourceState]) -> dict[str, str | None]:
    """Each source's version where it is settled, None where its next sync has something to finish."""
    return {name: state.current() if state.settled() else None for name, state in sorted(states.items())}
