"""Highlights: the words of a hit that its query's tokens matched, from the vectors the search scored.

At ingest each point's payload keeps a span table (:data:`SPANS_KEY`): for every token with text, its
character span and the stored (pooled) vector it was merged into, the vector nearest to the token's own (pooling
keeps cluster means, so that is its cluster). At search, each query token's best stored vector (the MaxSim
match) marks the spans merged into it; a span's ``share`` is the part of the hit's MaxSim that the query tokens
matching it contribute. Points written without a table (by ``add_embeddings``, or before 0.3) are re-encoded
from their text instead, one vector per token.

Examples:
    >>> import numpy as np
    >>> text = "lemons have vitamin c"
    >>> stored = np.eye(3, dtype=np.float32)  # three stored vectors
    >>> table = [0, 6, 1, 12, 19, 2, 20, 21, 2]  # "lemons" -> vector 1, "vitamin" and "c" -> vector 2
    >>> query = np.array([[0, 0, 1.0], [0, 1.0, 0]], dtype=np.float32)
    >>> [(h.text, h.query_tokens, h.share) for h in spans_of(query, ["vitamin", "citrus"], stored, table, text)]
    [('lemons', ('citrus',), 0.5), ('vitamin', ('vitamin',), 0.5), ('c', ('vitamin',), 0.5)]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import document_token_spans, query_token_labels, word_span
from colbert_retrieval.qdrant._schema import COLBERT_VECTOR

__all__ = ["SPANS_KEY", "Highlight", "attach_highlights", "mark", "span_table", "spans_of"]

logger = logging.getLogger(__name__)

#: The payload key of a point's span table (flat ``start, end, vector`` triples).
SPANS_KEY = "_token_spans"


@dataclass(frozen=True)
class Highlight:
    """A span of a hit's text that query tokens matched.

    Attributes:
        start: first character, into the hit's ``text``.
        end: one past the last character (``text[start:end]`` is :attr:`text`).
        text: the matched characters (a word or a word piece).
        query_tokens: the query tokens whose best match covers this span.
        share: the part of the hit's MaxSim those query tokens contribute (0..1; the spans merged into one
            stored vector share it, so shares of different spans can add up to more than 1).
    """

    start: int
    end: int
    text: str
    query_tokens: tuple[str, ...]
    share: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (what the CLI's ``--json``, LangChain metadata and LlamaIndex nodes carry)."""
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "query_tokens": list(self.query_tokens),
            "share": self.share,
        }


def mark(
    text: str,
    highlights: Sequence[Highlight],
    before: str = "[",
    after: str = "]",
    start: int = 0,
    end: int | None = None,
) -> str:
    """``text[start:end]`` with each highlighted span in it wrapped in ``before`` and ``after`` (``SearchHit.marked``).

    Examples:
        >>> mark("lemons have vitamin c", [Highlight(12, 19, "vitamin", ("vitamin",), 0.5)], "<b>", "</b>")
        'lemons have <b>vitamin</b> c'
    """
    end = len(text) if end is None else min(end, len(text))
    pieces, position = [], start
    for highlight in sorted(highlights, key=lambda h: h.start):
        if highlight.start < position or highlight.end > end:
            continue
        pieces += [text[position : highlight.start], before, text[highlight.start : highlight.end], after]
        position = highlight.end
    return "".join(pieces) + text[position:end]


def span_table(tokens: Any, stored: Any, spans: Sequence[tuple[int, int] | None]) -> list[int] | None:
    """The payload's span table of one document: ``[start, end, vector, ...]`` for each token with text.

    Args:
        tokens: the document's token vectors before pooling, ``(n, dim)``.
        stored: the vectors stored for it, ``(m, dim)`` (pooled cluster means, or the tokens themselves).
        spans: the character span of each token vector (:func:`~colbert_retrieval.models.document_token_spans`).

    Returns:
        The table, or None when ``spans`` does not account for every token vector (nothing is stored then, and
        highlights re-encode the text).
    """
    if len(spans) != int(tokens.shape[0]) or int(stored.shape[0]) == 0:
        return None
    left = torch.as_tensor(tokens).float()
    right = torch.as_tensor(stored).to(left.device).float()
    nearest = (left @ right.T).argmax(dim=1).tolist()
    table: list[int] = []
    for span, vector in zip(spans, nearest):
        if span is not None:
            table += [span[0], span[1], vector]
    return table


