"""Chunking the main job's files (README + docs): 0.1's word windows against token-budgeted sections.

    python benchmarks/docs_chunking.py

Indexes README.md and docs/ (what ``colbert-retrieval index README.md docs`` reads) twice with the default
model into in-memory stores: chunks of 180 words with 40 words of overlap (the old default), and the
:class:`~colbert_retrieval.documents.Chunker` the CLI now uses (sections by heading, at most the model's
document length in its own tokens), with and without the heading path as a BM25 title field (BM25F weight 3,
``BM25Config.title_weight``). Counts chunks longer than the model reads, then asks the questions of
``benchmarks/data/docs_questions.jsonl`` (written before any result was looked at, each with the section(s)
that answer it) and scores the top 5 hybrid hits: a hit answers when it comes from an answering section's
file and its lines overlap that section's (subsections included). The README's own question (its main job)
is one of the set; its rank gets a column. Writes docs/benchmarks/docs-chunking.md (its headline rows, which the
benchmarks page includes, first).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

from _common import headline_table, machine, table, write_result

from colbert_retrieval import default_model
from colbert_retrieval.cli._commands import _chunker
from colbert_retrieval.documents import Chunker, Record, read_records
from colbert_retrieval.documents._sections import markdown_sections
from colbert_retrieval.qdrant import ColBERTIndex, Schema

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = Path(__file__).resolve().parent / "data" / "docs_questions.jsonl"


def files() -> list[Path]:
    return [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md"))]


def relative(path: str | Path) -> str:
    return str(Path(path).resolve().relative_to(ROOT))


def word_lines(path: Path, size: int = 180, overlap: int = 40) -> list[tuple[int, int]]:
    """The line span of each 0.1 word window of ``path`` (the windows of ``split_words``)."""
    text = path.read_text(encoding="utf8")
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    lines = [text.count("\n", 0, s) + 1 for s in starts]
    if len(lines) <= size:
        return [(lines[0], lines[-1])] if lines else []
    spans = []
    for start in range(0, len(lines), size - overlap):
        spans.append((lines[start], lines[min(start + size, len(lines)) - 1]))
        if start + size >= len(lines):
            break
    return spans


def answer_lines(path: Path, title: str) -> tuple[int, int]:
    """Lines of the section titled ``title`` in ``path``, its subsections included."""
    sections = markdown_sections(path.read_text(encoding="utf8"))
    for section in sections:
        if section.path and section.path[-1] == title:
            inner = [s for s in sections if s.path[: len(section.path)] == section.path]
            return section.start_line, max(s.end_line for s in inner)
    raise SystemExit(f"{path}: no section titled {title!r}")


def records_of(chunker: Chunker | None) -> list[Record]:
    records = []
    for path in files():
        found = list(read_records(path, chunker))
        if chunker is None:
            for record, (start, end) in zip(found, word_lines(path)):
                record.metadata.update(start_line=start, end_line=end)
        for record in found:
            record.metadata["source"] = relative(path)
        records += found
    return records


def readme_question() -> str:
    """The README's main-job question (the set holds it, with the section that answers it)."""
    command = next(line for line in (ROOT / "README.md").read_text().splitlines() if "colbert-retrieval search" in line)
    return re.search(r'colbert-retrieval search "([^"]+)"', command).group(1)


def evaluate(model, records: list[Record], questions: list[dict], title_weight: int) -> dict[str, float]:
    index = ColBERTIndex(model, "docs", store=":memory:", schema=Schema(bm25={"title_weight": title_weight}))
    index.add(records)
    first, reciprocal, rows = 0, [], []
    for item in questions:
        answers = [(a["file"], answer_lines(ROOT / a["file"], a["section"])) for a in item["answers"]]
        hits = index.search(item["question"], 5)
        rank = next(
            (
                position
                for position, hit in enumerate(hits, start=1)
                for file, (start, end) in answers
                if hit.metadata["source"] == file
                and hit.metadata["start_line"] <= end
                and hit.metadata["end_line"] >= start
            ),
            None,
        )
        first += rank == 1
        reciprocal.append(1 / rank if rank else 0.0)
        rows.append((item["question"], rank, f"{hits[0].metadata['source']}:{hits[0].metadata['start_line']}"))
    index.close()
    return {"success@1": first / len(questions), "mrr@5": statistics.mean(reciprocal), "rows": rows}


def lengths(model, records: list[Record]) -> list[int]:
    prompt = model.document_prefix or ""
    return [len(model.tokenizer(prompt + r.text)["input_ids"]) for r in records]


def main() -> None:
    model = default_model()
    questions = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    readme = readme_question()
    if readme not in [item["question"] for item in questions]:
        raise SystemExit(f"{QUESTIONS.name} lacks the README's question {readme!r}: add it with its answer.")
    sections = _chunker(model, None, 32)  # what `colbert-retrieval index` uses
    variants = {
        "180 words, 40 overlap (0.1)": (None, 1),
        "sections, token budget": (sections, 1),
        "sections + heading path as BM25 title (now)": (sections, 3),
    }
    rows, details, too_long = [], {}, []
    for name, (chunker, title_weight) in variants.items():
        records = records_of(chunker)
        tokens = lengths(model, records)
        result = evaluate(model, records, questions, title_weight)
        readme_rank = next(rank for question, rank, _ in result["rows"] if question == readme)
        over = sum(t > model.document_length for t in tokens)
        too_long.append(f"{over / len(records):.0%}")
        rows.append(
            [
                name,
                len(records),
                f"{over} ({too_long[-1]})",
                max(tokens),
                f"{result['success@1']:.3f}",
                f"{result['mrr@5']:.3f}",
                readme_rank or "-",
            ]
        )
        details[name] = result["rows"]
        print(name, rows[-1], flush=True)
    names = list(variants)
    # Numbers, not the questions: this page is indexed by the main job, and quoting them would answer them.
    per_question = [
        [number, *(rank or "-" for _, rank, _ in ranks)]
        for number, ranks in enumerate(zip(*(details[name] for name in names)), 1)
    ]
    where = "[Chunking](#chunking-the-main-jobs-files)"
    headline = [
        [
            "README + docs chunks longer than the model reads (0.1 chunker -> now)",
            f"{too_long[0]} -> {too_long[-1]}",
            where,
        ],
        ["the README's own question: rank of its answering section, today's chunker", rows[-1][-1], where],
    ]
    markdown = "\n".join(
        [
            headline_table(headline),
            "",
            f"`python benchmarks/docs_chunking.py` on {machine()}: README.md + docs/ (the main job's files), default "
            f"model (document length {model.document_length} tokens), hybrid search, top 5; {len(questions)} "
            "questions from `benchmarks/data/docs_questions.jsonl`.",
            "",
            table(
                [
                    "chunker",
                    "chunks",
                    f"longer than {model.document_length} tokens",
                    "longest",
                    "success@1",
                    "MRR@5",
                    "README's question: rank of its answer",
                ],
                rows,
            ),
            "",
            "<details><summary>Rank of the first answering chunk, per question</summary>",
            "",
            table(["question (line of the file)", "0.1", "sections", "sections + BM25 title (now)"], per_question),
            "",
            "</details>",
        ]
    )
    print(markdown)
    write_result("docs-chunking", markdown)


if __name__ == "__main__":
    main()
