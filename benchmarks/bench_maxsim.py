"""MaxSim throughput: chunked scoring vs the einsum approach (run by hand).

    python benchmarks/bench_maxsim.py [--docs 20000]

Shape from the issue: 32-token queries, 180-token documents, 128-d. References in the same run: PyLate's
einsum (one queries x documents x Lq x Ld tensor) and sentence-transformers' maxsim. Ours: chunked fp32
(default on CPU), chunked bf16, and on a GPU bf16 over 100k documents. Writes docs/benchmarks/maxsim.md
and maxsim.png.
"""

from __future__ import annotations

import argparse

import torch
from _common import RESULTS, bar_plot, best_time, machine, table, throughputs, write_result
from sentence_transformers.util.similarity import maxsim as st_maxsim

from colbert_retrieval.scores import colbert_scores


def einsum_scores(q: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    """PyLate's colbert_scores without masks: the full 4-D tensor, then max and sum."""
    return torch.einsum("ash,bth->abst", q, d).max(dim=3).values.sum(dim=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--gpu-docs", type=int, default=100000)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(1, 32, 128, generator=g), dim=-1)
    d = torch.nn.functional.normalize(torch.randn(args.docs, 180, 128, generator=g), dim=-1)
    expected = einsum_scores(q, d)
    candidates = {
        "PyLate einsum (fp32)": lambda: einsum_scores(q, d),
        "sentence-transformers maxsim (fp32)": lambda: st_maxsim(q, d),
        "colbert-retrieval chunked (fp32, default)": lambda: colbert_scores(q, d),
        "colbert-retrieval chunked (bf16)": lambda: colbert_scores(q, d, compute_dtype=torch.bfloat16),
    }
    results = throughputs(candidates, args.docs, repeat=3)
    rows = [
        [name, "CPU", f"{rate:,.0f}", f"{ratio:.2f}x", f"{(candidates[name]() - expected).abs().max().item():.1e}"]
        for name, rate, ratio in results
    ]
    names, rates = [r[0] for r in results], [r[1] for r in results]
    if torch.cuda.is_available():
        dg = torch.nn.functional.normalize(torch.randn(args.gpu_docs, 180, 128, device="cuda"), dim=-1).bfloat16()
        qg = q.cuda()
        seconds = best_time(lambda: colbert_scores(qg, dg), repeat=5, sync=True)
        rows.append(
            [
                "colbert-retrieval chunked (bf16)",
                torch.cuda.get_device_name(0),
                f"{args.gpu_docs / seconds:,.0f}",
                "",
                "",
            ]
        )
        seconds = best_time(lambda: einsum_scores(qg.bfloat16(), dg[:20000]), repeat=5, sync=True)
        rows.append(
            ["PyLate einsum (bf16, 20k docs)", torch.cuda.get_device_name(0), f"{20000 / seconds:,.0f}", "", ""]
        )
    header = (
        f"Machine: {machine()}. One 32x128 query against {args.docs} documents of 180x128, "
        "best of 3 interleaved rounds after a warm-up; error = max |score - einsum fp32|.\n\n"
    )
    markdown = header + table(["implementation", "device", "docs/s", "vs einsum", "max error"], rows)
    print(markdown)
    write_result("maxsim", markdown)
    bar_plot(RESULTS / "maxsim.png", names, rates, "MaxSim throughput (CPU)", "documents / second")


if __name__ == "__main__":
    main()
