"""Cold start: the README's main job in a fresh process with an empty numba cache vs a warm one (by hand).

    python benchmarks/cold_start.py [--runs 3]

A newcomer's first command runs with no compiled pooling kernels on disk (a fresh install); later commands
find them in numba's cache. Each round runs ``colbert-retrieval index README.md docs`` (the README's main
job, into a new embedded store) twice in fresh processes: first with an empty ``NUMBA_CACHE_DIR`` (cold),
then with the cache that run left (warm). Also times, in one fresh cold process, the first and second
``encode`` of 50 documents with pool_factor 2. Writes docs/benchmarks/cold-start.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, table, write_result

ROOT = Path(__file__).resolve().parents[1]
IN_PROCESS = r"""
import time
from colbert_retrieval import default_model
texts = [f"Document {i} about vitamin C, scurvy and the history of sailors at sea, part {i}." * 6 for i in range(50)]
model = default_model()
start = time.perf_counter(); model.encode(texts, is_query=False, pool_factor=2); first = time.perf_counter() - start
start = time.perf_counter(); model.encode(texts, is_query=False, pool_factor=2); second = time.perf_counter() - start
print(f"{first:.3f} {second:.3f}")
"""


def _index_seconds(numba_cache: Path, store: Path) -> float:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "colbert_retrieval.cli", "index", "README.md", "docs", "--path", str(store)]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            cache = Path(folder) / "numba"
            cold = _index_seconds(cache, Path(folder) / "store-cold")
            warm = _index_seconds(cache, Path(folder) / "store-warm")
            rows.append([run + 1, f"{cold:.2f}", f"{warm:.2f}", f"{cold - warm:+.2f}"])
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NUMBA_CACHE_DIR": folder, "HF_HUB_OFFLINE": "1"}
        result = subprocess.run([sys.executable, "-c", IN_PROCESS], env=env, check=True, capture_output=True, text=True)
        first, second = (float(x) for x in result.stdout.split()[-2:])
    markdown = (
        f"Machine: {machine()}. `colbert-retrieval index README.md docs` (the README's main job) in a fresh "
        "process with an empty numba cache (a fresh install) and then with the cache it left.\n\n"
        + table(["round", "cold (s)", "warm (s)", "cold - warm (s)"], rows)
        + f"\n\nIn one cold process: first `encode` of 50 documents (pool_factor 2) {first:.2f} s, second "
        f"{second:.2f} s."
    )
    print(markdown)
    write_result("cold-start", markdown)


if __name__ == "__main__":
    main()
