"""Quantisation of token vectors for ``encode(precision=...)``.

Calibration (how floats map to integers):

* ``int8`` / ``uint8``: unit-norm token vectors (``normalize_embeddings=True``, the default) have every
  component in ``[-1, 1]``, so a fixed range ``[-1, 1]`` is used per dimension: ``int8`` is
  ``round(x * 127)`` and ``uint8`` is ``round((x + 1) * 127.5)``. The mapping does not depend on the
  batch, so queries and documents encoded in different calls are quantised identically. For
  un-normalised vectors the range is the per-dimension minimum and maximum over all token vectors of the
  call (sentence-transformers' calibration rule), so vectors from different calls are not comparable.
* ``binary`` / ``ubinary``: one bit per dimension (``x > 0``), packed 8 to a byte with
  :func:`numpy.packbits`; ``ubinary`` is the packed ``uint8``, ``binary`` the same bytes minus 128 as
  ``int8`` (sentence-transformers' convention). A ``dim``-d vector becomes ``ceil(dim / 8)`` bytes.

Examples:
    >>> import numpy as np
    >>> quantize([np.array([[1.0, -1.0, 0.0]], dtype=np.float32)], "int8")[0].tolist()
    [[127, -127, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from colbert_retrieval._inputs import member

__all__ = ["Precision", "quantize"]


class Precision(str, Enum):
    """Output precisions accepted by ``encode``."""

    FLOAT32 = "float32"
    INT8 = "int8"
    UINT8 = "uint8"
    BINARY = "binary"
    UBINARY = "ubinary"

    @classmethod
    def parse(cls, value: str | Precision) -> Precision:
        """The precision named ``value``, or :class:`InvalidArgumentError` listing the allowed names.

        Examples:
            >>> Precision.parse("int8")
            <Precision.INT8: 'int8'>
        """
        return member(cls, value, "precision")


def _ranges(stacked: np.ndarray, unit_norm: bool) -> tuple[np.ndarray, np.ndarray]:
    if unit_norm or stacked.size == 0:
        dim = stacked.shape[-1]
        return np.full(dim, -1.0, dtype=np.float32), np.full(dim, 1.0, dtype=np.float32)
    return stacked.min(axis=0), stacked.max(axis=0)


def quantize(
    embeddings: Sequence[np.ndarray],
    precision: str | Precision,
    *,
    unit_norm: bool = True,
) -> list[np.ndarray]:
    """Quantise a list of ``(n_i, dim)`` float32 matrices.

    Args:
        embeddings: token vectors per input.
        precision: one of ``float32``, ``int8``, ``uint8``, ``binary``, ``ubinary``.
        unit_norm: the vectors are L2-normalised (fixed ``[-1, 1]`` calibration); otherwise the range comes
            from the vectors themselves.

    Returns:
        list of arrays: ``(n_i, dim)`` int8/uint8, or ``(n_i, ceil(dim / 8))`` for the binary precisions.

    Raises:
        InvalidArgumentError: an unknown precision.

    Examples:
        >>> import numpy as np
        >>> quantize([np.array([[0.5, -0.5, 0.1, 0, 0, 0, 0, 0.2]], dtype=np.float32)], "ubinary")[0].tolist()
        [[161]]
    """
    precision = Precision.parse(precision)
    if precision is Precision.FLOAT32:
        return [np.asarray(e, dtype=np.float32) for e in embeddings]
    if precision in (Precision.BINARY, Precision.UBINARY):
        packed = [np.packbits(np.asarray(e) > 0, axis=-1) for e in embeddings]
        if precision is Precision.BINARY:
            return [(p.astype(np.int16) - 128).astype(np.int8) for p in packed]
        return packed
    arrays = [np.asarray(e, dtype=np.float32) for e in embeddings]
    dim = arrays[0].shape[-1] if arrays else 0
    stacked = np.concatenate(arrays, axis=0) if arrays else np.zeros((0, dim), dtype=np.float32)
    low, high = _ranges(stacked, unit_norm)
    span = np.where(high > low, high - low, 1.0).astype(np.float32)
    out: list[np.ndarray] = []
    for array in arrays:
        scaled = (array - low) / span  # in [0, 1]
        if precision is Precision.UINT8:
            out.append(np.clip(np.rint(scaled * 255.0), 0, 255).astype(np.uint8))
        else:
            out.append(np.clip(np.rint(scaled * 254.0 - 127.0), -127, 127).astype(np.int8))
    return out
