"""Storage presets on NFCorpus: nDCG@10, RAM and disk bytes per document (run by hand, CPU, embedded Qdrant).

    python benchmarks/storage_presets.py ../shared/data/nfcorpus [--embeddings /tmp/nfc.pt]

One run, one machine: the corpus is encoded once (default model, ``pool_factor=2``) and stored with each preset
(``ColBERTIndex.add_embeddings``), so the presets differ only in storage. Then:

1. dev split: the rescoring oversampling of ``balanced`` and ``small`` is chosen there (the smallest factor
   whose nDCG@10 is within 0.002 of rescoring every candidate); the test split is only reported;
2. test split: nDCG@10 of two-stage (``colbert``) and ``hybrid`` search for each preset, and the query latency
   relative to ``fast``;
3. bytes per document, measured from the store's files after optimisation (blocks on disk), split into what
   search keeps in RAM (the components each preset places in RAM: ColBERT vectors or their quantized copy,
   the quantized first stage, the HNSW graph, the BM25 inverted index) and what stays on disk only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from _common import machine, printed_result, table

from colbert_retrieval import default_model
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.qdrant import ColBERTIndex, StoragePreset
from colbert_retrieval.qdrant._storage import storage_preset

OVERSAMPLING = [1.0, 2.0, 4.0, 8.0, None]
#: None: the binary first stage alone; the last (16) stands for "enough" when choosing.
FIRST_OVERSAMPLING = [None, 2.0, 4.0, 8.0, 16.0]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def corpus_vectors(folder: str, cache: str | None, model) -> tuple[list[str], list[torch.Tensor]]:
    if cache and os.path.exists(cache):
        saved = torch.load(cache)
        return saved["ids"], saved["emb"]
    corpus = load_beir(folder, split="test").corpus
    ids = list(corpus)
    start = time.perf_counter()
    vectors = model.encode([corpus[i] for i in ids], is_query=False, pool_factor=2, convert_to_tensor=True)
    log(f"encoded {len(ids)} documents in {time.perf_counter() - start:.0f} s")
    vectors = [v.half() for v in vectors]
    if cache:
        torch.save({"ids": ids, "emb": vectors}, cache)
    return ids, vectors


def component_bytes(store: str, n: int) -> dict[str, float]:
    """Blocks on disk per document, by component (segment ids removed)."""
    sizes: dict[str, float] = {}
    for root, _, files in os.walk(store):
        for name in files:
            path = os.path.join(root, name)
            rel = re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/", "", os.path.relpath(path, store))
            part = rel.split("/")
            key = "wal" if "wal" in part else "/".join(part[-3:-1] if "segments" in part else part[:1])
            if "quantized" in name:
                key += "/quantized"
            sizes[key] = sizes.get(key, 0.0) + os.stat(path).st_blocks * 512 / n
    return sizes


def in_ram(component: str, colbert_on_disk: bool) -> bool:
    """Whether search keeps this component in RAM with these settings."""
    if component.endswith("/quantized") or component.startswith(("vector_index-first_stage", "vector_index-bm25")):
        return True
    return component.startswith("vector_storage-colbert") and not colbert_on_disk


def evaluate(index, data, qvecs, mode: str, oversampling, first=None) -> tuple[float, float]:
    index.search_config = replace(
        index.search_config, rescore_oversampling=oversampling, first_stage_oversampling=first
    )
    qids = list(data.queries)
    start = time.perf_counter()
    if mode == "hybrid":
        hits = index.search([data.queries[q] for q in qids], k=10, config={"mode": "hybrid"})
    else:
        hits = index.search(qvecs, k=10, config={"mode": mode})
    seconds = time.perf_counter() - start
    run = {q: [str(h.id) for h in found] for q, found in zip(qids, hits)}
    return ndcg_at_k(data.qrels, run, 10), seconds / len(qids) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--embeddings", default=None, help="cache file for the encoded corpus")
    args = parser.parse_args()
    model = default_model()
    dev, test = load_beir(args.folder, split="dev"), load_beir(args.folder, split="test")
    ids, vectors = corpus_vectors(args.folder, args.embeddings, model)
    corpus = test.corpus
    documents = [{"id": i, "text": corpus[i]} for i in ids]
    qv = {
        name: [torch.as_tensor(v) for v in model.encode(list(d.queries.values()), is_query=True)]
        for name, d in (("dev", dev), ("test", test))
    }
    rows, size_rows, sweep_rows, first_rows, chosen = [], [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in StoragePreset:
            options, search = storage_preset(preset)
            store = str(Path(tmp) / preset.value)
            index = ColBERTIndex(model, "nfcorpus", store=store, storage=preset.value)
            start = time.perf_counter()
            index.add_embeddings(documents, vectors)
            index.optimize()
            log(f"{preset.value}: stored in {time.perf_counter() - start:.0f} s")
            over, first = search["rescore_oversampling"], search["first_stage_oversampling"]
            if first is not None:  # binary first stage: its oversampling first, with every candidate rescored
                dev_scores = {o: evaluate(index, dev, qv["dev"], "colbert", None, o)[0] for o in FIRST_OVERSAMPLING}
                first = min(
                    o for o in FIRST_OVERSAMPLING[1:] if dev_scores[FIRST_OVERSAMPLING[-1]] - dev_scores[o] <= 0.002
                )
                chosen[preset.value + " first stage"] = first
                first_rows.append([preset.value] + [f"{dev_scores[o]:.4f}" for o in FIRST_OVERSAMPLING] + [first])
            if over is not None:
                dev_scores = {o: evaluate(index, dev, qv["dev"], "colbert", o, first)[0] for o in OVERSAMPLING}
                best = min(o for o in OVERSAMPLING if o is not None and dev_scores[None] - dev_scores[o] <= 0.002)
                chosen[preset.value] = best
                sweep_rows.append([preset.value] + [f"{dev_scores[o]:.4f}" for o in OVERSAMPLING] + [best])
                over = best
            if preset is StoragePreset.FAST:
                fast_dev = evaluate(index, dev, qv["dev"], "colbert", None)[0]
                sweep_rows.append(
                    ["fast (float16, for reference)", *[""] * (len(OVERSAMPLING) - 1), f"{fast_dev:.4f}", ""]
                )
            results = {mode: evaluate(index, test, qv["test"], mode, over, first) for mode in ("colbert", "hybrid")}
            rows.append((preset.value, over, results))
            index.close()
            parts = component_bytes(store, len(ids))
            ram = sum(v for k, v in parts.items() if in_ram(k, bool(options.on_disk)))
            disk = sum(parts.values())
            size_rows.append((preset.value, ram, disk, parts))
    fast_ram = size_rows[0][1]
    fast_colbert = sum(v for k, v in size_rows[0][3].items() if k.startswith("vector_storage-colbert"))
    fast = rows[0][2]
    print("# Storage presets on NFCorpus\n")
    print(f"Machine: {machine()}. Default model, `pool_factor=2`, {len(ids)} documents, embedded store.\n")
    print("## Rescoring oversampling, chosen on the dev split (two-stage nDCG@10)\n")
    print(table(["preset"] + [f"x{o:g}" if o else "every candidate" for o in OVERSAMPLING] + ["chosen"], sweep_rows))
    print("\n## Binary first stage (`small`): oversampled and rescored with its float32 originals, chosen on dev\n")
    print(table(["preset"] + [f"x{o:g}" if o else "binary alone" for o in FIRST_OVERSAMPLING] + ["chosen"], first_rows))
    print("\n## Test split\n")
    result_rows = []
    for (name, over, results), (_, ram, disk, _) in zip(rows, size_rows):
        first = chosen.get(name + " first stage")
        over_text = "-" if over is None else f"x{over:g}" + (f", first stage x{first:g}" if first else "")
        result_rows.append(
            [
                name,
                over_text,
                f"{results['colbert'][0]:.4f} ({results['colbert'][0] - fast['colbert'][0]:+.4f})",
                f"{results['hybrid'][0]:.4f} ({results['hybrid'][0] - fast['hybrid'][0]:+.4f})",
                f"{results['colbert'][1] / fast['colbert'][1]:.2f}x",
                f"{ram:,.0f}",
                f"1/{fast_ram / ram:.1f}",
                f"1/{fast_colbert / ram:.1f}",
                f"{disk:,.0f}",
            ]
        )
    headers = [
        "preset",
        "rescore",
        "nDCG@10 colbert",
        "nDCG@10 hybrid",
        "latency vs fast",
        "RAM B/doc",
        "RAM vs fast",
        "RAM vs float16 ColBERT",
        "disk B/doc",
    ]
    print(table(headers, result_rows))
    print("\n## Bytes per document by component (blocks on disk; RAM ones marked)\n")
    components = sorted({k for _, _, _, parts in size_rows for k in parts})
    comp_rows = []
    for k in components:
        cells = []
        for name, _, _, parts in size_rows:
            value = parts.get(k, 0.0)
            on_disk = storage_preset(name)[0].on_disk
            cells.append(f"{value:,.0f}{' (RAM)' if value and in_ram(k, bool(on_disk)) else ''}")
        if any(parts.get(k, 0.0) >= 1 for _, _, _, parts in size_rows):
            comp_rows.append([k, *cells])
    print(table(["component"] + [r[0] for r in size_rows], comp_rows))
    log(f"chosen oversampling: {chosen}; fast RAM {fast_ram:.0f}; {np.round([r[1] for r in size_rows])}")


if __name__ == "__main__":
    with printed_result("storage-presets"):
        main()
