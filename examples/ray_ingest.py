"""Encode documents on a pool of Ray actors, write Parquet shards, bulk-load them, search.

Run: python examples/ray_ingest.py [CORPUS.jsonl]

Without a file it writes a small JSONL corpus. On a cluster: ``ray.init(address="auto")`` (or
``RAY_ADDRESS``) before the call, ``num_gpus=1`` per actor, and a ``QdrantTarget`` to let the workers write
straight into a Qdrant cluster (see the runbook). Needs ``pip install "colbert-retrieval[ray]"``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import ray

from colbert_retrieval import default_model
from colbert_retrieval.distributed import index_with_ray, load_shards
from colbert_retrieval.qdrant import ColBERTIndex

TEXTS = [
    "Scurvy is a disease caused by a lack of vitamin C.",
    "Oranges and lemons are rich in vitamin C.",
    "Paris is the capital city of France.",
    "Statins lower LDL cholesterol.",
]


def main() -> None:
    work = Path(tempfile.mkdtemp())
    if len(sys.argv) > 1:
        corpus = Path(sys.argv[1])
    else:
        corpus = work / "corpus.jsonl"
        corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS)))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # a local Ray instance
    try:
        # 1. Encode on two actors into Parquet shards (re-running skips what the shards hold).
        summary = index_with_ray(corpus, work / "shards", num_workers=2)
        print(f"Shards: {summary}")
    finally:
        ray.shutdown()
    # 2. Bulk-load the shards into an embedded store (or a server: url=...), then search as usual.
    with ColBERTIndex(default_model(), "docs", store=str(work / "store"), storage="small") as index:
        print(f"Loaded: {load_shards(work / 'shards', index)}")
        hit = index.search("what causes scurvy?", k=1)[0]
        print(f"Top hit: {hit.id} {hit.text!r}")


if __name__ == "__main__":
    main()
