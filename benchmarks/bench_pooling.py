"""Token pooling throughput: the batched path vs the per-document SciPy path (run by hand).

    python benchmarks/bench_pooling.py [--docs 512] [--tokens 180] [--dim 128] [--pool-factor 2]

References, same inputs, same run: colbert_retrieval's per-document SciPy path (PyLate's algorithm) and
sentence-transformers' HierarchicalTokenPooling. Ours: on the CPU, the parallel compiled path (exact
distance loop + SciPy's nn-chain), in one call for all documents and in calls of 32 documents (as small
encode calls make them); on the GPU when one is present, the torch lockstep Ward. Checks the pooled vectors
against the reference (bit-identical, and within 1e-5). Writes docs/benchmarks/pooling.md and pooling.png.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import RESULTS, bar_plot, machine, table, throughputs, write_result
from sentence_transformers.multi_vector_encoder.modules import HierarchicalTokenPooling

from colbert_retrieval.pooling import compile_cpu_kernels, pool_embeddings_hierarchical


def pool_scipy(docs: list[torch.Tensor], pool_factor: int) -> list[torch.Tensor]:
    return pool_embeddings_hierarchical(docs, pool_factor, method="scipy")


def pool_batched(docs: list[torch.Tensor], pool_factor: int) -> list[torch.Tensor]:
    return pool_embeddings_hierarchical(docs, pool_factor)


def same_vectors(a: list[torch.Tensor], b: list[torch.Tensor]) -> str:
    """Share of documents with the reference's pooled vectors: bit-identical, and within 1e-5 (any order)."""

    def rows(x: torch.Tensor) -> list[tuple[float, ...]]:
        return sorted(map(tuple, x.cpu().float().tolist()))

    exact = close = 0
    for x, y in zip(a, b):
        if x.shape == y.shape:
            rx, ry = rows(x), rows(y)
            exact += rx == ry
            close += np.allclose(np.array(rx), np.array(ry), atol=1e-5)
    return f"{exact / len(a):.1%} bit-identical, {close / len(a):.1%} within 1e-5"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=512)
    parser.add_argument("--tokens", type=int, default=180)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--pool-factor", type=int, default=2)
    parser.add_argument("--reference-docs", type=int, default=None, help="time the references on the first N")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    # Token vectors with topical structure (a few directions per document plus noise), unit norm.
    docs = []
    for _ in range(args.docs):
        centers = torch.randn(12, args.dim, generator=generator)
        picks = torch.randint(0, 12, (args.tokens,), generator=generator)
        x = centers[picks] + 0.8 * torch.randn(args.tokens, args.dim, generator=generator)
        docs.append(torch.nn.functional.normalize(x, dim=-1))
    pf = args.pool_factor
    # A warm process's path: the compiled kernels loaded (or compiled here) before timing. Without this the
    # rounds can run while they still load, and time the torch fallback instead (measured: 0.73x SciPy).
    kernels = compile_cpu_kernels(wait=True)
    st_pooling = HierarchicalTokenPooling(pool_factor=pf, num_protected_tokens=1, normalize_embeddings=False)
    subset = docs[: args.reference_docs or len(docs)]
    reference = pool_scipy(subset, pf)
    ours = f"colbert-retrieval, CPU, {torch.get_num_threads()} threads"
    ours_small = "colbert-retrieval, CPU, in calls of 32 documents"
    candidates = {
        "SciPy per document (PyLate algorithm)": lambda: pool_scipy(subset, pf),
        "sentence-transformers HierarchicalTokenPooling": lambda: st_pooling.pool(subset, task="document"),
        ours: lambda: pool_batched(docs, pf),
        ours_small: lambda: [p for i in range(0, len(docs), 32) for p in pool_batched(docs[i : i + 32], pf)],
    }
    outputs = {ours: pool_batched(docs, pf)}
    sync = frozenset()
    if torch.cuda.is_available():
        gpu_docs = [d.cuda() for d in docs]
        candidates["colbert-retrieval batched Ward (GPU: torch lockstep)"] = lambda: pool_batched(gpu_docs, pf)
        outputs["colbert-retrieval batched Ward (GPU: torch lockstep)"] = pool_batched(gpu_docs, pf)
        sync = frozenset({"colbert-retrieval batched Ward (GPU: torch lockstep)"})
    references = ("SciPy per document (PyLate algorithm)", "sentence-transformers HierarchicalTokenPooling")
    counts = dict.fromkeys(references, len(subset))
    results = throughputs(candidates, args.docs, repeat=args.rounds, sync=sync, counts=counts)
    rows = [
        [
            name,
            f"{rate:,.0f}",
            f"{ratio:.2f}x",
            same_vectors(outputs[name][: len(subset)], reference) if name in outputs else "",
        ]
        for name, rate, ratio in results
    ]
    names, rates = [r[0] for r in results], [r[1] for r in results]
    header = (
        f"Machine: {machine()}. {args.docs} documents x {args.tokens} tokens x {args.dim}-d, pool_factor {pf}"
        + (f" (references timed on the first {len(subset)})" if len(subset) < len(docs) else "")
        + f", best of {args.rounds} interleaved rounds after a warm-up; compiled CPU kernels "
        + ("ready before timing" if kernels else "unavailable (torch path)")
        + ".\n\n"
    )
    markdown = header + table(["implementation", "docs/s", "vs SciPy", "pooled vectors vs SciPy"], rows)
    print(markdown)
    write_result("pooling", markdown)
    bar_plot(RESULTS / "pooling.png", names, rates, "Token pooling throughput", "documents / second")


if __name__ == "__main__":
    main()
