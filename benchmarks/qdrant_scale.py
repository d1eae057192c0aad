"""The embedded engine at 10k-100k documents: latency, ingest rate, memory and disk per document.

    python benchmarks/qdrant_scale.py

Synthetic corpora of clustered 100 x 128-d float16 multivectors (each document mixes one of 500 topic
vectors with word vectors from a 5,000-word vocabulary and noise, like pooled ColBERT vectors) with matching
text for BM25. Documents are written with ``add_embeddings`` (MUVERA + BM25 + upsert + HNSW build); queries are
16 vectors near a document's topic. Latency is of the backend search call alone (no model: the vectors are
synthetic), p50 over the queries, side by side in one run; qdrant-client's local mode (0.1.0's embedded
store) is timed at the sizes it can hold. The embedded store is filled, then ``optimize()`` is awaited, so the
ingest rate includes building the HNSW graph. A PNG plot goes next to the Markdown.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import RESULTS, machine, printed_result
from qdrant_client import QdrantClient

from colbert_retrieval.qdrant import IndexSettings, SearchConfig, SearchMode
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._plans import plans_for
from colbert_retrieval.qdrant._schema import StorageOptions
from colbert_retrieval.qdrant._writer import DocumentWriter
from colbert_retrieval.qdrant.backends import EdgeBackend, ServerBackend

DIM, TOKENS, TOPICS, VOCAB = 128, 100, 500, 5000
rng = np.random.default_rng(0)
TOPIC_VECTORS = rng.standard_normal((TOPICS, DIM)).astype(np.float32)
WORD_VECTORS = rng.standard_normal((VOCAB, DIM)).astype(np.float32)
TOPIC_WORDS = rng.integers(0, VOCAB, size=(TOPICS, 40))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def documents(start: int, count: int) -> tuple[list[dict], list[np.ndarray]]:
    local = np.random.default_rng(start)
    topics = local.integers(0, TOPICS, size=count)
    docs, vectors = [], []
    for i, topic in enumerate(topics):
        words = TOPIC_WORDS[topic][local.integers(0, 40, size=TOKENS)]
        v = 0.8 * TOPIC_VECTORS[topic] + WORD_VECTORS[words] + 0.3 * local.standard_normal((TOKENS, DIM))
        vectors.append(normalise(v.astype(np.float32)).astype(np.float16))
        docs.append({"id": start + i, "text": " ".join(f"w{w}" for w in words[:60]), "metadata": {"topic": int(topic)}})
    return docs, vectors


def queries(count: int) -> list[tuple[np.ndarray, str]]:
    local = np.random.default_rng(10**9)
    out = []
    for topic in local.integers(0, TOPICS, size=count):
        words = TOPIC_WORDS[topic][local.integers(0, 40, size=16)]
        v = 0.8 * TOPIC_VECTORS[topic] + WORD_VECTORS[words] + 0.3 * local.standard_normal((16, DIM))
        out.append((normalise(v.astype(np.float32)), " ".join(f"w{w}" for w in words[:6])))
    return out


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def fill(backend, settings: IndexSettings, size: int, chunk: int = 5000) -> float:
    writer = DocumentWriter(backend, None, settings, DerivedVectors(settings))  # type: ignore[arg-type]
    start = time.perf_counter()
    for offset in range(0, size, chunk):
        docs, vectors = documents(offset, min(chunk, size - offset))
        writer.add_embeddings(docs, [torch.from_numpy(v) for v in vectors])
    backend.optimize()
    return size / (time.perf_counter() - start)


def latencies(backend, settings, mode: SearchMode, qs, config: SearchConfig) -> np.ndarray:
    derived = DerivedVectors(settings)
    times = []
    for multivector, text in qs:
        first = derived.first_stage([multivector], is_query=True)[0]
        sparse = derived.sparse([text], is_query=True)[0]
        plans = plans_for(mode, multivector, first, sparse, 10, None, config, small=False)
        start = time.perf_counter()
        backend.query_batch(plans)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def main() -> None:
    settings = IndexSettings(model_name="synthetic", dim=DIM)
    config = SearchConfig()
    qs = queries(100)
    rows, plot = [], {"edge two-stage (colbert)": [], "edge hybrid": [], "edge exact": [], "local-mode exact": []}
    sizes = [int(s) for s in os.environ.get("SIZES", "10000,30000,100000").split(",")]
    cold_size = int(os.environ.get("COLD_SIZE", "30000"))
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for cold in (False, True) if size == cold_size else (False,):
                base = rss_mb()
                folder = Path(tmp) / f"edge{size}{'cold' if cold else ''}"
                backend = EdgeBackend(folder, "synthetic")
                backend.create(settings, StorageOptions(on_disk=cold))
                rate = fill(backend, settings, size)
                memory = rss_mb() - base
                two = latencies(backend, settings, SearchMode.COLBERT, qs, config)
                hybrid = latencies(backend, settings, SearchMode.HYBRID, qs, config)
                exact = latencies(backend, settings, SearchMode.EXACT, qs[:20], config)
                label = f"{size:,}" + (" (Memory.Cold multivectors)" if cold else "")
                rows.append(
                    f"| {label} | embedded engine | {rate:,.0f} | {np.percentile(two, 50):.1f} | "
                    f"{np.percentile(hybrid, 50):.1f} | {np.percentile(exact, 50):.1f} | "
                    f"{memory * 2**20 / size / 1024:.1f} | {disk_mb(folder) * 2**20 / size / 1024:.1f} |"
                )
                if not cold:
                    plot["edge two-stage (colbert)"].append((size, np.percentile(two, 50)))
                    plot["edge hybrid"].append((size, np.percentile(hybrid, 50)))
                    plot["edge exact"].append((size, np.percentile(exact, 50)))
                log(rows[-1])
                backend.drop()
                backend.close()
            if size <= 30_000:
                client = QdrantClient(path=str(Path(tmp) / f"local{size}"))
                local = ServerBackend(client, "synthetic", owns_client=True)
                local.create(settings, StorageOptions())
                base = rss_mb()
                rate = fill(local, settings, size)
                memory = rss_mb() - base
                exact = latencies(local, settings, SearchMode.EXACT, qs[:5], config)
                rows.append(
                    f"| {size:,} | qdrant-client local mode (0.1.0) | {rate:,.0f} | - | - | "
                    f"{np.percentile(exact, 50):.1f} | {memory * 2**20 / size / 1024:.1f} | - |"
                )
                plot["local-mode exact"].append((size, np.percentile(exact, 50)))
                log(rows[-1])
                local.close()
    print(f"Machine: {machine()}. Synthetic corpora: {TOKENS} x {DIM}-d float16 multivectors per document.\n")
    print(
        "| documents | store | ingest docs/s | two-stage p50 ms | hybrid p50 ms | exact p50 ms | "
        "RAM KB/doc | disk KB/doc |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(rows))
    print(
        "\nLatency is the engine call alone (query vectors precomputed), k=10, p50 over 100 queries (20 for exact "
        "in the embedded engine, 5 in local mode). Ingest is `add_embeddings` (MUVERA, BM25 and upsert) followed "
        "by the HNSW build, without encoding. RAM is the growth of the process's resident memory while filling, "
        "which includes the engine's memory-mapped files resident in the page cache (reclaimable) and Python's "
        "freed-but-kept allocations: an upper bound. Disk is the whole store folder: the float16 multivectors "
        f"({TOKENS * DIM * 2 / 1000:.1f} KB per document here), the first-stage vector in float32 and int8, BM25, "
        "the HNSW graph, and the write-ahead log, which holds a float32 copy of recent writes. `Memory.Cold` "
        f"(`on_disk=True`, the {cold_size:,} row) keeps the multivectors on disk, read through the page cache."
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.2))
    for name, points in plot.items():
        if points:
            xs, ys = zip(*points)
            axis.plot(xs, ys, marker="o", label=name)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("documents (100 x 128-d vectors each)")
    axis.set_ylabel("p50 search latency, ms")
    axis.set_title("Search latency vs corpus size (2 CPU cores)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(RESULTS / "qdrant-scale.png", dpi=110)


if __name__ == "__main__":
    with printed_result("qdrant-scale"):
        main()
