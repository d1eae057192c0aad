"""The main job's own question set judges sections that exist: a renamed section fails here, not in a benchmark.

Sections are read as ``benchmarks/main_job_questions.py`` reads them (``markdown_sections``: fences respected).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from colbert_retrieval.documents._sections import markdown_sections  # what the benchmark reads

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "benchmarks" / "data" / "docs_questions.jsonl"


def _answers() -> list[tuple[str, str, str]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    return [(row["question"], answer["file"], answer["section"]) for row in rows for answer in row["answers"]]


@pytest.mark.parametrize(("question", "file", "section"), _answers())
def test_every_answering_section_exists(question: str, file: str, section: str) -> None:
    headings = {part.path[-1] for part in markdown_sections((ROOT / file).read_text()) if part.path}
    assert section == "" or section in headings, f"{question!r}: {file} has no section {section!r}"
