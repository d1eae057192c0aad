"""Numbers have provenance: a result file under docs/benchmarks/ is written by its script only, and ends with
the stamp ``benchmarks/_common.py`` writes (the exact command, the commit it ran at, the date, the machine)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAMP = re.compile(
    r"^\*Written by `python (benchmarks/\w+\.py)[^`]*` at commit `([0-9a-f]{7,40})`.* on (\d{4}-\d\d-\d\d), "
)


def _results() -> list[Path]:
    return sorted((ROOT / "docs" / "benchmarks").glob("*.md"))


def _is_git_checkout() -> bool:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.mark.parametrize("path", _results(), ids=lambda p: p.stem)
def test_a_result_names_its_script_and_an_existing_commit(path: Path) -> None:
    stamps = [m for line in path.read_text().splitlines() if (m := STAMP.match(line))]
    assert len(stamps) == 1, f"{path.name} has no stamp: write it with benchmarks/_common.py's write_result"
    script, commit, _ = stamps[0].groups()
    assert (ROOT / script).exists(), f"{path.name} names {script}, which does not exist"
    if _is_git_checkout():
        known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
        assert known.returncode == 0, f"{path.name} names commit {commit}, which is not in this repository"


def _headline_rows() -> list[str]:
    """The benchmarks page's headline rows written in the page itself (not included from a result)."""
    lines = (ROOT / "docs" / "benchmarks.md").read_text().split("## Headline numbers", 1)[1].splitlines()
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("## "))]
    return [line for line in table[3:] if line.startswith("| ")]  # after the header and its rule


def test_the_headline_includes_its_rows_or_quotes_numbers_its_results_hold() -> None:
    included = re.findall(
        r'^--8<-- "(docs/benchmarks/[\w-]+\.md):headline"$', (ROOT / "docs" / "benchmarks.md").read_text(), re.M
    )
    for path in included:  # each included section exists (mkdocs would fail on a missing one too)
        text = (ROOT / path).read_text()
        assert "[start:headline]" in text and "[end:headline]" in text, f"{path} has no headline section"
    results = "\n".join(path.read_text() for path in _results())
    for row in _headline_rows():  # a number copied by hand must still be in a result file
        what, number = row.strip("|").split("|")[:2]
        for value in re.findall(r"\d[\d,]*(?:\.\d+)?", number):
            assert value in results, f"headline row {what.strip()!r} quotes {value}, which no result file holds"
