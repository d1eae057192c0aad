"""Validation of the texts given to ``encode`` (one place for every entry point).

Examples:
    >>> texts_or_raise(["a", "b"])
    ['a', 'b']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from colbert_retrieval.errors import EmptyInputError, InputFormatError, InputTypeError, InvalidArgumentError

__all__ = [
    "check_unicode",
    "member",
    "is_nested",
    "json_object",
    "many",
    "positive_int",
    "read_jsonl",
    "read_text_file",
    "texts_or_raise",
]

E = TypeVar("E")


def member(kind: type[E], value: Any, what: str) -> E:
    """The member of the enum ``kind`` named ``value``, or :class:`InvalidArgumentError` listing the names.

    Examples:
        >>> import enum
        >>> class Color(str, enum.Enum):
        ...     RED = "red"
        >>> member(Color, "red", "color")
        <Color.RED: 'red'>
    """
    try:
        return kind(value)
    except ValueError:
        names = ", ".join(str(m.value) for m in kind)  # type: ignore[attr-defined]
        msg = f"Unknown {what} {value!r}; use one of: {names}."
        raise InvalidArgumentError(msg) from None


def positive_int(value: Any, name: str, note: str = "", *, minimum: int = 1) -> int:
    """``value`` as an int, or :class:`InvalidArgumentError` when it is not an integer >= ``minimum``.

    Examples:
        >>> positive_int(2, "pool_factor")
        2
        >>> try:
        ...     positive_int(0, "pool_factor", " (1 disables pooling)")
        ... except ValueError as error:
        ...     print(error)
        pool_factor must be an integer >= 1 (1 disables pooling), got 0.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}{note}, got {value!r}."
        raise InvalidArgumentError(msg)
    return int(value)


def check_unicode(text: str, what: str) -> None:
    """Raise :class:`InvalidArgumentError` if ``text`` cannot be stored as UTF-8 (it holds a lone surrogate).

    Examples:
        >>> try:
        ...     check_unicode("a" + chr(0xD800), "Item [0] of the input")
        ... except ValueError as error:
        ...     print(str(error).split(";")[0])
        Item [0] of the input is not valid Unicode (a lone surrogate at character 1)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        msg = f"{what} is not valid Unicode (a lone surrogate at character {error.start}); fix or drop the character."
        raise InvalidArgumentError(msg) from None


def many(value: Any, what: str) -> Iterable[Any]:
    """``value`` if it is a collection of items, else :class:`InputTypeError`.

    One string, bytes, a dict or a scalar is a single item, not a list of them.

    Examples:
        >>> many(["a", "b"], "ids")
        ['a', 'b']
    """
    if value is None or isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        kind = "None" if value is None else f"a {type(value).__name__}"
        msg = f"{what} must be a list, got {kind}; wrap a single item in a list."
        raise InputTypeError(msg)
    return value


def is_nested(sentences: Any) -> bool:
    """True for a list whose first item is itself a list or tuple (the reference's batch-of-batches form).

    Examples:
        >>> is_nested([["a"], ["b"]]), is_nested(["a"])
        (True, False)
    """
    return isinstance(sentences, (list, tuple)) and len(sentences) > 0 and isinstance(sentences[0], (list, tuple))


def texts_or_raise(sentences: Iterable[Any], *, where: str = "") -> list[str]:
    """Return ``sentences`` as a list of strings, or raise naming the first bad item.

    Args:
        sentences: an iterable of texts.
        where: optional prefix for the item position in messages (e.g. ``"[2]"`` for nested input).

    Returns:
        The texts as a list.

    Raises:
        InputTypeError: not a string or an iterable of strings (bytes and dicts are refused), or an item is
            not a string (``None`` included).
        EmptyInputError: an item is empty or only whitespace.
        InvalidArgumentError: an item is not valid Unicode (a lone surrogate).

    Examples:
        >>> try:
        ...     texts_or_raise(["ok", None])
        ... except TypeError as error:
        ...     print(str(error).split(";")[0])
        Item [1] of the input is None, not a string
    """
    texts = [sentences] if isinstance(sentences, str) else list(many(sentences, "The texts (or one string)"))
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            kind = "None" if text is None else f"of type {type(text).__name__}"
            msg = (
                f"Item {where}[{index}] of the input is {kind}, not a string; pass text for every item "
                "(drop or replace missing values first)."
            )
            raise InputTypeError(msg)
        if not text.strip():
            msg = (
                f"Item {where}[{index}] of the input is an empty string; ColBERT needs at least one token of "
                "text. Drop empty texts before encoding."
            )
            raise EmptyInputError(msg)
        check_unicode(text, f"Item {where}[{index}] of the input")
    return texts


def read_text_file(path: Path) -> str:
    """A file's text, refusing binary files and text that is not UTF-8 (the message names the file).

    Raises:
        InputFormatError: the file holds NUL bytes (binary) or is not valid UTF-8.
    """
    data = path.read_bytes()
    if b"\x00" in data:
        msg = f"{path} looks like a binary file (it contains NUL bytes); give text, Markdown or JSON lines."
        raise InputFormatError(msg)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        msg = f"{path}:{line}: not UTF-8 text (byte {data[error.start]:#04x}); convert the file to UTF-8."
        raise InputFormatError(msg) from None


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` of every non-blank line of a JSON-lines file.

    Raises:
        InputFormatError: a line is not a JSON object (the message names the file and the line).
    """
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        item = json_object(line, f"{path}:{number}")
        if item is not None:
            yield number, item


def json_object(line: str, where: str) -> dict[str, Any] | None:
    """The JSON object of one JSON-lines line (None for a blank line).

    Raises:
        InputFormatError: not JSON, or not an object (the message starts with ``where``).

    Examples:
        >>> json_object('{"id": 1}', "x.jsonl:1"), json_object("  ", "x.jsonl:2")
        ({'id': 1}, None)
    """
    if not line.strip():
        return None
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise InputFormatError(f"{where}: not valid JSON ({error.msg}).") from None
    if not isinstance(item, dict):
        raise InputFormatError(f"{where}: expected a JSON object, got a {type(item).__name__}.")
    return item
