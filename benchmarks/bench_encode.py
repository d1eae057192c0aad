"""Document encoding throughput of the default model: default fp32 path vs the fast paths (run by hand).

    python benchmarks/bench_encode.py [--docs 512] [--words 140] [--cpu-docs N]

Synthetic documents (random vocabulary words, about 180 tokens each). Rows, same inputs and run:
fp32 batches in input order (no length sorting, the naive baseline), fp32 length-sorted (the default),
bf16 length-sorted (opt-in: ``model.to(torch.bfloat16)``), each with pool_factor 2 pooled on the device.
On a GPU, adds fp32 and bf16 (SDPA attention, pinned transfers, prefetched tokenisation) rows with larger
batches, and the GPU bf16 / GPU fp32 ratio. ``--cpu-docs`` times the CPU rows on the first N documents only
(for large GPU runs). Writes docs/benchmarks/encode.md and encode.png.
"""

from __future__ import annotations

import argparse
import copy
import random

import torch
from _common import RESULTS, bar_plot, machine, table, throughputs, write_result

from colbert_retrieval import default_model


def documents(count: int, words: int, vocabulary: list[str]) -> list[str]:
    rng = random.Random(0)
    return [" ".join(rng.choices(vocabulary, k=rng.randint(words // 2, words * 3 // 2))) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=512)
    parser.add_argument("--words", type=int, default=140)
    parser.add_argument("--cpu-docs", type=int, default=None, help="time the CPU rows on the first N documents")
    args = parser.parse_args()
    model = default_model(device="cpu")
    vocabulary = [w for w in model.tokenizer.get_vocab() if w.isalpha() and len(w) > 3][:8000]
    docs = documents(args.docs, args.words, vocabulary)
    cpu_docs = docs[: args.cpu_docs or len(docs)]

    def run(m, device, batch_size=32, sort=True):
        texts = docs if device == "cuda" else cpu_docs
        options = {"batch_size": batch_size, "pool_factor": 2, "convert_to_tensor": True, "device": device}
        if sort:  # one call: encode sorts all texts by length before batching
            return lambda: m.encode_document(texts, **options)
        # one call per batch: batches in input order, as a loop over encode calls makes them
        return lambda: [
            e for i in range(0, len(texts), batch_size) for e in m.encode_document(texts[i : i + batch_size], **options)
        ]

    bf16 = copy.deepcopy(model).to(torch.bfloat16)
    candidates = {
        "fp32, input order (naive)": run(model, "cpu", sort=False),
        "fp32, length-sorted (default)": run(model, "cpu"),
        "bf16, length-sorted (opt-in)": run(bf16, "cpu"),
    }
    sync = frozenset()
    if torch.cuda.is_available():
        gpu32 = copy.deepcopy(model).to("cuda")
        gpu16 = copy.deepcopy(model).to("cuda", dtype=torch.bfloat16)
        candidates["GPU fp32, batch 256"] = run(gpu32, "cuda", batch_size=256)
        candidates["GPU bf16 + SDPA, batch 256"] = run(gpu16, "cuda", batch_size=256)
        sync = frozenset({"GPU fp32, batch 256", "GPU bf16 + SDPA, batch 256"})
    counts = {name: len(cpu_docs) for name in candidates if not name.startswith("GPU")}
    results = throughputs(candidates, args.docs, repeat=1, sync=sync, counts=counts)
    rows = [[name, f"{rate:,.1f}", f"{ratio:.2f}x"] for name, rate, ratio in results]
    names, rates = [r[0] for r in results], [r[1] for r in results]
    tokens = sum(len(model.tokenizer(d)["input_ids"][:256]) for d in docs) / len(docs)
    header = (
        f"Machine: {machine()}. Default model (MiniLM-L6, 128-d), {args.docs} documents of {tokens:.0f} tokens on "
        "average (truncated at 256), pool_factor 2, batch 32 on CPU"
        + (f" (CPU rows on the first {len(cpu_docs)})" if len(cpu_docs) < len(docs) else "")
        + "; best of 1 run after a warm-up.\n\n"
    )
    markdown = header + table(["path", "docs/s", "vs naive"], rows)
    rates_by_name = {name: rate for name, rate, _ in results}
    if "GPU fp32, batch 256" in rates_by_name:
        speedup = rates_by_name["GPU bf16 + SDPA, batch 256"] / rates_by_name["GPU fp32, batch 256"]
        markdown += f"\n\nGPU bf16 + SDPA vs GPU fp32 (same run): {speedup:.2f}x."
    print(markdown)
    write_result("encode", markdown)
    bar_plot(RESULTS / "encode.png", names, rates, "Document encoding throughput", "documents / second")


if __name__ == "__main__":
    main()
