"""Ray Data ingest vs the single-process ``ColBERTIndex.add`` on this machine (run by hand, CPU, side by side).

    python benchmarks/ray_ingest.py ../shared/data/nfcorpus [--documents 1500]

Both paths index the same NFCorpus documents with the default model (``pool_factor=2``, default precision):

* one process: ``ColBERTIndex.add`` into an embedded store (the model loaded beforehand; torch uses every core);
* Ray: a local Ray instance with 2 CPU workers (started beforehand, as a cluster would be), two encoder actors
  of one CPU each (each loads its own model: included in the time), into Parquet shards, and into the embedded
  store through the driver.

The ratio is the docs/s of the Ray path over the single process, measured in one run. A last row measures the
ceiling of two one-CPU workers without Ray: two independent processes, one torch thread each, each encoding
half of the documents at the same time (encode and pool only, no store, model load not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ray
from _common import machine, printed_result, table

from colbert_retrieval import default_model
from colbert_retrieval.distributed import index_with_ray
from colbert_retrieval.evaluation import load_beir
from colbert_retrieval.qdrant import ColBERTIndex


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def encode_part(path: str) -> None:
    """Worker of the ceiling row: encode one JSONL part with one torch thread; print its encode seconds."""
    import torch

    torch.set_num_threads(1)
    texts = [json.loads(line)["text"] for line in Path(path).read_text().splitlines()]
    model = default_model()
    start = time.perf_counter()
    model.encode(texts, is_query=False, pool_factor=2, batch_size=32)
    print(time.perf_counter() - start)


def two_processes(rows: list[dict], folder: Path) -> float:
    """Seconds until both one-thread processes have encoded their half (the slower one)."""
    parts = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
    paths = []
    for i, part in enumerate(parts):
        paths.append(folder / f"part{i}.jsonl")
        paths[-1].write_text("".join(json.dumps(r) + "\n" for r in part))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--encode-part", str(p)], stdout=subprocess.PIPE, text=True, env=env
        )
        for p in paths
    ]
    return max(float(w.communicate()[0].strip().splitlines()[-1]) for w in workers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--documents", type=int, default=1500)
    parser.add_argument("--encode-part", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.encode_part:
        encode_part(args.encode_part)
        return
    corpus = load_beir(args.folder, split="test").corpus
    ids = list(corpus)[: args.documents]
    rows = [{"id": i, "text": corpus[i]} for i in ids]
    model = default_model()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows))
        start = time.perf_counter()
        with ColBERTIndex(model, "single", store=str(Path(tmp) / "single")) as index:
            summary = index.add(rows)
        single = time.perf_counter() - start
        log(f"single process: {summary}")
        results.append(("one process, `ColBERTIndex.add` -> embedded store", summary.documents, single))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        start = time.perf_counter()
        summary = index_with_ray(source, Path(tmp) / "shards", num_workers=2)
        results.append(("Ray, 2 CPU actors -> Parquet shards", summary.documents, time.perf_counter() - start))
        log(f"ray -> parquet: {summary}")
        with ColBERTIndex(model, "ray", store=str(Path(tmp) / "ray")) as index:
            start = time.perf_counter()
            summary = index_with_ray(source, index, num_workers=2)
            results.append(
                ("Ray, 2 CPU actors -> embedded store (driver writes)", summary.documents, time.perf_counter() - start)
            )
        log(f"ray -> embedded: {summary}")
        ray.shutdown()
        seconds = two_processes(rows, Path(tmp))
        results.append(
            ("ceiling: 2 independent 1-thread processes, encode only (no Ray, no store)", len(rows), seconds)
        )
    print("# Ray Data ingest vs one process\n")
    print(f"Machine: {machine()}. Default model, `pool_factor=2`, {len(ids)} NFCorpus documents, one run.\n")
    base = results[0][1] / results[0][2]
    print(
        table(
            ["path", "documents", "seconds", "docs/s", "vs one process"],
            [[name, n, f"{s:.1f}", f"{n / s:.1f}", f"{n / s / base:.2f}x"] for name, n, s in results],
        )
    )


if __name__ == "__main__":
    with printed_result("ray-ingest"):
        main()
