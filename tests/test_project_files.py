"""Project-level checks: the README's two commands, CI wiring, examples, style."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[1] in ci_lines
    assert "torch==2.13.0" in commands[0] and "torch==2.13.0" in commands[1]


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_examples_run(script: str) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    if script == "rerank.py":
        first = next(line for line in result.stdout.splitlines() if line.startswith("1."))
        assert "Scurvy" in first
    if script in ("llamaindex_rerank.py", "llamaindex_retriever.py"):
        ranked = [line for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
        assert ranked and "Scurvy" in ranked[0]
    if script == "langchain_rag.py":
        lines = result.stdout.splitlines()
        assert lines[0].startswith("retrieved: Scurvy") and lines[-1] == "answer: A lack of vitamin C causes scurvy."


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff not installed",
)
def test_ruff_check_and_format_are_clean() -> None:
    ruff = str(Path(sys.executable).parent / "ruff") if (Path(sys.executable).parent / "ruff").exists() else "ruff"
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_readme_main_job_runs(tmp_path: Path) -> None:
    """The part of the README's main-job command after the installs, run as written on the repository's files.

    It runs in a copy of README.md and docs/: the store it writes (``colbert_index/``) stays out of the checkout,
    and two test runs on one checkout do not open the same store.
    """
    command = readme_commands()[0].split(" && ", 2)[2]
    assert command.startswith("colbert-retrieval index")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = result.stdout.split("1. ", 1)[1]
    assert "qdrant" in answer.lower() or "server" in answer.lower()
