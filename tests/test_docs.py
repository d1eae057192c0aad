"""The documentation site builds with ``mkdocs build --strict`` (no warning, no broken link)."""

from __future__ import annotations

import os
import re
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
    # Mermaid is served with the site (diagrams render offline; benchmarks/docs_render.py checks in Chromium).
    concepts = (tmp_path / "site" / "concepts" / "index.html").read_text()
    assert '<pre class="mermaid">' in concepts
    script = re.search(r'<script src="([^"]*mermaid-[0-9.]+\.min\.js)"', concepts)
    assert script is not None, "mkdocs.yml's extra_javascript no longer loads the vendored Mermaid"
    assert (tmp_path / "site" / "concepts" / script.group(1)).resolve().stat().st_size > 1_000_000


def test_tutorial_code_blocks_come_from_tested_examples() -> None:
    """Tutorial Python code is included from examples/ (run by tests/test_project_files.py), never inline."""
    for page in (ROOT / "docs" / "tutorials").glob("*.md"):
        text = page.read_text()
        assert "```python" not in text, f"{page.name} has inline Python; include a file from examples/ instead"
        for line in text.splitlines():
            if line.startswith('--8<-- "'):
                assert (ROOT / line.split('"')[1]).exists(), line


def shell_commands(page: Path) -> list[str]:
    import re

    blocks = re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S)
    return [
        line.split("#")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith("colbert-retrieval")
    ]


def test_cli_commands_in_the_docs_run_as_written(tmp_path: Path, monkeypatch, capsys) -> None:
    """Every ``colbert-retrieval`` line of the tutorials, the quickstart and the Qdrant page, on small fixtures."""
    import json
    import shlex

    from colbert_retrieval.cli import main

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    docs = {"d1": "Scurvy comes from a lack of vitamin C.", "d2": "Paris is the capital of France."}
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "text": v}) for k, v in docs.items()))
    for split in ("test", "dev", "train"):  # train and dev: for `colbert-retrieval train`
        (beir / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    (beir / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "vitamin C deficiency"}) + "\n" + json.dumps({"_id": "q2", "text": "France"})
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "server.md").write_text("To move to a Qdrant server, pass url= to the index.")
    (tmp_path / "README.md").write_text("colbert-retrieval indexes documents into Qdrant.")
    monkeypatch.chdir(tmp_path)
    pages = [*(ROOT / "docs" / "tutorials").glob("*.md"), ROOT / "docs" / "quickstart.md", ROOT / "docs" / "qdrant.md"]
    commands = [c for page in sorted(pages) for c in shell_commands(page)]
    assert any(c.startswith("colbert-retrieval evaluate") for c in commands)
    for command in commands:
        argv = shlex.split(command.replace("path/to/beir/nfcorpus", str(beir)).replace("path/to/nfcorpus", str(beir)))[
            1:
        ]
        assert main(argv) == 0, command
    capsys.readouterr()


def test_the_readme_states_pylate_parity_as_the_parity_script_prints_it() -> None:
    """``benchmarks/pylate_parity.py compare`` prints this sentence when it holds; the README makes it as written."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pylate_parity", ROOT / "benchmarks" / "pylate_parity.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert script.SENTENCE in readme and script.BOUND == 1e-5
