"""Storage presets: how much of a collection lives in RAM, as one measured choice.

Three presets map to Qdrant storage settings (both backends) and to the rescoring search uses with them.
Measured on NFCorpus with the default model at ``pool_factor=2`` (docs/benchmarks/storage-presets.md):
``small`` holds 1/14 of ``fast``'s RAM per document at +0.003 (two-stage) / -0.001 (hybrid) nDCG@10,
``balanced`` 1/1.7 at -0.0003. "RAM" counts the vector data a search touches on every query
(ColBERT vectors or their quantized copies, the first-stage vectors, the HNSW graph, the BM25 index), not the
payload (your text) or the engine's page cache:

* ``fast`` (the default): float16 ColBERT vectors and the int8 first stage in RAM (float32 first-stage
  originals on disk); the rerank scores the float16 vectors.
* ``balanced``: int8 ColBERT vectors and the int8 first stage in RAM, float16 ColBERT originals on disk
  (``Memory.Cold``); the rerank ranks candidates by int8 MaxSim and rescores the best ``k x oversampling``
  with the originals.
* ``small``: binary ColBERT vectors (1 bit per dimension) and a binary first stage in RAM, both originals on
  disk; the first stage is oversampled and rescored with its float32 originals, then the rerank works as
  in ``balanced`` with binary MaxSim.

Explicit ``on_disk`` / ``quantization`` / ``first_stage_int8`` arguments override the preset's value for
that setting. A preset only shapes a *new* collection; opening an existing one with ``storage=`` sets the
search side (the rescoring oversampling) only, so reopen with the preset it was built with. Without it, the
rerank scores every candidate with the original vectors (correct, and on a cold store it reads every
candidate from disk).

Examples:
    >>> options, search = storage_preset("small")
    >>> options.on_disk, options.first_stage_quantization, search["rescore_oversampling"]
    (True, 'binary', 4.0)
    >>> storage_preset("fast")[0].quantization is None
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant._schema import StorageOptions

__all__ = ["Storage", "StoragePreset", "quantization_config", "storage_preset"]


class StoragePreset(str, Enum):
    """The storage presets (see the module docstring)."""

    FAST = "fast"
    BALANCED = "balanced"
    SMALL = "small"


#: How many times ``k`` quantized-MaxSim candidates are rescored with the originals, and (``small``) how many
#: times ``prefetch_limit`` binary first-stage candidates are rescored with theirs. Chosen on NFCorpus *dev*
#: (smallest factor within 0.002 nDCG@10 of rescoring every candidate; benchmarks/storage_presets.py).
#: Chosen on NFCorpus dev by benchmarks/storage_presets.py (the smallest factor within 0.002 nDCG@10 of
#: rescoring every candidate): docs/benchmarks/storage-presets.md.
_OVERSAMPLING = {StoragePreset.BALANCED: 1.0, StoragePreset.SMALL: 4.0}
_FIRST_STAGE_OVERSAMPLING = {StoragePreset.SMALL: 8.0}


def quantization_config(kind: str | None) -> Any:
    """A Qdrant quantization config kept in RAM: ``int8`` (scalar, 0.99 quantile), ``binary`` or None.

    The ColBERT vectors of the presets and the first-stage vector of every collection use it (the embedded
    backend converts it with ``edge_quantization``).

    Examples:
        >>> type(quantization_config("binary")).__name__
        'BinaryQuantization'
    """
    if kind is None:
        return None
    if kind == "int8":
        return qm.ScalarQuantization(
            scalar=qm.ScalarQuantizationConfig(type=qm.ScalarType.INT8, quantile=0.99, always_ram=True)
        )
    if kind == "binary":
        return qm.BinaryQuantization(binary=qm.BinaryQuantizationConfig(always_ram=True))
    msg = f"Unknown quantization {kind!r}; use 'int8', 'binary' or None."
    raise InvalidArgumentError(msg)


def parse_preset(preset: str | StoragePreset) -> StoragePreset:
    """The preset for a name, or a clear error listing the presets."""
    try:
        return StoragePreset(preset)
    except ValueError:
        names = ", ".join(repr(p.value) for p in StoragePreset)
        msg = f"Unknown storage preset {preset!r}; use one of {names}."
        raise InvalidArgumentError(msg) from None


def storage_preset(
    preset: str | StoragePreset | None,
    *,
    on_disk: bool | None = None,
    quantization: Any = None,
    first_stage_int8: bool | None = None,
) -> tuple[StorageOptions, dict[str, Any]]:
    """The storage options of a new collection and the search defaults for a preset.

    Args:
        preset: ``fast``, ``balanced``, ``small``, or None (``fast``, unless explicit settings say otherwise).
        on_disk: overrides the preset's placement of the ColBERT originals.
        quantization: overrides the preset's ColBERT quantization (a Qdrant config).
        first_stage_int8: True or False overrides the preset's first-stage quantization (int8 or none).

    Returns:
        ``(StorageOptions, search defaults)``; the search defaults hold ``rescore_oversampling`` and
        ``first_stage_oversampling``.

    Raises:
        InvalidArgumentError: an unknown preset.
    """
    kind = StoragePreset.FAST if preset is None else parse_preset(preset)
    colbert = {StoragePreset.FAST: None, StoragePreset.BALANCED: "int8", StoragePreset.SMALL: "binary"}[kind]
    first = "binary" if kind is StoragePreset.SMALL else "int8"
    if first_stage_int8 is not None:
        first = "int8" if first_stage_int8 else None
    options = StorageOptions(
        on_disk=on_disk if on_disk is not None else (True if colbert else None),
        quantization=quantization if quantization is not None else quantization_config(colbert),
        first_stage_quantization=first,
    )
    oversampling = _OVERSAMPLING.get(kind) if quantization is None else None
    first_oversampling = _FIRST_STAGE_OVERSAMPLING.get(kind) if first == "binary" else None
    return options, {"rescore_oversampling": oversampling, "first_stage_oversampling": first_oversampling}


@dataclass(frozen=True)
class Storage:
    """How a new collection is stored: a preset, and explicit settings that override it.

    A plain preset name works wherever a ``Storage`` is taken (:meth:`of`). On an existing collection only the
    search side applies (the rescoring of quantized vectors).

    Args:
        preset: ``fast`` (default), ``balanced`` or ``small`` (see the module docstring).
        on_disk: keep the ColBERT vectors on disk, memory-mapped.
        quantization: a Qdrant quantization config for the ColBERT vectors.
        first_stage_int8: keep the first-stage vector as int8 in RAM, originals on disk (None: the preset's).

    Examples:
        >>> Storage.of("small").resolve()[0].first_stage_quantization
        'binary'
    """

    preset: StoragePreset | str | None = None
    on_disk: bool | None = None
    quantization: Any = None
    first_stage_int8: bool | None = None

    def __post_init__(self) -> None:
        if self.preset is not None:
            object.__setattr__(self, "preset", parse_preset(self.preset))

    @classmethod
    def of(cls, value: Storage | StoragePreset | str | None) -> Storage:
        """A storage from a ``Storage``, a preset or its name, or None (the default preset)."""
        return value if isinstance(value, Storage) else cls(preset=value)

    def resolve(self) -> tuple[StorageOptions, dict[str, Any]]:
        """The storage options of a new collection and the search defaults (see :func:`storage_preset`)."""
        return storage_preset(
            self.preset, on_disk=self.on_disk, quantization=self.quantization, first_stage_int8=self.first_stage_int8
        )
