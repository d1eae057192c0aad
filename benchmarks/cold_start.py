"""Cold start: the README's main job on a fresh install vs a warm one (by hand).

    python benchmarks/cold_start.py [--runs 3] [--no-fresh-venv]

A newcomer's first command runs with no compiled pooling kernels on disk (a fresh install); later commands
find them in numba's cache. Two measurements, written to docs/benchmarks/cold-start.md:

1. The newcomer's order: a fresh clone of HEAD, a fresh virtual environment with the README's install
   commands as written (read from its main-job line), no model exports, then its two commands
   (``colbert-retrieval index README.md docs`` and ``colbert-retrieval search ...``), each timed. Then, once
   the detached compiler that the first command started has filled numba's cache, the same two commands again
   (into a new store): the warm figures.
2. In this environment, ``rounds`` times: ``index README.md docs`` in a fresh process with an empty
   ``NUMBA_CACHE_DIR`` and no model exports (cold), then, once the caches are filled, with them (warm). Also
   the first and second ``encode`` of 50 documents with pool_factor 2 in one cold process.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, table, write_result

from colbert_retrieval.pooling._cache import wait_for_compiler

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How do I move from embedded Qdrant to a server?"
IN_PROCESS = r"""
import time
from colbert_retrieval import default_model
texts = [f"Document {i} about vitamin C, scurvy and the history of sailors at sea, part {i}." * 6 for i in range(50)]
model = default_model()
start = time.perf_counter(); model.encode(texts, is_query=False, pool_factor=2); first = time.perf_counter() - start
start = time.perf_counter(); model.encode(texts, is_query=False, pool_factor=2); second = time.perf_counter() - start
print(f"{first:.3f} {second:.3f}")
"""


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def readme_installs() -> list[str]:
    """The pip commands of the README's main-job line (``python -m pip install ...``), in order."""
    rows = (ROOT / "README.md").read_text().splitlines()
    line = next(row for row in rows if "colbert-retrieval index" in row and " pip install " in row)
    return [part.strip() for part in line.split(" && ") if " pip install " in part]


def _index_seconds(numba_cache: Path, store: Path) -> float:
    exports = numba_cache.parent / "exports"  # cold: no numba kernels and no model exports (a fresh machine)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache), "HF_HUB_OFFLINE": "1"}
    env["COLBERT_RETRIEVAL_CACHE"] = str(exports)
    command = [
        sys.executable,
        "-m",
        "colbert_retrieval.cli",
        "index",
        "README.md",
        "docs",
        "--path",
        str(store),
    ]
    return _timed(command, ROOT, env)


def _newcomer(folder: Path) -> list[list[str]]:
    """The README's two commands in a fresh clone and venv, cold then warm; rows of the table."""
    clone = folder / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    for install in readme_installs():  # the README's install commands as written, in the fresh venv
        subprocess.run([python, *shlex.split(install)[1:], "-q"], cwd=clone, check=True)
    env = {k: v for k, v in os.environ.items() if k not in {"NUMBA_CACHE_DIR", "VIRTUAL_ENV", "PYTHONPATH"}}
    # A fresh machine: no exports of the model either (the bulk path calibrates its int8 export once).
    env |= {"PATH": f"{venv / 'bin'}:{env.get('PATH', '')}", "HF_HUB_OFFLINE": "1"}
    env["COLBERT_RETRIEVAL_CACHE"] = str(folder / "exports")
    cli = str(venv / "bin" / "colbert-retrieval")
    kernels_cache = clone / "colbert_retrieval" / "pooling" / "__pycache__"  # numba's, for an editable install
    rows = []
    runs = (("first (fresh install)", "colbert_index"), ("again (kernels and exports cached)", "warm_index"))
    for label, store in runs:
        index = _timed([cli, "index", "README.md", "docs", "--path", store], clone, env)
        search = _timed([cli, "search", QUESTION, "--path", store], clone, env)
        waited = f"{wait_for_compiler(kernels_cache):.1f}" if not rows else "-"
        rows.append([label, f"{index:.2f}", f"{search:.2f}", waited])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-fresh-venv", action="store_true", help="skip the fresh clone + venv measurement")
    args = parser.parse_args()
    parts = [f"Machine: {machine()}."]
    if not args.no_fresh_venv:
        folder = Path(tempfile.mkdtemp(prefix="cold-start-"))
        try:
            newcomer = _newcomer(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        cold, warm = (float(newcomer[0][1]), float(newcomer[1][1]))
        parts.append(
            "The newcomer's order: a fresh clone and a fresh venv (the README's install commands), no model "
            "exports, then the README's two commands; then, once the caches are filled, the same commands into a "
            "new store.\n\n"
            + table(["run", "index README.md docs (s)", "search (s)", "compiler still busy after (s)"], newcomer)
            + f"\n\nFirst `index` of a fresh install - warm one: {cold - warm:+.2f} s."
        )
    rows = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "numba"
            cold = _index_seconds(cache, Path(folder) / "store-cold")
            waited = wait_for_compiler(cache)
            warm = _index_seconds(cache, Path(folder) / "store-warm")
            rows.append([run + 1, f"{cold:.2f}", f"{waited:.1f}", f"{warm:.2f}", f"{cold - warm:+.2f}"])
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NUMBA_CACHE_DIR": folder, "HF_HUB_OFFLINE": "1"}
        result = subprocess.run([sys.executable, "-c", IN_PROCESS], env=env, check=True, capture_output=True, text=True)
        first, second = (float(x) for x in result.stdout.split()[-2:])
    parts.append(
        "`colbert-retrieval index README.md docs` in a fresh process with an empty numba cache and no model "
        "exports (cold: the bulk path calibrates its int8 export), then (once the detached compiler has filled "
        "the numba cache) with both caches, in rounds:\n\n"
        + table(["round", "cold (s)", "compiler still busy after (s)", "warm (s)", "cold - warm (s)"], rows)
        + f"\n\nIn one cold process: first `encode` of 50 documents (pool_factor 2) {first:.2f} s, second "
        f"{second:.2f} s."
    )
    markdown = "\n\n".join(parts)
    print(markdown)
    write_result("cold-start", markdown)


if __name__ == "__main__":
    main()
