r"""Read the files people point a retrieval tool at: text, Markdown, reStructuredText, HTML, PDF and Word.

Each reader returns :class:`Page` s: a text, how to chunk it (``markdown``, ``rst`` or ``text``), and its page
number where the format has pages (PDF). HTML keeps the main content (``<main>`` or ``<article>`` when the page
has one; never ``<nav>``, ``<header>``, ``<footer>``, ``<aside>``, scripts or forms) and DOCX its paragraphs
and tables, both with their headings as Markdown headings, so they chunk by section like Markdown files. PDF
and DOCX need ``pip install "colbert-retrieval[files]"`` (pypdf, python-docx). A file that cannot be read
raises :class:`~colbert_retrieval.errors.InputFormatError` naming it.

Examples:
    >>> html_to_markdown("<nav>Home</nav><main><h1>Guide</h1><p>Read <b>this</b>.</p></main>")
    '# Guide\n\nRead this.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from colbert_retrieval._extras import missing_extra
from colbert_retrieval._inputs import read_text_file
from colbert_retrieval.errors import InputFormatError

__all__ = ["KINDS", "Page", "html_to_markdown", "read_pages"]

#: How each readable suffix is read and chunked (``jsonl`` files are records, read elsewhere).
KINDS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".jsonl": "jsonl",
}


@dataclass(frozen=True)
class Page:
    """Text read from a file, how to chunk it, and its page number (PDF; None elsewhere)."""

    text: str
    kind: str
    page: int | None = None


_SKIPPED = {"nav", "header", "footer", "aside", "script", "style", "noscript", "form", "template", "svg", "button"}
_BLOCKS = {"p", "div", "section", "article", "main", "li", "tr", "pre", "blockquote", "table", "ul", "ol", "br"}


class _MainText(HTMLParser):
    """Collects text as Markdown-ish lines: headings as ``#``, list items as ``-``, ``<pre>`` fenced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif not self.skipping:
            if re.fullmatch(r"h[1-6]", tag):
                self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
            elif tag == "li":
                self.parts.append("\n- ")
            elif tag == "pre":
                self.pre += 1
                self.parts.append("\n\n```\n")
            elif tag in ("td", "th"):
                self.parts.append(" | ")
            elif tag in _BLOCKS:
                self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif not self.skipping:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
                self.parts.append("\n```\n\n")
            elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCKS:
                self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_markdown(html: str) -> str:
    """The main content of an HTML page as Markdown-ish text (headings, paragraphs, lists, code, tables)."""
    main = re.search(r"<(main|article)\b[^>]*>(.*)</\1\s*>", html, flags=re.S | re.I)
    parser = _MainText()
    parser.feed(main.group(2) if main else html)
    parser.close()
    text = "".join(parser.parts)
    lines = [line.strip() if not line.startswith("    ") else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _pdf_pages(path: Path) -> list[Page]:
    try:
        import pypdf
    except ImportError as error:
        raise missing_extra("files", "pypdf") from error
    try:
        reader = pypdf.PdfReader(str(path))
        texts = [page.extract_text() or "" for page in reader.pages]
    except Exception as error:  # pypdf raises many types for damaged files
        raise InputFormatError(f"{path}: not a readable PDF ({type(error).__name__}: {error}).") from error
    return [Page(text, "text", number) for number, text in enumerate(texts, start=1) if text.strip()]


def _docx_markdown(path: Path) -> str:
    try:
        import docx
    except ImportError as error:
        raise missing_extra("files", "python-docx") from error
    try:
        document = docx.Document(str(path))
    except Exception as error:  # a damaged zip, a missing part, ...
        raise InputFormatError(f"{path}: not a readable DOCX file ({type(error).__name__}: {error}).") from error
    lines = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        level = re.fullmatch(r"Heading (\d)", style or "")
        if style == "Title":
            lines.append(f"# {paragraph.text}")
        elif level:
            lines.append("#" * min(6, int(level.group(1)) + 1) + f" {paragraph.text}")
        elif paragraph.text.strip():
            lines.append(paragraph.text)
    for table in document.tables:
        lines += [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
    return "\n\n".join(lines)


def read_pages(path: Path) -> list[Page]:
    """The text of a file with a :data:`KINDS` suffix (not ``.jsonl``), as pages.

    Raises:
        InputFormatError: the file is damaged or not in its suffix's format (the message names it).
        ImportError: a PDF or DOCX without ``colbert-retrieval[files]`` (the message names the pip line).
    """
    kind = KINDS.get(path.suffix.lower())
    if kind == "pdf":
        return _pdf_pages(path)
    if kind == "docx":
        return [Page(_docx_markdown(path), "markdown")]
    text = read_text_file(path)
    if kind == "html":
        return [Page(html_to_markdown(text), "markdown")]
    return [Page(text, kind if kind in ("markdown", "rst") else "text")]
