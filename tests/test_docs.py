"""The documentation site builds with ``mkdocs build --strict`` (no warning, no broken link)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "core" / "index.html").exists()
    assert (tmp_path / "site" / "tutorials" / "langchain" / "index.html").exists()


def test_tutorial_code_blocks_come_from_tested_examples() -> None:
    """Tutorial Python code is included from examples/ (run by tests/test_project_files.py), never inline."""
    for page in (ROOT / "docs" / "tutorials").glob("*.md"):
        text = page.read_text()
        assert "```python" not in text, f"{page.name} has inline Python; include a file from examples/ instead"
        for line in text.splitlines():
            if line.startswith('--8<-- "'):
                assert (ROOT / line.split('"')[1]).exists(), line
