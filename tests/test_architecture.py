"""The architecture is checked by tools, not by memory: import contracts, file sizes, private members."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    ROOT / "colbert_retrieval",
    *sorted((ROOT / "integrations").glob("*/*_colbert_retrieval")),
    *sorted((ROOT / "integrations").glob("*/llama_index")),
]
MAX_LINES = 400


def test_import_contracts_hold() -> None:
    """``lint-imports`` with the contracts in pyproject.toml: layers, no framework in core, no circles."""
    executable = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert executable, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([executable, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in package.rglob("*.py") if "tests" not in p.parts)


def test_no_source_file_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in source_files() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules (at most {MAX_LINES} lines): {long}"


def _colbert_private_members() -> set[str]:
    from colbert_retrieval.models import ColBERT

    return {name for cls in ColBERT.__mro__ for name in vars(cls) if name.startswith("_") and not name.startswith("__")}


@pytest.mark.parametrize("folder", ["colbert_retrieval", "integrations", "benchmarks", "examples"])
def test_nothing_outside_models_uses_a_private_member_of_colbert(folder: str) -> None:
    private = _colbert_private_members()
    offenders = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        if "models" in path.relative_to(ROOT).parts[:2] and folder == "colbert_retrieval":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in private:
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    continue
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert not offenders, offenders
