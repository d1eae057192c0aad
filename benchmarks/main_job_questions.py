"""The main job on two documentation folders: this repository's, and one that nobody here wrote.

    python benchmarks/main_job_questions.py

Each folder is indexed exactly as the README's main job indexes (``colbert-retrieval index`` with today's
defaults, into a fresh embedded store) and asked its question set with the CLI's search (hybrid, top 5):

* this repository's README.md + docs/, with ``benchmarks/data/docs_questions.jsonl`` (written by this project
  alongside its docs: it can be tuned to, knowingly or not);
* Starlette 1.10.0's docs/ folder (from its source distribution on PyPI, checked by its sha256; fetched with
  pip into ``~/.cache/colbert_retrieval/benchmarks``, never copied into this repository), with
  ``benchmarks/data/external_docs_questions.jsonl`` (37 questions a new user asks, each with the section(s)
  that answer it, committed before the first run). No prose here was edited for them.

A hit answers when it comes from an answering section's file and its lines overlap that section (subsections
included; section ``""`` is the page's introduction, before its first heading of level 2 or deeper). Reports
success@1 and MRR@5 per set. A chunking or ranking change counts when both sets move.
Writes docs/benchmarks/main-job-questions.md (its headline rows, which the benchmarks page includes, first).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from _common import headline_table, machine, table, write_result

from colbert_retrieval import default_model
from colbert_retrieval.cli import main as cli
from colbert_retrieval.documents._sections import markdown_sections
from colbert_retrieval.qdrant import ColBERTIndex

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
CACHE = Path(os.environ.get("COLBERT_RETRIEVAL_CACHE", Path.home() / ".cache" / "colbert_retrieval")) / "benchmarks"
EXTERNAL = ("starlette", "1.10.0", "b8399098d4c1e3522734f7235dc79b1fc967f96cf139c81e0fa30479e0685f9b")


def external_folder() -> Path:
    """Starlette's source distribution, downloaded once and checked, unpacked; its root (holding docs/)."""
    name, version, sha256 = EXTERNAL
    archive = CACHE / f"{name}-{version}.tar.gz"
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as download:
            command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-d", download]
            subprocess.run([*command, f"{name}=={version}"], check=True, capture_output=True)
            shutil.move(str(next(Path(download).glob("*.tar.gz"))), archive)
    if hashlib.sha256(archive.read_bytes()).hexdigest() != sha256:
        raise SystemExit(f"{archive} is not the {name} {version} source distribution this set was written for.")
    folder = CACHE / f"{name}-{version}"
    if not folder.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    return folder


def answer_lines(path: Path, title: str) -> tuple[int, int]:
    """Lines of the section titled ``title`` (subsections included); ``""``: the page's introduction."""
    text = path.read_text(encoding="utf8")
    sections = markdown_sections(text)
    lines = text.splitlines()
    if title == "":
        deeper = [s.start_line for s in sections if s.path and lines[s.start_line - 1].lstrip().startswith("##")]
        return 1, (min(deeper) - 1 if deeper else len(lines))
    for section in sections:
        if section.path and section.path[-1] == title:
            inner = [s for s in sections if s.path[: len(section.path)] == section.path]
            return section.start_line, max(s.end_line for s in inner)
    raise SystemExit(f"{path}: no section titled {title!r}")


def ask(root: Path, paths: list[str], questions: list[dict], model) -> dict:
    """Index ``paths`` under ``root`` as the main job does, then rank each question's answer in the top 5."""
    store = Path(tempfile.mkdtemp(prefix="main-job-"))
    cwd = Path.cwd()
    os.chdir(root)
    try:
        with redirect_stdout(StringIO()) as printed:
            assert cli(["index", *paths, "--path", str(store / "index")]) == 0
        summary = printed.getvalue().splitlines()[0]
        index = ColBERTIndex(model, "colbert", store=str(store / "index"), create=False)
        ranks = []
        for item in questions:
            answers = [(a["file"], answer_lines(root / a["file"], a["section"])) for a in item["answers"]]
            hits = index.search(item["question"], 5)
            ranks.append(
                next(
                    (
                        position
                        for position, hit in enumerate(hits, start=1)
                        for file, (start, end) in answers
                        if hit.metadata.get("source") == file
                        and hit.metadata["start_line"] <= end
                        and hit.metadata["end_line"] >= start
                    ),
                    None,
                )
            )
        index.close()
    finally:
        os.chdir(cwd)
        shutil.rmtree(store, ignore_errors=True)
    return {
        "summary": summary,
        "ranks": ranks,
        "success@1": sum(rank == 1 for rank in ranks) / len(ranks),
        "mrr@5": statistics.mean(1 / rank if rank else 0.0 for rank in ranks),
    }


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines() if line.strip()]


def main() -> None:
    model = default_model()
    sets = {
        "this repository (README.md + docs/)": (ROOT, ["README.md", "docs"], load("docs_questions.jsonl")),
        f"{EXTERNAL[0]} {EXTERNAL[1]} docs/ (nobody here wrote it)": (
            external_folder(),
            ["docs"],
            load("external_docs_questions.jsonl"),
        ),
    }
    rows, per_question = [], []
    for name, (root, paths, questions) in sets.items():
        result = ask(root, paths, questions, model)
        chunks = result["summary"].split("; ")[-1].rstrip(".")
        rows.append([name, len(questions), chunks, f"{result['success@1']:.3f}", f"{result['mrr@5']:.3f}"])
        per_question.append([rank or "-" for rank in result["ranks"]])
        print(name, rows[-1], flush=True)
    where = "[Docs nobody here wrote](#the-main-job-on-docs-nobody-here-wrote)"
    headline = [
        [
            f"{len(questions)} questions about {label}, success@1 / MRR@5, today's defaults",
            f"{row[3]} / {row[4]}",
            where,
        ]
        for row, label, (_, _, questions) in zip(
            rows,
            ["these docs (written with them)", f"docs nobody here wrote ({EXTERNAL[0].capitalize()}'s)"],
            sets.values(),
        )
    ]
    markdown = "\n".join(
        [
            headline_table(headline),
            "",
            f"Machine: {machine()}. Each folder indexed as the README's main job does (`colbert-retrieval index`, "
            "today's defaults: the offline default model, hybrid search, top 5); questions from "
            "`benchmarks/data/docs_questions.jsonl` (ours) and `benchmarks/data/external_docs_questions.jsonl` "
            "(Starlette's docs, written before the first run).",
            "",
            table(["folder", "questions", "indexed", "success@1", "MRR@5"], rows),
            "",
            "<details><summary>Rank of the first answering chunk, per question (line of its file)</summary>",
            "",
            *(f"* {name}: {', '.join(str(rank) for rank in ranks)}" for name, ranks in zip(sets, per_question)),
            "",
            "</details>",
        ]
    )
    print(markdown)
    write_result("main-job-questions", markdown)


if __name__ == "__main__":
    main()
