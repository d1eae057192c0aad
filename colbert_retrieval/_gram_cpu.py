"""Cosine distances of a document's vectors on the CPU, bit-equal to the reference's ``torch.mm``.

The reference pooling computes ``1 - x @ x.T`` with one float32 ``torch.mm`` per document, and Ward
clustering is sensitive to the last bit of a near-tie, so the fast paths reproduce those exact values:

- :func:`fill_distances` (fused path): x86 BLAS kernels accumulate each dot product of ColBERT-sized vectors
  (up to 192 components with MKL here; longer ones are split into blocks) as one chain of fused
  multiply-adds in component order; this compiled kernel does the same, register-tiled (4 rows x 32
  columns of accumulators, upper triangle only), and writes the float64 matrix the Ward step reads.
  :func:`exact_kernel_ready` compiles it and checks, once per process and vector size, that it is
  bit-equal to ``torch.mm`` on this machine; it must run before the first call. Documents shorter than
  :data:`MIN_FUSED_LENGTH` are left out (``torch.mm`` takes another code path for them).
- :func:`reference_distances` (everything else): the reference's own ``torch.mm`` call, per document,
  turned into the Ward step's matrix by :func:`colbert_retrieval._ward_cpu.fill_from_matrix`.

The tile kernel is generated from a template (its accumulators must be scalar locals to stay in
registers) and compiled with LLVM's SLP vectoriser, which numba leaves off by default; it is switched on
for this one kernel's compilation, under numba's compiler lock. Compiled code is cached on disk.

Examples:
    >>> import numpy as np
    >>> isinstance(exact_kernel_ready(3), bool)  # compiles the kernel first: always call this before it
    True
    >>> d = np.empty((3, 3))
    >>> fill_distances(np.eye(3, dtype=np.float32), d)
    >>> d.tolist()
    [[inf, 1.0, 1.0], [1.0, inf, 1.0], [1.0, 1.0, inf]]
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np
import torch

from colbert_retrieval._ward_cpu import AVAILABLE, numba

__all__ = ["MIN_FUSED_LENGTH", "exact_kernel_ready", "fill_distances", "reference_distances"]

logger = logging.getLogger(__name__)

_ROWS = 4
_COLS = 32


def _tile_source(rows: int, cols: int) -> str:
    """Source of ``tile``: ``out = xp[i0:i0+rows] @ xt[:, j0:j0+cols]``, one FMA chain per entry."""
    lines = ["def tile(xp, xt, i0, j0, depth, out):"]
    lines += [f"    c{r}_{c} = np.float32(0.0)" for r in range(rows) for c in range(cols)]
    lines.append("    for k in range(depth):")
    lines.append(f"        b = xt[k, j0 : j0 + {cols}]")
    lines += [f"        a{r} = xp[i0 + {r}, k]" for r in range(rows)]
    lines += [f"        c{r}_{c} += a{r} * b[{c}]" for r in range(rows) for c in range(cols)]
    lines += [f"    out[{r}, {c}] = c{r}_{c}" for r in range(rows) for c in range(cols)]
    return "\n".join(lines)


def _fill_distances(x: np.ndarray, d: np.ndarray) -> None:  # pragma: no cover - compiled
    """``d[i, j] = float64(1 - <x_i, x_j>)`` (float32 arithmetic), symmetric, inf diagonal."""
    n, depth = x.shape
    cols = (n + _COLS - 1) // _COLS * _COLS
    rows = (n + _ROWS - 1) // _ROWS * _ROWS
    xt = np.zeros((depth, cols), dtype=np.float32)
    xp = np.zeros((rows, depth), dtype=np.float32)
    for i in range(n):
        for k in range(depth):
            xt[k, i] = x[i, k]
            xp[i, k] = x[i, k]
    block = np.empty((_ROWS, _COLS), dtype=np.float32)
    one = np.float32(1.0)
    for i0 in range(0, n, _ROWS):
        for j0 in range((i0 // _COLS) * _COLS, cols, _COLS):
            _tile(xp, xt, i0, j0, depth, block)
            for r in range(_ROWS):
                i = i0 + r
                for c in range(_COLS):
                    j = j0 + c
                    if i < j < n:
                        value = np.float64(one - block[r, c])
                        d[i, j] = value
                        d[j, i] = value
    for i in range(n):
        d[i, i] = np.inf


if AVAILABLE:
    _namespace = {"np": np}
    exec(_tile_source(_ROWS, _COLS), _namespace)
    _tile = numba.njit(fastmath={"contract"}, nogil=True, inline="always", error_model="numpy")(_namespace["tile"])
    # fastmath "contract" only fuses a * b + c into one FMA (no reassociation): the BLAS's arithmetic.
    fill_distances = numba.njit(fastmath={"contract"}, nogil=True, cache=True, error_model="numpy")(_fill_distances)
else:  # pragma: no cover
    fill_distances = _fill_distances


def reference_distances(rest: np.ndarray) -> np.ndarray:
    """``1 - rest @ rest.T`` in float32 through ``torch.mm``, exactly as the reference pooling computes it.

    Args:
        rest: ``(n, dim)`` float32 vectors.

    Returns:
        ``(n, n)`` float32 distances.
    """
    tensor = torch.from_numpy(rest)
    return 1 - torch.mm(tensor, tensor.t()).numpy()


@contextlib.contextmanager
def _slp_vectorizer() -> Iterator[None]:
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock

    with global_compiler_lock:
        saved = config.SLP_VECTORIZE
        config.SLP_VECTORIZE = 1
        try:
            yield
        finally:
            config.SLP_VECTORIZE = saved


#: Documents with fewer vectors to cluster go through :func:`reference_distances`.
MIN_FUSED_LENGTH = 12


def _matches_torch(dim: int) -> bool:
    rng = np.random.default_rng(dim)
    for n in (MIN_FUSED_LENGTH, 13, 37, 100, 179, 300, 700):
        x = rng.standard_normal((n, dim)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        expected = reference_distances(x).astype(np.float64)
        got = np.empty((n, n), dtype=np.float64)
        fill_distances(x, got)
        upper = np.triu_indices(n, k=1)
        if not np.array_equal(got[upper], expected[upper]):
            return False
    return True


_COMPILED: bool | None = None
_READY: dict[int, bool] = {}


def _compile() -> bool:
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = False
        if AVAILABLE:
            try:
                with _slp_vectorizer():
                    fill_distances.compile((numba.float32[:, ::1], numba.float64[:, ::1]))
                fill_distances.disable_compile()  # never a second variant compiled without the check
                _COMPILED = True
            except Exception as error:  # any failure means: use the reference distances
                logger.warning("Fused CPU distance kernel unavailable (%s); using torch.mm.", error)
    return _COMPILED


def exact_kernel_ready(dim: int) -> bool:
    """Compile :func:`fill_distances` (once) and check it is bit-equal to ``torch.mm`` here for ``dim``.

    Args:
        dim: the vector size.

    Returns:
        True when the fused path gives the reference's distances for vectors of this size on this machine.
    """
    if dim not in _READY:
        _READY[dim] = _compile() and _matches_torch(dim)
        if _COMPILED and not _READY[dim]:
            logger.info("Fused CPU distances differ from torch.mm for %d-d vectors here; using torch.mm.", dim)
    return _READY[dim]
