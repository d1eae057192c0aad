"""Why a document matched: for each query token, the document token it matched and its share of the score.

A late-interaction score is a sum over query tokens of each one's best similarity with a document token
(MaxSim), so it splits exactly into per-token contributions. :func:`explain` (``ColBERT.explain(query,
document)``) builds an :class:`Explanation`; :meth:`Explanation.to_text` highlights the matched spans for a terminal
(``colbert-retrieval search --explain``) and :meth:`Explanation.to_html` renders them for notebooks and docs.

Examples:
    >>> match = TokenMatch("scurvy", "scurvy", 0, (0, 6), 0.9)
    >>> explanation = Explanation("scurvy?", "Scurvy is a disease.", 0.9, [match], ["scurvy"], [(0, 6)])
    >>> explanation.to_text(color=False)
    '[Scurvy] is a disease.'
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from colbert_retrieval._inputs import texts_or_raise
from colbert_retrieval.models._encoder_runtime import EncoderRuntime

#: The model these functions take: a ``colbert_retrieval.ColBERT`` (not imported: it imports this module).
ColBERT = Any

__all__ = ["Explanation", "TokenMatch", "explain"]

_BOLD, _RESET = "\033[1;33m", "\033[0m"


@dataclass(frozen=True)
class TokenMatch:
    """One query token's best document token.

    Attributes:
        query_token: the query token (``[MASK]`` for a query-expansion token).
        document_token: the document token it matched best.
        document_position: index of that token in :attr:`Explanation.document_tokens`.
        span: its ``(start, end)`` characters in the document (None for ``[CLS]``, markers, ``[SEP]``).
        score: its similarity, the query token's contribution to the total score.
    """

    query_token: str
    document_token: str
    document_position: int
    span: tuple[int, int] | None
    score: float


@dataclass(frozen=True)
class Explanation:
    """A MaxSim score split into per-query-token contributions (they sum to :attr:`score`).

    Attributes:
        query: the query text.
        document: the document text.
        score: the MaxSim score (sum of the matches' scores).
        matches: one :class:`TokenMatch` per query vector, in query order.
        document_tokens: the document's tokens that have vectors (after the skiplist).
        document_spans: their character spans in the document (None for special tokens).
    """

    query: str
    document: str
    score: float
    matches: list[TokenMatch]
    document_tokens: list[str]
    document_spans: list[tuple[int, int] | None]

    def span_scores(self) -> dict[tuple[int, int], float]:
        """Total contribution of each matched document span (several query tokens may pick the same one)."""
        totals: dict[tuple[int, int], float] = {}
        for match in self.matches:
            if match.span is not None:
                totals[match.span] = totals.get(match.span, 0.0) + match.score
        return totals

    def _pieces(self, end: int | None = None) -> list[tuple[str, float | None]]:
        document = self.document[:end] if end is not None else self.document
        pieces: list[tuple[str, float | None]] = []
        position = 0
        for (start, stop), value in sorted(self.span_scores().items()):
            if start < position or stop > len(document):
                continue
            if start == position and pieces and pieces[-1][1] is not None:  # word pieces of one word: one span
                text, total = pieces.pop()
                pieces.append((text + document[start:stop], total + value))  # type: ignore[operator]
            else:
                pieces.append((document[position:start], None))
                pieces.append((document[start:stop], value))
            position = stop
        pieces.append((document[position:], None))
        return [(text, value) for text, value in pieces if text]

    def to_text(self, color: bool = True, encoded_only: bool = False) -> str:
        """The document with its matched spans highlighted (ANSI bold yellow, or ``[brackets]``).

        Args:
            color: ANSI colours (a terminal) or brackets.
            encoded_only: stop after the last token the model saw (documents are truncated at
                ``document_length``), marking the cut with ``...``.
        """
        opened, closed = (_BOLD, _RESET) if color else ("[", "]")
        text = "".join(f"{opened}{t}{closed}" if value is not None else t for t, value in self._pieces())
        ends = [span[1] for span in self.document_spans if span is not None]
        if encoded_only and ends and max(ends) < len(self.document.rstrip()):
            cut = max(ends)
            text = "".join(f"{opened}{t}{closed}" if v is not None else t for t, v in self._pieces(cut)) + " ..."
        return text

    def to_html(self) -> str:
        """An HTML fragment: the document with matched spans shaded by contribution, then one bar per query token."""
        top = max((m.score for m in self.matches), default=1.0) or 1.0
        spans = self.span_scores()
        strongest = max(spans.values(), default=1.0) or 1.0
        parts = []
        for text, value in self._pieces():
            if value is None:
                parts.append(html.escape(text))
            else:
                alpha = 0.15 + 0.85 * min(value / strongest, 1.0)
                parts.append(
                    f'<mark style="background: rgba(255, 190, 0, {alpha:.2f})" title="{value:.3f}">'
                    f"{html.escape(text)}</mark>"
                )
        rows = "".join(
            "<tr>"
            f"<td><code>{html.escape(m.query_token)}</code></td><td><code>{html.escape(m.document_token)}</code></td>"
            f'<td><div style="background:#4c72b0;height:0.8em;width:{max(m.score, 0) / top * 12:.2f}em"></div></td>'
            f"<td>{m.score:.3f}</td></tr>"
            for m in self.matches
        )
        return (
            f'<div class="colbert-explanation"><p>{"".join(parts)}</p>'
            f"<p>MaxSim score: <b>{self.score:.3f}</b></p>"
            "<table><tr><th>query token</th><th>matched</th><th></th><th>contribution</th></tr>"
            f"{rows}</table></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def _token_vectors(model: ColBERT, text: str, is_query: bool) -> tuple[list[str], list[int], Tensor, list[int]]:
    """Tokens with vectors, their positions in the input ids, the unit vectors, and all input ids."""
    task = "query" if is_query else "document"
    features = model.preprocess([text], prompt=model._text_prompt(is_query, None, None), task=task)
    device = next(model.parameters()).device
    features = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in features.items()}
    input_ids = features["input_ids"][0].tolist()
    with torch.inference_mode():
        short = EncoderRuntime.is_short(features, model.resolved_short_path(device))
        out = model.runtime.forward(model, features, task, True, short)
    kept = out["attention_mask"][0].bool().nonzero().flatten().tolist()
    tokens = model.tokenizer.convert_ids_to_tokens([input_ids[p] for p in kept])
    return tokens, kept, out["token_embeddings"][0][kept].float(), input_ids


def explain(model: ColBERT, query: str, document: str) -> Explanation:
    """Split the MaxSim score of ``document`` for ``query`` into per-query-token matches (``ColBERT.explain``).

    The document's first ``document_length`` tokens are explained, without pooling (one vector per token).

    Examples:
        >>> from colbert_retrieval import default_model
        >>> explain(default_model(), "vitamin C deficiency", "Scurvy: a lack of vitamin C.").to_text(color=False)
        'Scurvy: a [lack] [of] [vitamin] [C].'
    """
    query, document = texts_or_raise([query, document])
    q_tokens, _, q_vectors, _ = _token_vectors(model, query, True)
    d_tokens, kept, d_vectors, input_ids = _token_vectors(model, document, False)
    raw = model.tokenizer(
        document, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=len(input_ids)
    )
    start = next((i for i in range(len(input_ids)) if input_ids[i : i + 1] == raw["input_ids"][:1]), 0)
    offsets = raw["offset_mapping"]
    spans = [tuple(offsets[p - start]) if 0 <= p - start < len(offsets) else None for p in kept]
    similarities = q_vectors @ d_vectors.T
    best, where = similarities.max(dim=1)
    matches = [TokenMatch(q_tokens[i], d_tokens[j], j, spans[j], float(best[i])) for i, j in enumerate(where.tolist())]
    return Explanation(query, document, float(best.sum()), matches, d_tokens, spans)