def spans_of(
    query: np.ndarray, labels: Sequence[str], stored: np.ndarray, table: Sequence[int], text: str
) -> tuple[Highlight, ...]:
    """The highlights of one hit: each query token's best stored vector, mapped to the spans merged into it.

    A query token marks words when its match is at least the average match of the query's tokens (the tokens
    that carry the score; a function word's weak match to the stopwords pooled together marks nothing). Special
    query tokens (``[CLS]``, ``[SEP]``, markers, ``[MASK]`` expansion) count in the score and the average, and
    mark nothing.

    Args:
        query: the query's token vectors ``(q, dim)``.
        labels: a label per query vector.
        stored: the hit's stored vectors ``(m, dim)``.
        table: its span table (:func:`span_table`).
        text: the hit's text.

    Returns:
        Highlights in text order: a matched word piece marks its whole word, and the pieces of one word are one
        highlight (its query tokens are those of every piece).
    """
    similarities = np.asarray(query, dtype=np.float32) @ np.asarray(stored, dtype=np.float32).T
    best, where = similarities.max(axis=1), similarities.argmax(axis=1)
    total = float(best.sum())
    if total <= 0:
        return ()
    average = total / len(best)
    by_vector: dict[int, list[int]] = {}
    for token, vector in enumerate(where.tolist()):
        if not _special(labels[token]) and best[token] >= average:
            by_vector.setdefault(vector, []).append(token)
    pieces: list[tuple[int, int, set[int]]] = []
    for position in range(0, len(table) - 2, 3):
        start, end, vector = table[position], table[position + 1], table[position + 2]
        if vector in by_vector and 0 <= start < end <= len(text):
            pieces.append((start, end, set(by_vector[vector])))
    words = sorted((*word_span(text, start, end), tokens) for start, end, tokens in pieces)
    merged: list[tuple[int, int, set[int]]] = []
    for start, end, tokens in words:  # a matched piece marks its whole word; pieces of one word become one
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2] | tokens)
        else:
            merged.append((start, end, tokens))
    return tuple(
        Highlight(
            start,
            end,
            text[start:end],
            tuple(dict.fromkeys(labels[t] for t in sorted(tokens))),
            round(float(sum(best[t] for t in tokens)) / total, 4),
        )
        for start, end, tokens in merged
    )


def _special(label: str) -> bool:
    """``[CLS]``, ``[Q] ``, ``<s>``, ``[MASK]``, an unlabelled ``#3``, or a bare word-start marker."""
    bare = label.strip()
    wrapped = (bare[:1], bare[-1:]) in (("[", "]"), ("<", ">"))
    return wrapped or (bare.startswith("#") and bare[1:].isdigit()) or not bare.strip("▁Ġ")


def attach_highlights(
    hits: list[list[Any]], texts: Sequence[str], queries: Sequence[np.ndarray], backend: Any, model: Any
) -> list[list[Any]]:
    """Each query's hits with their :class:`Highlight` s (``SearchHit.highlights``).

    Stored vectors and span tables are read back for every hit in one call; hits without a table are
    re-encoded (one batch) and counted in a log line.

    Raises:
        InvalidArgumentError: queries given as vectors (the labels of the query tokens come from the text).
    """
    if len(texts) != len(hits):
        raise InvalidArgumentError("Highlights need the query texts; search with texts, not vectors.")
    wanted = sorted({h.point_id for query_hits in hits for h in query_hits if h.point_id})
    stored = {p.id: p for p in backend.retrieve(wanted, with_vectors=[COLBERT_VECTOR])} if wanted else {}
    missing = sorted({h.text for query_hits in hits for h in query_hits if not _table(stored.get(h.point_id))})
    fresh: dict[str, tuple[np.ndarray, list[int]]] = {}
    if missing:
        logger.info("Highlights: %d hits have no stored span table; re-encoding their text.", len(missing))
        vectors = model.encode(missing, is_query=False, show_progress_bar=False)
        for text, array, spans in zip(missing, vectors, document_token_spans(model, missing)):
            array = np.asarray(array, dtype=np.float32)
            table = span_table(array, array, spans) or []
            fresh[text] = (array, table)
    labels = query_token_labels(model, list(texts))
    result = []
    for query_hits, query, names in zip(hits, queries, labels):
        query = np.asarray(query, dtype=np.float32)
        names = names if len(names) == len(query) else [f"#{i}" for i in range(len(query))]
        marked = []
        for hit in query_hits:
            point = stored.get(hit.point_id)
            if _table(point):
                vectors = np.asarray(point.vectors[COLBERT_VECTOR], dtype=np.float32)
                table = point.payload[SPANS_KEY]
            else:
                vectors, table = fresh[hit.text]
            marked.append(replace(hit, highlights=spans_of(query, names, vectors, table, hit.text)))
        result.append(marked)
    return result


def _table(point: Any) -> bool:
    return point is not None and bool(point.payload.get(SPANS_KEY)) and bool(point.vectors)
