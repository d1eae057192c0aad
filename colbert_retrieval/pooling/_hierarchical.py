"""Ward token pooling: merge similar token vectors of a document to shrink its multi-vector.

Semantics follow PyLate >= 1.5: the first ``protected_tokens`` vectors (the ``[CLS]`` by default) are kept
unchanged and come first; the remaining ``n`` vectors are clustered with Ward hierarchical clustering on
cosine distances (``1 - <a, b>`` of the unit vectors) into ``max(n // pool_factor, 1)`` clusters; each
cluster becomes the mean of its vectors, not re-normalised.

Two paths give the same clusters (exact distance ties aside):

- ``method="batched"`` (default): many documents at once. On the CPU, SciPy's nearest-neighbour-chain Ward
  compiled with numba runs the documents in parallel threads (:mod:`._cpu`); on a GPU, all documents of a
  length group merge in lockstep (:mod:`._lockstep`). Clusters come in the order of their first token.
  Until the CPU kernels are loaded (a process's first second; after a fresh install, until a detached
  low-priority process has compiled them into numba's cache), calls of at most ``_cpu.NO_JIT_MAX_DOCS`` (512)
  documents take the lockstep path instead of waiting, until the process has pooled
  ``_cpu.SLOW_PATH_DOCS`` documents that way (then it compiles them itself, busy machine or not).
- ``method="scipy"``: one SciPy call per document (PyLate's algorithm; clusters in SciPy's label order).

Examples:
    >>> import torch
    >>> doc = torch.nn.functional.normalize(torch.randn(9, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    >>> [tuple(p.shape) for p in pool_embeddings_hierarchical([doc], pool_factor=2)]
    [(5, 4)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.errors import DimensionMismatchError, InvalidArgumentError
from colbert_retrieval.pooling import _cpu, _lockstep
from colbert_retrieval.pooling._reference import pool_reference

__all__ = ["METHODS", "compile_cpu_kernels", "pool_embeddings_hierarchical", "pooled_length"]

#: ``batched``: many documents at once on their device (default); ``scipy``: one SciPy call per document.
METHODS = ("batched", "scipy")
#: Most documents per call of the compiled CPU path (bounds its typed list and output array).
CPU_GROUP_DOCS = 4096
#: Longest run of vectors clustered together. Ward needs an ``n x n`` float64 matrix, so a 66k-token
#: document would need 35 GB; longer documents are pooled block by block (4,096 vectors: 128 MiB per block).
MAX_BLOCK_TOKENS = 4096


def compiled_cpu_kernels() -> bool:
    """Whether the compiled CPU path (numba) is available; without it the CPU runs the torch lockstep path.

    Examples:
        >>> isinstance(compiled_cpu_kernels(), bool)
        True
    """
    return _cpu.AVAILABLE


def compile_cpu_kernels(wait: bool = True) -> bool:
    """Compile (or load from numba's on-disk cache) the CPU pooling kernels; encoders start this at load.

    Args:
        wait: block until they are ready (benchmarks do, before timing). False loads a warm cache in a
            background thread and otherwise does nothing: with a cold cache, the first pooling call starts
            the detached compiler (loading a model never starts a process).

    Returns:
        Whether the kernels are ready (False without numba: the torch path is used).

    Examples:
        >>> compile_cpu_kernels() == compiled_cpu_kernels()
        True
    """
    return _cpu.warm_up(wait=wait, start_compiler=False)


def _use_compiled(device: torch.device, n_docs: int) -> bool:
    return device.type == "cpu" and _cpu.use_compiled(n_docs)


def check_pool_factor(pool_factor: int) -> int:
    """``pool_factor`` as an int, or :class:`InvalidArgumentError` unless it is an integer >= 1.

    Examples:
        >>> check_pool_factor(2)
        2
    """
    return positive_int(pool_factor, "pool_factor", " (1 disables pooling)")


def check_pooling_arguments(pool_factor: int, protected_tokens: int) -> None:
    """Raise :class:`InvalidArgumentError` unless ``pool_factor`` is an integer >= 1 and ``protected_tokens`` >= 0.

    Examples:
        >>> check_pooling_arguments(2, 1)
    """
    check_pool_factor(pool_factor)
    positive_int(protected_tokens, "protected_tokens", minimum=0)


def pooled_length(n_tokens: int, pool_factor: int, protected_tokens: int = 1) -> int:
    """Number of vectors a document of ``n_tokens`` vectors has after pooling.

    Args:
        n_tokens: vectors before pooling.
        pool_factor: the pooling factor (1 = no pooling).
        protected_tokens: leading vectors kept as they are.

    Returns:
        The pooled count.

    Examples:
        >>> pooled_length(180, 2)
        90
    """
    protected = min(protected_tokens, n_tokens)
    rest = n_tokens - protected
    if pool_factor <= 1 or rest == 0:
        return n_tokens
    blocks = [min(MAX_BLOCK_TOKENS, rest - start) for start in range(0, rest, MAX_BLOCK_TOKENS)]
    return protected + sum(min(max(block // pool_factor, 1), block) for block in blocks)


def length_groups(lengths: Sequence[int], budget_bytes: int, max_docs: int) -> list[list[int]]:
    """Split documents into groups of similar length that fit a memory budget.

    Documents are taken shortest first; a group grows while ``len(group) * n_max**2 * 24`` bytes fit in
    ``budget_bytes`` (the lockstep path's ``n x n`` matrices) and it has fewer than ``max_docs`` documents.
    A document too long for the budget on its own gets a group of its own.

    Args:
        lengths: vectors per document.
        budget_bytes: memory for one group.
        max_docs: most documents per group.

    Returns:
        Lists of positions into ``lengths``; every position appears once.

    Examples:
        >>> length_groups([180, 10, 180, 12], budget_bytes=2 * 180 * 180 * 24, max_docs=8)
        [[1, 3], [0, 2]]
    """
    groups: list[list[int]] = []
    current: list[int] = []
    for position in sorted(range(len(lengths)), key=lambda p: lengths[p]):
        pairs = lengths[position] ** 2 * _lockstep.BYTES_PER_PAIR
        if current and ((len(current) + 1) * pairs > budget_bytes or len(current) >= max_docs):
            groups.append(current)
            current = []
        current.append(position)
    if current:
        groups.append(current)
    return groups


def _pool_group_cpu(group: list[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    arrays = [np.ascontiguousarray(e.detach().float().numpy()) for e in group]
    vectors, sizes = _cpu.pool_batch(arrays, pool_factor, protected_tokens)
    pooled = torch.from_numpy(vectors).split(sizes.tolist())
    return [p if e.dtype == torch.float32 else p.to(e.dtype) for p, e in zip(pooled, group)]


def _pool_batched(documents_embeddings: Sequence[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    results: list[Tensor | None] = [None] * len(documents_embeddings)
    by_device: dict[torch.device, list[int]] = {}
    for position, embedding in enumerate(documents_embeddings):
        rest = embedding.shape[0] - protected_tokens
        if rest <= 1 or max(rest // pool_factor, 1) >= rest:
            results[position] = embedding
        else:
            by_device.setdefault(embedding.device, []).append(position)
    for device, positions in by_device.items():
        compiled = _use_compiled(device, len(positions))
        budget = 2**62 if compiled else _lockstep.lockstep_budget(device)
        max_docs = CPU_GROUP_DOCS if compiled else len(positions)
        lengths = [documents_embeddings[p].shape[0] - protected_tokens for p in positions]
        pool = _pool_group_cpu if compiled else _lockstep.pool_group
        for group in length_groups(lengths, budget, max_docs):
            chosen = [positions[g] for g in group]
            pooled = pool([documents_embeddings[p] for p in chosen], pool_factor, protected_tokens)
            for p, tensor in zip(chosen, pooled):
                results[p] = tensor
    return [r for r in results if r is not None]


def pool_embeddings_hierarchical(
    documents_embeddings: Sequence[Tensor],
    pool_factor: int = 1,
    protected_tokens: int = 1,
    *,
    method: str = "batched",
) -> list[Tensor]:
    """Pool each document's token vectors with Ward hierarchical clustering.

    Args:
        documents_embeddings: list of ``(n_i, dim)`` tensors of unit vectors (CPU or GPU).
        pool_factor: keep about ``1 / pool_factor`` of the non-protected vectors; 1 disables pooling.
        protected_tokens: leading vectors of each document kept unchanged.
        method: ``"batched"`` (many documents at once, on the vectors' device) or ``"scipy"`` (reference,
            one SciPy call per document). ``"torch"`` is a deprecated alias of ``"batched"``.

    Returns:
        list of ``(m_i, dim)`` tensors on each input's device and dtype. A document longer than
        :data:`MAX_BLOCK_TOKENS` vectors is pooled in consecutive blocks of that many (Ward's memory is
        quadratic), so its pooled length is the sum over the blocks (:func:`pooled_length` counts the same).

    Raises:
        InvalidArgumentError: ``pool_factor`` not an integer >= 1, ``protected_tokens`` < 0 or an unknown
            method.
        DimensionMismatchError: the documents are not 2-D matrices of one vector size.

    Examples:
        >>> import torch
        >>> doc = torch.eye(3)
        >>> pool_embeddings_hierarchical([doc], pool_factor=1)[0] is doc
        True
    """
    check_pooling_arguments(pool_factor, protected_tokens)
    if method not in METHODS:
        msg = f"Unknown pooling method {method!r}; use one of {METHODS}."
        raise InvalidArgumentError(msg)
    if pool_factor == 1:
        return list(documents_embeddings)
    sizes = {tuple(e.shape[1:]) for e in documents_embeddings}
    if len(sizes) > 1 or any(len(size) != 1 for size in sizes):
        msg = f"Pool (n_i, dim) matrices of one vector size; got shapes {sorted(sizes)} after the first axis."
        raise DimensionMismatchError(msg)
    pool = pool_reference if method == "scipy" else _pool_batched
    return _pool_in_blocks(pool, list(documents_embeddings), int(pool_factor), protected_tokens)


def _pool_in_blocks(pool: Any, documents: list[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    """``pool`` every document; one longer than :data:`MAX_BLOCK_TOKENS` vectors block by block (bounded memory)."""
    heads, tails = list(documents), []
    for index, embedding in enumerate(documents):
        first_end = protected_tokens + MAX_BLOCK_TOKENS
        if embedding.shape[0] > first_end:
            heads[index] = embedding[:first_end]
            tails += [
                (index, embedding[s : s + MAX_BLOCK_TOKENS])
                for s in range(first_end, embedding.shape[0], MAX_BLOCK_TOKENS)
            ]
    pooled = pool(heads, pool_factor, protected_tokens)
    if tails:
        pooled_tails = pool([block for _, block in tails], pool_factor, 0)
        for (index, _), block in zip(tails, pooled_tails):
            pooled[index] = torch.cat([pooled[index], block])
    return pooled
