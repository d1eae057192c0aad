"""Pooling, MaxSim and encoding throughput of two revisions, side by side on this machine (run by hand).

    python benchmarks/compare_revisions.py --base 5b36a0e [--rounds 3]

Checks the base revision out twice into temporary git worktrees and times the same workloads with each
tree's ``colbert_retrieval`` (the same virtual environment), in alternating processes (base, base again,
now), keeping the best time of each side; prints and writes the ratios (``now / base``, above 1 is faster
now) beside the A/A spread of the base against itself, and calls a ratio inside that spread no difference, to
docs/benchmarks/revisions.md. Workloads: Ward pooling of 512 documents x 180 tokens x 128-d
(pool_factor 2), MaxSim of 32 queries x 32 tokens against 2,000 documents x 180 tokens, and encoding 256
documents of about 180 tokens with the default model (pool_factor 2), in float32 and in bfloat16, and
embedded search: 32 hybrid searches (query encoding included) and the same 32 as one batched call, on those 256
documents in an embedded store (``:memory:``), written once with ``add_embeddings``. The workload script
speaks both index APIs (``store=``/``schema=`` and the older ``location=``/``pool_factor=``, ``search_batch``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import machine, table, write_result

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = r"""
import copy, json, random, sys, time
import torch
from colbert_retrieval import default_model, scores
from colbert_retrieval.pooling import pool_embeddings_hierarchical

g = torch.Generator().manual_seed(0)
def unit(*shape):
    return torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)
docs = [unit(180, 128) for _ in range(512)]
q, d = unit(32, 32, 128), unit(2000, 180, 128)
model = default_model(device="cpu")
vocabulary = [w for w in model.tokenizer.get_vocab() if w.isalpha() and len(w) > 3][:8000]
rng = random.Random(0)
texts = [" ".join(rng.choices(vocabulary, k=rng.randint(70, 210))) for _ in range(256)]
bf16 = copy.deepcopy(model).to(torch.bfloat16)
from colbert_retrieval.qdrant import ColBERTIndex
try:
    from colbert_retrieval.qdrant import Schema
    index = ColBERTIndex(model, "bench", store=":memory:", schema=Schema(pool_factor=2), search={"exact_below": 0})
    search_many = lambda queries: index.search(queries, k=10)
except ImportError:
    index = ColBERTIndex(model, "bench", location=":memory:", pool_factor=2, exact_below=0)
    search_many = lambda queries: index.search_batch(queries, k=10)
vectors = model.encode(texts, is_query=False, pool_factor=2)
index.add_embeddings([{"id": i, "text": t} for i, t in enumerate(texts)], vectors)
index.optimize()
queries = [" ".join(rng.choices(vocabulary, k=rng.randint(3, 8))) for _ in range(32)]
def searches():
    for query in queries:
        index.search(query, k=10)
work = {
    "search (32 hybrid, one at a time)": searches,
    "search (32 hybrid, one batch)": lambda: search_many(queries),
    "pooling": lambda: pool_embeddings_hierarchical(docs, 2),
    "maxsim": lambda: scores.colbert_scores(q, d),
    "encoding": lambda: model.encode(texts, is_query=False, pool_factor=2, batch_size=32),
    "encoding bf16": lambda: bf16.encode(texts, is_query=False, pool_factor=2, batch_size=32),
}
only = set(sys.argv[1:])
best = {}
for name, run in work.items():
    if only and name not in only:
        continue
    run()
    times = []
    for _ in range(3):
        start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
    best[name] = min(times)
print(json.dumps(best))
"""


def timings(tree: Path, only: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", WORKLOAD, *only]
    out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the revision to compare with (e.g. the last release)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=[], help="workloads to time (default: all)")
    parser.add_argument("--output", default="revisions", help="result name under docs/benchmarks/")
    args = parser.parse_args()
    sides = ("base", "base again", "now")  # an A/A pair: the same revision twice shows the noise
    runs: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    with tempfile.TemporaryDirectory(prefix="colbert-base-") as tmp:
        trees = {"base": Path(tmp) / "base", "base again": Path(tmp) / "again", "now": ROOT}
        for side in ("base", "base again"):
            subprocess.run(["git", "worktree", "add", "--detach", str(trees[side]), args.base], cwd=ROOT, check=True)
        try:
            for round_ in range(args.rounds):
                for side in sides[round_ % 3 :] + sides[: round_ % 3]:  # each side leads a round in turn
                    for name, seconds in timings(trees[side], args.only).items():
                        runs[side].setdefault(name, []).append(seconds)
        finally:
            for side in ("base", "base again"):
                subprocess.run(["git", "worktree", "remove", "--force", str(trees[side])], cwd=ROOT, check=False)
    rows = []
    for name in runs["now"]:
        base, again, now = (runs[side][name] for side in sides)
        ratio = min(base) / min(now)
        aa = [b / a for b, a in zip(base, again)] + [min(base) / min(again)]
        spread = max(abs(x - 1) for x in aa)
        verdict = "no difference" if abs(ratio - 1) <= spread else ("faster now" if ratio > 1 else "slower now")
        rows.append(
            [
                name,
                f"{min(base) * 1000:,.1f}",
                f"{min(now) * 1000:,.1f}",
                f"{ratio:.3f}x",
                f"{min(aa):.3f}x - {max(aa):.3f}x",
                verdict,
            ]
        )
    markdown = (
        f"Machine: {machine()}. Base revision `{args.base}` against the working tree, alternating processes "
        f"(base, base again, now), best of {args.rounds} x 3 runs per side. The A/A column times the base "
        "revision against itself (per round and best of all): a ratio inside that spread is no difference.\n\n"
        + table(["workload", f"{args.base} ms", "now ms", "now vs base", "A/A (base vs base)", "verdict"], rows)
    )
    print(markdown)
    write_result(args.output, markdown)


if __name__ == "__main__":
    main()
