"""Documents: what a stored document is, and how files become documents.

A :class:`Record` is a text with an id and metadata; its payload and its deterministic point id are defined
here, as is reading files and splitting long texts (:class:`Chunker`: sections by heading, every chunk within
a token budget of the model's tokenizer; :func:`split_words`: word windows).

Rule: nothing here knows a model or a store (a chunker takes a tokenizer and a budget); the index and the CLI
turn records into points and hits.

Examples:
    >>> from colbert_retrieval.documents import Record, split_words
    >>> Record("Scurvy comes from a lack of vitamin C.", id=1).id
    1
    >>> split_words("a b c d e f g", size=4, overlap=2)
    ['a b c d', 'c d e f', 'e f g']
"""

from __future__ import annotations

from colbert_retrieval.documents._chunking import Chunk, Chunker, read_records, split_words
from colbert_retrieval.documents._records import ID_KEY, METADATA_KEY, Record, point_id, point_ids

__all__ = [
    "ID_KEY",
    "METADATA_KEY",
    "Chunk",
    "Chunker",
    "Record",
    "point_id",
    "point_ids",
    "read_records",
    "split_words",
]

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.documents._chunking import SUFFIXES as SUFFIXES
from colbert_retrieval.documents._chunking import file_version as file_version
from colbert_retrieval.documents._chunking import iter_files as iter_files
from colbert_retrieval.documents._chunking import json_record as json_record
from colbert_retrieval.documents._readers import read_pages as read_pages
from colbert_retrieval.documents._records import ID_SCHEME as ID_SCHEME
from colbert_retrieval.documents._records import PAYLOAD_KEYS as PAYLOAD_KEYS
from colbert_retrieval.documents._records import SECTION_KEY as SECTION_KEY
from colbert_retrieval.documents._records import SOURCE_KEY as SOURCE_KEY
from colbert_retrieval.documents._records import SYNC_KEY as SYNC_KEY
from colbert_retrieval.documents._records import TEXT_KEY as TEXT_KEY
from colbert_retrieval.documents._records import PayloadKeys as PayloadKeys
from colbert_retrieval.documents._records import from_payload as from_payload
from colbert_retrieval.documents._records import same_content as same_content
from colbert_retrieval.documents._records import section_of as section_of
from colbert_retrieval.documents._records import to_payload as to_payload
from colbert_retrieval.documents._records import to_record as to_record
