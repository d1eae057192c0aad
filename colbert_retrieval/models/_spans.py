"""Where each token vector comes from: the character span of every document vector, the label of every query one.

``encode(texts, is_query=False)`` (no pooling) returns one vector per token the model keeps: the special tokens,
the marker and every text token not on the skiplist, over the first ``document_length`` tokens (or the whole
text with sliding windows, ``truncation=False``). :func:`document_token_spans` tokenises the same way with the
tokenizer's offsets, so row ``i`` of those vectors reads ``text[start:end]`` of span ``i`` (None for a special
token or the marker). Highlights map matched vectors back to words with it, without running the model.

Examples:
    >>> from colbert_retrieval import default_model
    >>> model = default_model()
    >>> text = "Scurvy: a lack of vitamin C."
    >>> spans = document_token_spans(model, [text])[0]
    >>> [text[s:e] for s, e in (span for span in spans if span)]
    ['Sc', 'ur', 'vy', 'a', 'lack', 'of', 'vitamin', 'C']
    >>> len(spans) == len(model.encode([text], is_query=False)[0])
    True
    >>> query_token_labels(model, ["vitamin c"])[0]
    ['[CLS]', 'vitamin', 'c', '[SEP]']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from colbert_retrieval.models._colbert import ColBERT

__all__ = ["document_token_spans", "query_token_labels", "word_span"]

Span = tuple[int, int]


def document_token_spans(model: ColBERT, texts: Sequence[str]) -> list[list[Span | None]]:
    """For each text, the character span of each vector ``model.encode(text, is_query=False)`` returns.

    Args:
        model: the encoder.
        texts: document texts.

    Returns:
        Per text, one entry per vector, in order: ``(start, end)`` into the text, or None for a special token,
        the marker and any token that covers no character of the text. The caller checks the count against the
        vectors it holds (a tokenizer that ``encode`` drives differently would not match).
    """
    if not texts:
        return []
    if not getattr(model.tokenizer, "is_fast", False):  # offsets need a fast (Rust) tokenizer
        return [[] for _ in texts]
    prompt = model._text_prompt(False, None, None)
    encoded = model.tokenizer(
        [prompt + text for text in texts],
        add_special_tokens=True,
        truncation=bool(model.truncation),
        max_length=model.document_length if model.truncation else None,
        return_offsets_mapping=True,
        verbose=False,
    )
    skip = set(model.skiplist)
    result = []
    for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"]):
        spans: list[Span | None] = []
        for token, (start, end) in zip(ids, offsets):
            if token in skip:
                continue
            start, end = max(start - len(prompt), 0), end - len(prompt)
            while start < end and text[start].isspace():  # byte-level BPE pieces carry their leading space
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            spans.append((start, end) if end > start else None)
        result.append(spans)
    return result


def query_token_labels(model: ColBERT, texts: Sequence[str]) -> list[list[str]]:
    """For each query, the word behind each vector ``model.encode(text, is_query=True)`` returns.

    A word piece is labelled with its whole word (``scurvy`` for ``sc``, ``##ur``, ``##vy``); special tokens keep
    their token (``[CLS]``, ``[MASK]`` for expansion). Compare the count with the vectors: a tokenizer that
    ``encode`` drives differently would not match.
    """
    if not texts:
        return []
    features = model.tokenize(list(texts), is_query=True)
    prompt = model._text_prompt(True, None, None)
    offsets: list[list[tuple[int, int]] | None] = [None] * len(texts)
    if getattr(model.tokenizer, "is_fast", False):
        encoded = model.tokenizer(
            [prompt + text for text in texts],
            add_special_tokens=True,
            truncation=True,
            max_length=model.query_length,
            return_offsets_mapping=True,
            verbose=False,
        )
        offsets = [list(map(tuple, row)) for row in encoded["offset_mapping"]]
    labels = []
    for row, (ids, mask) in enumerate(zip(features["input_ids"].tolist(), features["attention_mask"].tolist())):
        # expansion pads the query with [MASK] tokens up to query_length: each has a vector, attended or not
        kept = list(range(len(ids))) if model.do_query_expansion else [p for p, on in enumerate(mask) if on]
        spans = offsets[row]
        text = prompt + texts[row]
        words = []
        for position in kept:
            span = spans[position] if spans is not None and position < len(spans) else None
            if span is not None and span[1] > max(span[0], len(prompt) - 1) and span[0] >= len(prompt):
                words.append(text[slice(*word_span(text, *span))])
            else:
                words.append(model.tokenizer.convert_ids_to_tokens(ids[position]))
        labels.append(words)
    return labels


def word_span(text: str, start: int, end: int) -> Span:
    """The whole word of ``text`` that the piece ``text[start:end]`` belongs to (letters and digits around it).

    A piece that starts or ends with another character (``?``, a space) is not extended on that side.

    Examples:
        >>> word_span("scurvy?", 2, 4), word_span("scurvy?", 6, 7)
        ((0, 6), (6, 7))
    """
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end
