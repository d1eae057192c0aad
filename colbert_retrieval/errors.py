"""Exception types raised by colbert-retrieval.

Every error the library raises on bad input derives from :class:`ColBERTRetrievalError`, so callers can
catch one base class. Each message says what to do next.

Examples:
    >>> from colbert_retrieval.errors import ColBERTRetrievalError, InputTypeError
    >>> issubclass(InputTypeError, TypeError) and issubclass(InputTypeError, ColBERTRetrievalError)
    True
"""

from __future__ import annotations

__all__ = [
    "CollectionNotFoundError",
    "ColBERTRetrievalError",
    "DocumentNotFoundError",
    "DimensionMismatchError",
    "EmptyInputError",
    "IndexMismatchError",
    "InputFormatError",
    "InputNotFoundError",
    "InputTypeError",
    "InvalidArgumentError",
    "ModelNotAvailableError",
    "StoreFormatError",
    "StoreLockedError",
    "StoreUnavailableError",
    "TruncationWarning",
]


class ColBERTRetrievalError(Exception):
    """Base class of every error raised by colbert-retrieval."""


class InputTypeError(ColBERTRetrievalError, TypeError):
    """An input that is not a string (or a list of strings) was given to ``encode``."""


class InvalidArgumentError(ColBERTRetrievalError, ValueError):
    """An argument has a value outside its allowed range or set (the message names the allowed values)."""


class EmptyInputError(ColBERTRetrievalError, ValueError):
    """An input was empty where content is required."""


class DimensionMismatchError(ColBERTRetrievalError, ValueError):
    """Two sets of vectors have different dimensions, or a vector does not match the expected size."""


class ModelNotAvailableError(ColBERTRetrievalError, OSError):
    """A model could not be loaded: not on disk, not in the cache and the hub is unreachable or forbidden."""


class CollectionNotFoundError(ColBERTRetrievalError, LookupError, ValueError):
    """A Qdrant collection that should exist does not (also a ValueError, like qdrant-client's own)."""


class DocumentNotFoundError(ColBERTRetrievalError, KeyError):
    """A document id that should be in the collection is not."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class InputFormatError(ColBERTRetrievalError, ValueError):
    """An input file is not what it should be (binary, not UTF-8, bad JSON, a missing field): file and line named."""


class InputNotFoundError(ColBERTRetrievalError, FileNotFoundError):
    """A file or folder given as input (documents, a dataset, a store to migrate) does not exist."""


class IndexMismatchError(ColBERTRetrievalError, ValueError):
    """A collection was built with another model, dimension or encoding than the one given."""


class StoreLockedError(ColBERTRetrievalError, RuntimeError):
    """An embedded store folder is already open in another process (or another index object)."""


class StoreFormatError(ColBERTRetrievalError, ValueError):
    """A store folder was written in a format this version does not open (it names the migration command)."""


class StoreUnavailableError(ColBERTRetrievalError, ConnectionError):
    """A Qdrant server could not be reached (the message names the URL and what to check)."""


class TruncationWarning(ColBERTRetrievalError, UserWarning):
    """Texts longer than the model reads were cut (the warning counts them, names the first and says how to avoid it).

    Ingest warns once per call; ``warnings.simplefilter("error", TruncationWarning)`` turns it into an error.
    """
