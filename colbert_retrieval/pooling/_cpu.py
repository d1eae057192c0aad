"""Batched token pooling on the CPU: documents in parallel Python threads over a compiled ``nogil`` kernel.

For each document: its cosine distances (:func:`~colbert_retrieval.pooling._ward.cosine_distances`), SciPy's
Ward nearest-neighbour chain and the float32 cluster means (:mod:`colbert_retrieval.pooling._ward`). The
documents are read where they are (a numba typed list of views), and the pooled vectors of the whole batch
come back as one array. Thread ``t`` of ``T`` takes documents ``t, t + T, ...`` (the kernel releases the GIL),
so no ``parallel=True`` kernel has to be compiled: a cold start compiles in about 3 s instead of 10 s.

:func:`warm_up` (started when an encoder is built) loads the kernels from numba's on-disk cache in a
background thread; when that cache is cold (a fresh install), the first pooling call starts a detached
low-priority process that compiles them (:mod:`._cache`), and this process never waits for it. Until the
kernels are loaded, :func:`ready` is False and callers pool small inputs with the torch path instead
(:func:`use_compiled`). An idle-priority process gets no CPU on a machine whose cores are busy, so the fast
kernels must not depend on it: once this process has pooled :data:`SLOW_PATH_DOCS` documents on the torch
path, it stops its own compiler and compiles here.

Examples:
    >>> import numpy as np
    >>> docs = [np.eye(5, 4, dtype=np.float32)[[0, 1, 1, 2, 2]]]
    >>> vectors, sizes = pool_batch(docs, pool_factor=2, protected=1)
    >>> sizes.tolist(), vectors.tolist()
    ([3], [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from colbert_retrieval.pooling import _cache
from colbert_retrieval.pooling._ward import AVAILABLE, cluster_means, cosine_distances, nn_chain_labels, numba

__all__ = ["AVAILABLE", "SLOW_PATH_DOCS", "fill_disk_cache", "pool_batch", "ready", "use_compiled", "warm_up"]

#: While the kernels are not loaded, a call with more documents than this loads or compiles them and waits.
NO_JIT_MAX_DOCS = 512
#: Documents this process may pool on the torch path (about 1 ms more each than the kernels on 2 cores) before
#: it compiles the kernels itself (about 8 s of one core) instead of waiting for the detached compiler, which a
#: busy machine may never schedule: the break-even of the two costs.
SLOW_PATH_DOCS = 8192

TypedList = Any  # numba.typed.List of C-contiguous float32 (n_i, dim) arrays


def _pool_documents(  # pragma: no cover - compiled
    docs: TypedList, protected: int, n_clusters: np.ndarray, offsets: np.ndarray, out: np.ndarray, first: int, step: int
) -> None:
    """Pool documents ``first, first + step, ...`` of ``docs`` into their rows of ``out``."""
    for b in range(first, len(docs), step):
        doc = docs[np.int64(b)]
        start = offsets[b]
        out[start : start + protected] = doc[:protected]
        rest = doc[protected:]
        n = rest.shape[0]
        distances = np.empty((n, n), dtype=np.float64)
        cosine_distances(rest, distances)
        labels = np.empty(n, dtype=np.int64)
        nn_chain_labels(distances, n_clusters[b], labels)
        first_row = start + protected
        cluster_means(rest, labels, out[first_row : first_row + n_clusters[b]])


if AVAILABLE:
    _pool_documents = numba.njit(cache=True, nogil=True, error_model="numpy")(_pool_documents)

_THREADS: ThreadPoolExecutor | None = None
_THREADS_LOCK = threading.Lock()
_READY = threading.Event()
_WARMING: threading.Thread | None = None
_DISK = _cache.DiskCache(_pool_documents)
_SLOW_DOCS = 0  # documents pooled on the torch path while the kernels were not loaded


def _thread_count() -> int:
    configured = os.environ.get("NUMBA_NUM_THREADS")
    if configured and configured.isdigit():
        return max(int(configured), 1)
    return max(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 1)


def _executor() -> ThreadPoolExecutor:
    global _THREADS
    with _THREADS_LOCK:
        if _THREADS is None:
            _THREADS = ThreadPoolExecutor(_thread_count(), thread_name_prefix="colbert-pooling")
        return _THREADS


def _compile(background: bool) -> None:
    if background and hasattr(os, "setpriority"):  # Linux: a thread's own priority; the encoder's threads go first
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    docs = [np.eye(4, 3, dtype=np.float32)[[0, 1, 1, 2]]]
    pool_batch(docs, pool_factor=2, protected=1)
    _READY.set()


def warm_up(wait: bool = False, start_compiler: bool = True) -> bool:
    """Load the kernels (from numba's cache, or compile them) in a background thread, once per process.

    With a cold cache and ``wait=False``, a detached compiler process fills the cache instead and this
    process loads the kernels once it is warm (later calls look again); ``wait=True`` compiles here.

    Args:
        wait: block until they are ready.
        start_compiler: with a cold cache and ``wait=False``, start the detached compiler (False: do nothing
            now; the first pooling call starts it, so loading a model never starts a process).

    Returns:
        Whether the kernels are ready now (always False without numba).
    """
    if not AVAILABLE:
        return False
    thread = _loader(wait, start_compiler)
    if thread is not None and wait:
        thread.join()
    return _READY.is_set()


def use_compiled(n_docs: int) -> bool:
    """Whether to pool ``n_docs`` documents with the kernels now (loading or compiling them first if worth it).

    Ready kernels: yes. Otherwise a large call (more than :data:`NO_JIT_MAX_DOCS`), or a call that brings this
    process's documents pooled on the torch path past :data:`SLOW_PATH_DOCS`, loads or compiles them here and
    waits; smaller calls take the torch path.

    Examples:
        >>> isinstance(use_compiled(1), bool)
        True
    """
    global _SLOW_DOCS
    if not AVAILABLE:
        return False
    if ready():
        return True
    with _THREADS_LOCK:
        _SLOW_DOCS += n_docs
        slow = _SLOW_DOCS
    return warm_up(wait=n_docs > NO_JIT_MAX_DOCS or slow > SLOW_PATH_DOCS)


def _loader(wait: bool, start_compiler: bool = True) -> threading.Thread | None:
    """The thread that loads or compiles the kernels here; None while a detached compiler fills the cache.

    With ``start_compiler=False`` and a cold cache, also None: nothing is started.
    """
    global _WARMING
    with _THREADS_LOCK:
        if _WARMING is None:
            if _DISK.compiling and not wait and not _DISK.finished():
                return None
            on_disk = _DISK.warm()
            if on_disk is False and not wait and (not start_compiler or _DISK.start_compiler()):
                return None
            if wait and not on_disk:
                _DISK.stop_compiler()  # this process compiles now: its detached compiler would do the same work
            # A warm cache loads in well under a second (a daemon thread: nothing to finish at exit). A compile
            # here (the caller waits, or no detached compiler could start, or numba's cache format is unknown)
            # is not a daemon, so the cache gets written before the process exits; it runs at a lower priority
            # only while nobody waits for it.
            _WARMING = threading.Thread(
                target=_compile, args=(not wait,), name="colbert-pooling-compile", daemon=bool(on_disk)
            )
            _WARMING.start()
        return _WARMING


def fill_disk_cache() -> bool:
    """The detached compiler's job: compile the kernels into numba's cache (see :mod:`._cache`)."""
    return _cache.fill(lambda: warm_up(wait=True), _DISK.folder)


def ready() -> bool:
    """Whether the compiled kernels are loaded (no call to them will wait for a compile)."""
    return _READY.is_set()


def pool_batch(docs: list[np.ndarray], pool_factor: int, protected: int) -> tuple[np.ndarray, np.ndarray]:
    """Pool a batch of documents, each with at least two vectors to cluster.

    Args:
        docs: C-contiguous float32 ``(n_i, dim)`` arrays, ``n_i - protected >= 2``.
        pool_factor: keep ``max((n_i - protected) // pool_factor, 1)`` clusters per document.
        protected: leading rows copied unchanged.

    Returns:
        ``(vectors, sizes)``: the pooled vectors of every document stacked (protected rows, then the cluster
        means in the order of each cluster's first token) and the ``(batch,)`` row count per document.
    """
    lengths = np.array([doc.shape[0] - protected for doc in docs], dtype=np.int64)
    n_clusters = np.maximum(lengths // pool_factor, 1)
    sizes = protected + n_clusters
    offsets = np.zeros(len(docs), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    out = np.empty((int(sizes.sum()), docs[0].shape[1]), dtype=np.float32)
    typed = numba.typed.List()
    for doc in docs:
        typed.append(doc)
    step = min(_thread_count(), len(docs))
    if step == 1:
        _pool_documents(typed, protected, n_clusters, offsets, out, 0, 1)
    else:
        jobs = [
            _executor().submit(_pool_documents, typed, protected, n_clusters, offsets, out, first, step)
            for first in range(step)
        ]
        for job in jobs:
            job.result()
    return out, sizes
