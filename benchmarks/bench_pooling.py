"""Token pooling throughput: batched torch Ward vs the per-document SciPy path (run by hand).

    python benchmarks/bench_pooling.py [--docs 512] [--tokens 180] [--dim 128] [--pool-factor 2]

References, same inputs, same run: colbert_retrieval's per-document SciPy path (PyLate's algorithm) and
sentence-transformers' HierarchicalTokenPooling. Ours: batched Ward (compiled nn-chain on the CPU; torch
lockstep on the GPU when one is present). Checks that the batched path gives the same clusters. Writes
docs/benchmarks/pooling.md and pooling.png.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _common import RESULTS, bar_plot, machine, table, throughputs, write_result
from sentence_transformers.multi_vector_encoder.modules import HierarchicalTokenPooling

from colbert_retrieval.pooling import pool_scipy, pool_torch


def same_vectors(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    def order(x: np.ndarray) -> np.ndarray:
        return x[np.lexsort(np.round(x, 4).T[::-1])]

    same = sum(
        x.shape == y.shape and np.allclose(order(x.cpu().numpy()), order(y.cpu().numpy()), atol=1e-4)
        for x, y in zip(a, b)
    )
    return same / len(a)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=512)
    parser.add_argument("--tokens", type=int, default=180)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--pool-factor", type=int, default=2)
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
    st_pooling = HierarchicalTokenPooling(pool_factor=pf, num_protected_tokens=1, normalize_embeddings=False)
    reference = pool_scipy(docs, pf)
    candidates = {
        "SciPy per document (PyLate algorithm)": lambda: pool_scipy(docs, pf),
        "sentence-transformers HierarchicalTokenPooling": lambda: st_pooling.pool(docs, task="document"),
        "colbert-retrieval batched Ward (CPU: compiled nn-chain, 2 threads)": lambda: pool_torch(docs, pf),
    }
    outputs = {"colbert-retrieval batched Ward (CPU: compiled nn-chain, 2 threads)": pool_torch(docs, pf)}
    sync = frozenset()
    if torch.cuda.is_available():
        gpu_docs = [d.cuda() for d in docs]
        candidates["colbert-retrieval batched Ward (GPU: torch lockstep)"] = lambda: pool_torch(
            gpu_docs, pf, batch_size=4096
        )
        outputs["colbert-retrieval batched Ward (GPU: torch lockstep)"] = pool_torch(gpu_docs, pf, batch_size=4096)
        sync = frozenset({"colbert-retrieval batched Ward (GPU: torch lockstep)"})
    results = throughputs(candidates, args.docs, repeat=2, sync=sync)
    rows = [
        [
            name,
            f"{rate:,.0f}",
            f"{ratio:.2f}x",
            f"{same_vectors(outputs[name], reference):.1%}" if name in outputs else "reference",
        ]
        for name, rate, ratio in results
    ]
    names, rates = [r[0] for r in results], [r[1] for r in results]
    header = (
        f"Machine: {machine()}. {args.docs} documents x {args.tokens} tokens x {args.dim}-d, pool_factor {pf}, "
        "best of 2 runs after a warm-up.\n\n"
    )
    markdown = header + table(["implementation", "docs/s", "vs SciPy", "same vectors as SciPy"], rows)
    print(markdown)
    write_result("pooling", markdown)
    bar_plot(RESULTS / "pooling.png", names, rates, "Token pooling throughput", "documents / second")


if __name__ == "__main__":
    main()
