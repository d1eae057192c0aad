r"""Split Markdown and reStructuredText into sections: heading path, line range, body.

A heading inside a fenced code block is not a heading. Markdown: ATX (``## Title``) and setext (a line
underlined with ``===`` / ``---``) headings; reStructuredText: a title underlined (and optionally overlined)
with one punctuation character, levels in the order the styles first appear, as docutils assigns them.

Examples:
    >>> text = "# Guide\nIntro.\n## Install\n```\n# not a heading\n```\n"
    >>> [(s.path, s.start_line, s.end_line) for s in markdown_sections(text)]
    [(('Guide',), 1, 2), (('Guide', 'Install'), 3, 6)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Section", "markdown_sections", "rst_sections", "text_sections"]

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")


@dataclass(frozen=True)
class Section:
    """A section: heading path (outermost first; empty before the first heading), lines, body.

    Lines are 1-based and inclusive; the body is the lines after the heading, starting at ``body_line``.
    """

    path: tuple[str, ...]
    start_line: int
    end_line: int
    body: str
    body_line: int  # the line the body starts on


def _build(lines: list[str], heads: list[tuple[int, int, int, str]]) -> list[Section]:
    """Sections from ``(line, level, body line, title)`` heads (lines 1-based), in order."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    if not heads or heads[0][0] > 1:
        first = heads[0][0] - 1 if heads else len(lines)
        body = "\n".join(lines[:first])
        if body.strip():
            sections.append(Section((), 1, first, body, 1))
    for n, (line, level, body_line, title) in enumerate(heads):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        end = heads[n + 1][0] - 1 if n + 1 < len(heads) else len(lines)
        body = "\n".join(lines[body_line - 1 : end])
        sections.append(Section(tuple(t for _, t in stack), line, end, body, body_line))
    return sections


def markdown_sections(text: str) -> list[Section]:
    """The sections of a Markdown text (CommonMark's ATX and setext headings, fences respected)."""
    lines = text.splitlines()
    heads: list[tuple[int, int, int, str]] = []
    fence: str | None = None
    for index, line in enumerate(lines):
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
            continue
        if marker:
            fence = marker.group(1)
            continue
        atx = _ATX.match(line)
        if atx:
            heads.append((index + 1, len(atx.group(1)), index + 2, (atx.group(2) or "").strip()))
            continue
        underline = _SETEXT.match(line)
        previous = lines[index - 1].strip() if index else ""
        if underline and previous and not (heads and heads[-1][0] == index) and not _is_block(lines[index - 1]):
            if index >= 2 and lines[index - 2].strip() and not _ATX.match(lines[index - 2]):
                continue  # the underline closes a multi-line paragraph: a rule or a table, not a heading here
            level = 1 if underline.group(1)[0] == "=" else 2
            heads.append((index, level, index + 2, previous))
    return _build(lines, heads)


def _is_block(line: str) -> bool:
    """A line that cannot be a setext heading's text (a list item, a quote, a table row, a fence)."""
    stripped = line.lstrip()
    return stripped.startswith(("- ", "* ", "+ ", ">", "|", "```", "~~~")) or bool(re.match(r"\d+[.)] ", stripped))


def rst_sections(text: str) -> list[Section]:
    """The sections of a reStructuredText text (underlined titles, optional overlines)."""
    lines = text.splitlines()
    heads: list[tuple[int, int, int, str]] = []
    styles: list[tuple[str, bool]] = []
    index = 0
    while index < len(lines) - 1:
        title, under = lines[index], lines[index + 1]
        over = index > 0 and _RST_ADORNMENT.match(lines[index - 1]) is not None
        adornment = _RST_ADORNMENT.match(under)
        if (
            title.strip()
            and not _RST_ADORNMENT.match(title)
            and adornment
            and len(under.rstrip()) >= len(title.strip())
        ):
            style = (adornment.group(1), over)  # type: ignore[union-attr]
            if style not in styles:
                styles.append(style)
            start = index if over else index + 1  # the overline is the section's first line
            heads.append((start, styles.index(style) + 1, index + 3, title.strip()))
            index += 2
            continue
        index += 1
    return _build(lines, heads)


def text_sections(text: str) -> list[Section]:
    """A plain text as one section without a heading."""
    lines = text.splitlines()
    return [Section((), 1, len(lines), text, 1)] if text.strip() else []
