"""Sliding-window encoding of documents longer than ``document_length`` (``truncation=False``).

A document's token ids are ``head + body + tail`` (``[CLS] [D]`` + text + ``[SEP]`` for BERT). The body
is cut into overlapping windows of ``document_length - len(head) - len(tail)`` tokens, each encoded as
``head + window + tail``. Every body token is then taken from the window where it sits furthest from a
window edge (so it saw the most context on both sides); the head comes from the first window and the
tail from the last. The result has one vector per token of the whole document, like an unlimited
``document_length`` would give.

Examples:
    >>> plan = plan_windows(body_length=10, window=4, stride=3)
    >>> plan.starts
    [0, 3, 6]
    >>> plan.owner
    [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
"""

from __future__ import annotations

from dataclasses import dataclass

from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["WindowPlan", "common_prefix_length", "plan_windows"]


@dataclass(frozen=True)
class WindowPlan:
    """Where the windows of one document start and which window each body token is read from."""

    starts: list[int]
    window: int
    owner: list[int]


def plan_windows(body_length: int, window: int, stride: int) -> WindowPlan:
    """Plan overlapping windows over ``body_length`` tokens.

    Args:
        body_length: tokens between the head and the tail.
        window: body tokens per window (>= 1).
        stride: tokens between window starts (1 <= stride <= window).

    Returns:
        The window starts and, for each body token, the index of the window it is read from.

    Raises:
        InvalidArgumentError: ``window`` or ``stride`` out of range.
    """
    if window < 1:
        msg = f"document_length leaves no room for text in a window (window={window}); raise document_length."
        raise InvalidArgumentError(msg)
    if not 1 <= stride <= window:
        msg = f"window_stride must be between 1 and {window} tokens, got {stride}."
        raise InvalidArgumentError(msg)
    starts = [0]
    while starts[-1] + window < body_length:
        starts.append(min(starts[-1] + stride, body_length - window))
    owner: list[int] = []
    for position in range(body_length):
        best, best_margin = 0, -1
        for index, start in enumerate(starts):
            if start <= position < start + window:
                margin = min(position - start, start + window - 1 - position)
                if margin > best_margin:
                    best, best_margin = index, margin
        owner.append(best)
    return WindowPlan(starts=starts, window=window, owner=owner)


def common_prefix_length(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two id lists.

    Examples:
        >>> common_prefix_length([1, 2, 3], [1, 2, 4, 5])
        2
    """
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length
