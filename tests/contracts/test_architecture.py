"""The architecture is checked by tools, not by memory: import contracts, overrides, private members."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    """``lint-imports`` with the contracts in pyproject.toml: layers, no framework in core, no circles."""
    executable = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert executable, "import-linter is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([executable, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_overrides_no_base_class_signature_by_force() -> None:
    """Modules are split by responsibility, never by size; a subclass stays substitutable for its base."""
    core = sorted((ROOT / "colbert_retrieval").rglob("*.py"))
    forced = [str(p.relative_to(ROOT)) for p in core if "type: ignore[override]" in p.read_text()]
    assert not forced, f"an override that needs type: ignore[override] breaks its base's contract: {forced}"


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
