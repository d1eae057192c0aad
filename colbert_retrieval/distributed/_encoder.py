"""The encoder actor: one ColBERT per Ray actor, loaded once, turning ``record`` batches into point rows.

Each call takes a batch of ``record`` rows, drops the ids already stored (a set shipped once per actor, or a
question to the Qdrant server), sorts the rest by length into model batches (``PointEncoder.encode``), pools
and casts to float16 on the actor's device, adds the first-stage and BM25 vectors, and returns rows
(:mod:`.rows`). The model's encoding must match the collection's (checked when the actor starts).

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant._schema import Schema, settings_for
    >>> settings = settings_for(default_model(), Schema(pool_factor=2)).to_metadata()
    >>> actor = EncoderActor(None, settings)  # Ray builds it in each actor; it works outside Ray too
    >>> rows = actor({"record": ['{"id": 1, "text": "Scurvy comes from a lack of vitamin C."}']})
    >>> bool(rows["skipped"][0]), int(rows["n_vectors"][0]) > 0
    (False, True)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import ray

from colbert_retrieval.distributed._rows import to_columns
from colbert_retrieval.documents import point_id, to_record
from colbert_retrieval.models import load_model
from colbert_retrieval.qdrant import IndexSettings, PointEncoder, check_compatible, encoding_settings

__all__ = ["EncoderActor"]

logger = logging.getLogger(__name__)


class EncoderActor:
    """A Ray actor (``map_batches`` callable class) holding one ColBERT encoder.

    Args:
        model: a model name or folder, None for the offline default, or a ``ray.ObjectRef`` of a ``ColBERT``.
        settings: the collection's settings (``IndexSettings.to_metadata()``), with the driver's model encoding.
        model_kwargs: more ``load_model`` arguments (``backend``, ``inference_precision``, ...).
        batch_size: texts per forward pass.
        stored: ids to skip (a ``ray.ObjectRef`` of a set), or None.
        target: a :class:`~colbert_retrieval.distributed.QdrantTarget` asked which ids it already holds, or
            None.
    """

    def __init__(
        self,
        model: Any,
        settings: Mapping[str, Any],
        model_kwargs: Mapping[str, Any] | None = None,
        batch_size: int = 32,
        stored: Any = None,
        target: Any = None,
    ) -> None:
        device = "cuda" if ray.is_initialized() and ray.get_gpu_ids() else None
        if isinstance(model, ray.ObjectRef):
            model = ray.get(model)
        self._model = load_model(model, device=device, **dict(model_kwargs or {}))
        loaded = IndexSettings.from_metadata(dict(settings))
        if loaded is None:
            msg = "EncoderActor needs the collection's settings (IndexSettings.to_metadata())."
            raise ValueError(msg)
        self._settings = loaded
        # The driver checked the collection against its model; the workers must encode exactly like it.
        check_compatible(loaded, replace(loaded, encoding=encoding_settings(self._model)), "the driver's model")
        self._encoder = PointEncoder(self._model, loaded)
        self._batch_size = batch_size
        self._stored: set[str] = ray.get(stored) if isinstance(stored, ray.ObjectRef) else set(stored or ())
        self._target = target.backend() if target is not None else None
        logger.info("Encoder actor %s ready on %s", os.getpid(), self._model.device)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Point rows for a batch of ``record`` rows (stored ids come back as ``skipped`` rows)."""
        records = {}
        for text in batch["record"]:
            record = to_record(json.loads(text))
            records[point_id(record, self._settings.id_scheme)] = record
        ids = list(records)
        stored = {i for i in ids if i in self._stored}
        if self._target is not None:
            rest = [i for i in ids if i not in stored]
            stored |= self._target.existing(rest) if rest else set()
        todo = [records[i] for i in ids if i not in stored]
        if not todo:
            return to_columns([], [i for i in ids if i in stored])
        encoded = self._encoder.encode(todo, self._batch_size)
        return to_columns(encoded.points, [i for i in ids if i in stored], encoded.cut)
