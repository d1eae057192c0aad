"""Bringing embeddings to one padded batch and its mask: ragged lists, single matrices, padded arrays.

Examples:
    >>> import numpy as np
    >>> padded, mask = pad_embeddings([np.ones((2, 3)), np.ones((1, 3))])
    >>> mask.tolist()
    [[True, True], [True, False]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval.errors import DimensionMismatchError, EmptyInputError

__all__ = ["ArrayLike", "Embeddings", "as_tensor", "mask_from_padded", "pad_embeddings", "to_padded"]

ArrayLike = Tensor | np.ndarray
Embeddings = ArrayLike | Sequence[ArrayLike]


def as_tensor(array: ArrayLike) -> Tensor:
    """A float tensor view of an array or tensor (integer input becomes float32)."""
    tensor = array if isinstance(array, Tensor) else torch.from_numpy(np.asarray(array))
    if not tensor.is_floating_point():
        tensor = tensor.float()
    return tensor


def pad_embeddings(embeddings: Sequence[ArrayLike]) -> tuple[Tensor, Tensor]:
    """Pad a ragged list of ``(n_i, dim)`` matrices into one batch and its mask.

    Args:
        embeddings: ``list`` of ``(n_i, dim)`` float arrays or tensors (``n_i`` may be 0).

    Returns:
        A ``(batch, max_n, dim)`` tensor, zero-padded, and a ``(batch, max_n)`` bool mask that is True on
        real vectors.

    Raises:
        EmptyInputError: The list is empty.
        DimensionMismatchError: The matrices do not share one dimension, or one is not 2-D.

    Examples:
        >>> import numpy as np
        >>> padded, mask = pad_embeddings([np.ones((2, 3)), np.ones((1, 3))])
        >>> tuple(padded.shape), mask.tolist()
        ((2, 2, 3), [[True, True], [True, False]])
    """
    if len(embeddings) == 0:
        msg = "Cannot pad an empty list of embeddings: pass at least one (n_tokens, dim) matrix."
        raise EmptyInputError(msg)
    tensors = [as_tensor(e) for e in embeddings]
    for index, tensor in enumerate(tensors):
        if tensor.ndim != 2:
            msg = f"Embedding {index} has shape {tuple(tensor.shape)}; expected a 2-D (n_tokens, dim) matrix."
            raise DimensionMismatchError(msg)
    dims = {t.shape[1] for t in tensors}
    if len(dims) > 1:
        msg = f"Embeddings have different dimensions {sorted(dims)}; encode them all with the same model."
        raise DimensionMismatchError(msg)
    dtype = torch.promote_types(tensors[0].dtype, torch.float32) if len({t.dtype for t in tensors}) > 1 else None
    if dtype is not None:
        tensors = [t.to(dtype) for t in tensors]
    lengths = torch.tensor([t.shape[0] for t in tensors])
    padded = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True, padding_value=0.0)
    if padded.shape[1] == 0:
        padded = padded.new_zeros((len(tensors), 0, dims.pop()))
    mask = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
    return padded, mask.to(padded.device)


def mask_from_padded(embeddings: ArrayLike) -> Tensor:
    """Recover the mask of a zero-padded ``(batch, n, dim)`` array returned by ``encode(padding=True)``.

    Real token vectors are L2-normalised, so they are never all zeros; padding rows are exactly zero.

    Args:
        embeddings: ``(batch, n, dim)`` array or tensor.

    Returns:
        ``(batch, n)`` bool tensor, True on real token vectors.

    Examples:
        >>> import numpy as np
        >>> mask_from_padded(np.array([[[1.0, 0.0], [0.0, 0.0]]])).tolist()
        [[True, False]]
    """
    tensor = as_tensor(embeddings)
    return tensor.ne(0).any(dim=-1)


def to_padded(embeddings: Embeddings, mask: ArrayLike | None = None) -> tuple[Tensor, Tensor]:
    """Bring any accepted embeddings form to a padded batch and its mask.

    Args:
        embeddings: a ragged list of ``(n_i, dim)`` matrices, one ``(n, dim)`` matrix (a batch of one), or a
            padded ``(batch, n, dim)`` array.
        mask: optional ``(batch, n)`` mask, True on real vectors: for a padded array (without it, all-zero rows
            count as padding), or for the padded form of a list (combined with the list's own lengths).

    Returns:
        ``(batch, n, dim)`` tensor and ``(batch, n)`` bool mask.

    Examples:
        >>> import numpy as np
        >>> padded, mask = to_padded(np.ones((4, 8)))
        >>> tuple(padded.shape), tuple(mask.shape)
        ((1, 4, 8), (1, 4))
    """
    if isinstance(embeddings, (Tensor, np.ndarray)):
        tensor = as_tensor(embeddings)
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        if tensor.ndim != 3:
            msg = f"Expected (n_tokens, dim) or (batch, n_tokens, dim) embeddings, got shape {tuple(tensor.shape)}."
            raise DimensionMismatchError(msg)
        if mask is None:
            return tensor, mask_from_padded(tensor)
        return tensor, _checked_mask(mask, tensor)
    tensor, lengths_mask = pad_embeddings(list(embeddings))
    if mask is None:
        return tensor, lengths_mask
    return tensor, _checked_mask(mask, tensor) & lengths_mask


def _checked_mask(mask: ArrayLike, tensor: Tensor) -> Tensor:
    """``mask`` as a bool tensor on ``tensor``'s device, or DimensionMismatchError unless it is ``(batch, n)``."""
    mask_tensor = as_tensor(mask).bool().to(tensor.device)
    if mask_tensor.ndim == 1:
        mask_tensor = mask_tensor.unsqueeze(0)
    if tuple(mask_tensor.shape) != tuple(tensor.shape[:2]):
        msg = f"Mask shape {tuple(mask_tensor.shape)} does not match embeddings {tuple(tensor.shape[:2])}."
        raise DimensionMismatchError(msg)
    return mask_tensor
