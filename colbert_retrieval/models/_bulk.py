"""Bulk document encoding on the fastest safe CPU path: OpenVINO static int8, checked on the user's documents.

Ingest time is what a CPU user pays. On the developers' CPU (AVX-512 BF16, 2 cores) OpenVINO's statically
quantised int8 transformer encodes NFCorpus documents about 3.5x faster than torch float32 (bf16 autocast:
2.0x), with nDCG@10 within 0.002 (docs/benchmarks/encode.md). Static quantisation needs activation ranges
from real inputs, and an int8 model is only as good as the documents it was calibrated on, so with
``inference_precision="auto"`` (the default) a model on the CPU decides once, at its first document call of at
least :data:`MIN_TEXTS` texts (an ingest):

1. **Calibrate** OpenVINO's int8 model (NNCF post-training quantisation) on up to :data:`CALIBRATION_TEXTS`
   of that call's documents, spread over the call (32, 64 and 128 documents gave the same agreement on
   NFCorpus; 64 takes about 11 s for the default model on 2 cores). The export is written once per weights
   (see :mod:`colbert_retrieval.models._exported_runtimes`) and reused by later processes: the first ingest of a model
   on a machine pays about 15 s once, later ones only the check (about 2.5 s).
2. **Check** it on up to :data:`CHECK_TEXTS` other documents of the call: each is encoded in float32 torch
   and in int8; pseudo-queries (a span of words from each checked document) rank the checked documents by
   MaxSim under both, and the int8 path is kept only when the rankings agree (:class:`Agreement`: mean top-5
   overlap >= :data:`MIN_OVERLAP` and mean absolute score change <= :data:`MAX_DEVIATION` of the per-query
   score spread). Measured on NFCorpus: calibrated int8 overlaps 0.93-0.96 with deviation 0.03; a badly
   calibrated model (one calibration word) overlaps 0.58-0.64 with deviation 0.66-0.76.
3. **Fall back**, saying why, where anything fails: OpenVINO or NNCF not installed (the default path, bf16
   autocast or float32; ``colbert-retrieval info --hardware`` says what would be faster and how to get it), a
   failed export or calibration or call (one warning), rankings that disagree (one warning).

Smaller calls before the decision take the default path; so do queries (their own short path), explicit
``inference_precision`` values, other backends, GPUs, models whose weights changed since the export or since
they were built (an optimiser stepped), and models whose runtime holds it (``model.runtime.hold_bulk``:
fine-tuning evaluates every checkpoint on the same path).

Examples:
    >>> import torch
    >>> reference = torch.tensor([[3.0, 2.0, 1.0, 0.5, 0.2, 0.1]])
    >>> agreement(reference, reference + 0.01).passes
    True
    >>> agreement(reference, reference.flip(-1)).passes
    False
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

import torch

__all__ = [
    "Agreement",
    "BulkPath",
    "CALIBRATION_TEXTS",
    "CHECK_TEXTS",
    "MAX_DEVIATION",
    "MIN_OVERLAP",
    "MIN_TEXTS",
    "agreement",
    "bulk_unavailable",
    "pseudo_queries",
    "spread",
]

#: Documents a call must hold for the model to calibrate on it (smaller calls take the default path).
MIN_TEXTS = 128
#: Documents the int8 model is calibrated on (spread over the call).
CALIBRATION_TEXTS = 64
#: Documents the rankings are checked on (others than the calibration ones where the call has enough).
CHECK_TEXTS = 32
#: The least mean top-5 overlap of the int8 rankings with float32's.
MIN_OVERLAP = 0.85
#: The most mean absolute MaxSim change, as a share of each query's score spread (standard deviation).
MAX_DEVIATION = 0.15
_TOP = 5


@dataclass(frozen=True)
class BulkPath:
    """What bulk document calls run on: the runtime and precision, and why (or why not)."""

    runtime: str
    precision: str
    reason: str

    def __str__(self) -> str:
        return f"{self.runtime} {self.precision} ({self.reason})"


@dataclass(frozen=True)
class Agreement:
    """How closely a candidate path's MaxSim rankings follow float32's on the checked documents."""

    overlap: float
    deviation: float

    @property
    def passes(self) -> bool:
        """Whether the candidate may encode the user's documents."""
        return self.overlap >= MIN_OVERLAP and self.deviation <= MAX_DEVIATION

    def __str__(self) -> str:
        return f"top-{_TOP} overlap {self.overlap:.2f}, score change {self.deviation:.3f} of the spread"


def agreement(reference: torch.Tensor, candidate: torch.Tensor) -> Agreement:
    """Compare two ``(queries, documents)`` MaxSim score matrices of the same queries and documents.

    Examples:
        >>> scores = torch.tensor([[1.0, 0.5, 0.2], [0.1, 0.9, 0.3]])
        >>> str(agreement(scores, scores))
        'top-5 overlap 1.00, score change 0.000 of the spread'
    """
    k = min(_TOP, reference.shape[1])
    top_reference = reference.topk(k, dim=1).indices.tolist()
    top_candidate = candidate.topk(k, dim=1).indices.tolist()
    overlap = sum(len(set(a) & set(b)) for a, b in zip(top_reference, top_candidate)) / (k * len(top_reference))
    scale = reference.std(dim=1).clamp_min(1e-6)
    deviation = ((reference - candidate).abs().mean(dim=1) / scale).mean().item()
    return Agreement(round(overlap, 4), round(deviation, 4))


def pseudo_queries(texts: list[str], words: int = 8) -> list[str]:
    """A query-sized span of words from the middle of each text (what the rankings are checked with).

    Examples:
        >>> pseudo_queries(["one two three four five six"], words=2)
        ['three four']
    """
    out = []
    for text in texts:
        tokens = text.split()
        start = max(0, len(tokens) // 2 - words // 2)
        out.append(" ".join(tokens[start : start + words]) or text[:64])
    return out


def spread(count: int, total: int, skip: int = 0) -> list[int]:
    """``count`` positions spread evenly over ``range(total)``, starting ``skip`` into each step.

    Examples:
        >>> spread(3, 9), spread(3, 9, skip=1), spread(5, 3)
        ([0, 3, 6], [1, 4, 7], [0, 1, 2])
    """
    if count >= total:
        return list(range(total))
    step = total / count
    return sorted({min(total - 1, int(i * step) + skip) for i in range(count)})


@functools.cache  # the installation and the CPU do not change
def bulk_unavailable() -> str | None:
    """Why this machine cannot run the int8 bulk path (None: it can).

    Examples:
        >>> bulk_unavailable() is None or "openvino" in bulk_unavailable()
        True
    """
    missing = [name for name in ("openvino", "nncf") if importlib.util.find_spec(name) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (pip install 'colbert-retrieval[openvino]')"
    try:
        import openvino

        capabilities = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception as error:  # a broken OpenVINO install must not fail encoding
        return f"openvino could not open the CPU ({type(error).__name__}: {error})"
    if "INT8" not in capabilities:
        return "openvino has no int8 kernels for this CPU"
    return None
