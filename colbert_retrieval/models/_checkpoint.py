"""How a ColBERT checkpoint's modules are loaded and its configuration saved (hooks of sentence-transformers).

A bare transformers or sentence-transformers checkpoint gets a new ColBERT head; everything else keeps
its saved modules. The saved configuration carries PyLate's keys (markers, lengths, expansion, skiplist),
so PyLate and sentence-transformers both read it back.

Examples:
    >>> from colbert_retrieval import default_model
    >>> default_model().similarity_fn_name
    'MaxSim'
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from sentence_transformers import MultiVectorEncoder
from sentence_transformers.base.modules.dense import Dense
from sentence_transformers.util import load_file_path

from colbert_retrieval.models._settings import mask_of, transformer_of

__all__ = ["CheckpointMixin", "SimilarityName", "warn_random_head"]


def warn_random_head(name: str | None) -> None:
    """Warn that a checkpoint without a ColBERT head got a random one (its vectors change at every load)."""
    msg = (
        f"{name} has no trained ColBERT head: a random projection was added, so every load gives other vectors. "
        "Fine-tune it, or save it (model.save(folder)) and load that folder before indexing."
    )
    warnings.warn(msg, UserWarning, stacklevel=3)


class SimilarityName(str):
    """A similarity function name that compares (and hashes) without regard to case.

    PyLate spells MaxSim ``"MaxSim"`` and sentence-transformers ``"maxsim"``; the model reports PyLate's
    spelling and still matches wherever sentence-transformers looks the name up (its evaluators, model card).
    Metric names built from it keep PyLate's spelling (``MaxSim_accuracy``), as PyLate's scripts read them.

    Examples:
        >>> name = SimilarityName("MaxSim")
        >>> name == "maxsim", name == "MaxSim", {"maxsim": 1}.get(name)
        (True, True, 1)
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.lower())


class CheckpointMixin:
    """Loading and saving hooks of :class:`~colbert_retrieval.models._colbert.ColBERT` (mixed in first)."""

    _fresh_head: bool

    def _load_default_modules(self, model_name_or_path: str, *args: Any, **kwargs: Any) -> tuple[list, dict]:
        modules, module_kwargs = super()._load_default_modules(model_name_or_path, *args, **kwargs)
        # A bare transformers checkpoint (not Stanford, not *ForRetrieval) got a new random head.
        self._fresh_head = not self._legacy.prefixes and any(isinstance(m, Dense) for m in modules)
        return modules, module_kwargs

    def _load_converted_modules(self, model_name_or_path: str, *args: Any, **kwargs: Any) -> tuple[Any, dict]:
        loaded = super()._load_converted_modules(model_name_or_path, *args, **kwargs)
        if kwargs.get("model_type") == "SentenceTransformer":
            modules_json = load_file_path(
                model_name_or_path,
                "modules.json",
                token=kwargs.get("token"),
                cache_folder=kwargs.get("cache_folder"),
                revision=kwargs.get("revision"),
                local_files_only=kwargs.get("local_files_only", False),
            )
            saved_types = []
            if modules_json is not None:
                with open(modules_json, encoding="utf8") as handle:
                    saved_types = [entry.get("type", "") for entry in json.load(handle)]
            self._fresh_head = not any(t.endswith("Dense") for t in saved_types)
        return loaded

    @property
    def similarity_fn_name(self) -> str:
        """The scoring function: ``"MaxSim"`` (PyLate's spelling; equal to ``"maxsim"``) or ``"meanmaxsim"``.

        The saved configuration keeps sentence-transformers' lower-case name, so both libraries load it.
        """
        name = MultiVectorEncoder.similarity_fn_name.fget(self)
        return SimilarityName("MaxSim" if name == "maxsim" else name)

    @similarity_fn_name.setter
    def similarity_fn_name(self, value: Any) -> None:
        if isinstance(value, str):
            value = value.lower()
        MultiVectorEncoder.similarity_fn_name.fset(self, value)

    def _get_model_config(self) -> dict[str, Any]:
        config = super()._get_model_config()
        prefixes = {"query": self.query_prefix, "document": self.document_prefix}
        config["prompts"] = {
            **self.prompts,
            **{role: marker + self.prompts.get(role, "") for role, marker in prefixes.items()},
        }
        transformer = transformer_of(self)
        expansion = transformer.query_expansion
        config.update(
            query_prefix=self.query_prefix,
            document_prefix=self.document_prefix,
            query_length=transformer.query_length,
            document_length=transformer.document_length,
            do_query_expansion=expansion is not None,
            attend_to_expansion_tokens=bool(expansion and expansion.get("attend")),
            skiplist_words=list(mask_of(self).skiplist_words),
        )
        return config
