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

#: Result files written before the stamp existed. Each leaves this list when its script runs again; a file
#: that is not here must carry a stamp (the list only shrinks).
UNSTAMPED = {
    "cold-start",
    "qdrant-scale",
    "ray-ingest",
    "search-under-load",
}


def _results() -> list[Path]:
    return sorted((ROOT / "docs" / "benchmarks").glob("*.md"))


def _is_git_checkout() -> bool:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode == 0


@pytest.mark.parametrize("path", _results(), ids=lambda p: p.stem)
def test_a_result_names_its_script_and_an_existing_commit(path: Path) -> None:
    stamps = [m for line in path.read_text().splitlines() if (m := STAMP.match(line))]
    if path.stem in UNSTAMPED:
        assert not stamps, f"{path.name} is stamped now: remove it from UNSTAMPED"
        pytest.skip(f"{path.name} was written before results were stamped (re-run its script)")
    assert len(stamps) == 1, f"{path.name} has no stamp: write it with benchmarks/_common.py's write_result"
    script, commit, _ = stamps[0].groups()
    assert (ROOT / script).exists(), f"{path.name} names {script}, which does not exist"
    if _is_git_checkout():
        known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
        assert known.returncode == 0, f"{path.name} names commit {commit}, which is not in this repository"
