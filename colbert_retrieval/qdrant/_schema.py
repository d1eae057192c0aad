"""Collection schema: the vectors stored per document, and the settings that must match on re-open.

Each document is one point with three named vectors:

* ``colbert``: the pooled token vectors, a multivector with the ``MAX_SIM`` comparator, float16 by default,
  no HNSW graph (it ranks candidates, or every point in exact search);
* ``first_stage``: one vector summarising the document (MUVERA or mean), with an HNSW graph, for the first
  stage of two-stage search;
* ``bm25``: a sparse BM25 vector (IDF applied by the engine) for hybrid search.

The settings (model, dimension, encoding, pooling, MUVERA and BM25 parameters) are stored with the collection
(collection metadata on a server, a JSON file next to an embedded shard) and checked on open, before anything
is written. Both backends build their native configuration from :class:`IndexSettings` and
:class:`StorageOptions`.

Examples:
    >>> settings = IndexSettings(model_name="m", dim=128)
    >>> settings.first_stage_dim(), settings.has_bm25
    (4096, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sentence_transformers.base.modules.dense import Dense

from colbert_retrieval.documents import ID_SCHEME, METADATA_KEY, TEXT_KEY, PayloadKeys
from colbert_retrieval.errors import IndexMismatchError, InvalidArgumentError
from colbert_retrieval.models import head_weights_fingerprint
from colbert_retrieval.pooling import check_pool_factor
from colbert_retrieval.qdrant._bm25 import BM25Config
from colbert_retrieval.single_vector import FirstStage, MuveraConfig

__all__ = [
    "BM25_VECTOR",
    "COLBERT_VECTOR",
    "FIRST_STAGE_VECTOR",
    "MAX_MULTIVECTOR_FLOATS",
    "SETTINGS_KEY",
    "IndexSettings",
    "Schema",
    "StorageOptions",
    "check_compatible",
    "max_vectors_per_point",
    "settings_for",
]

COLBERT_VECTOR = "colbert"
FIRST_STAGE_VECTOR = "first_stage"
BM25_VECTOR = "bm25"
#: Key of the settings in the collection metadata (and in the embedded store's settings file).
SETTINGS_KEY = "colbert_retrieval"
#: Qdrant rejects a multivector of this many floats or more.
MAX_MULTIVECTOR_FLOATS = 1_048_576
#: 1: 0.1.0 (no BM25 vector); 2: BM25 sparse vector added; 3: type-preserving point ids, the full encoding and a
#: fingerprint of the projection head recorded (older collections keep their id scheme).
SCHEMA_VERSION = 3


def max_vectors_per_point(dim: int) -> int:
    """Largest number of ``dim``-d token vectors Qdrant accepts in one multivector.

    Examples:
        >>> max_vectors_per_point(128)
        8191
    """
    return (MAX_MULTIVECTOR_FLOATS - 1) // dim


@dataclass(frozen=True)
class IndexSettings:
    """Everything that must be the same for every document and query of a collection.

    ``bm25`` holds the BM25 parameters; it is empty for collections written by 0.1.0, which have no BM25
    vector (hybrid search is refused there with a message naming ``colbert-retrieval migrate``).
    """

    model_name: str
    dim: int
    first_stage: str = FirstStage.MUVERA.value
    pool_factor: int = 2
    datatype: str = "float16"
    muvera: dict[str, int] = field(default_factory=dict)
    encoding: dict[str, Any] = field(default_factory=dict)
    bm25: dict[str, Any] = field(default_factory=lambda: BM25Config().to_dict())
    schema_version: int = SCHEMA_VERSION
    id_scheme: int = ID_SCHEME
    text_key: str = TEXT_KEY
    metadata_key: str = METADATA_KEY

    @property
    def payload_keys(self) -> PayloadKeys:
        """Where the payload keeps the text and the metadata (``text``, ``metadata`` unless the schema named others)."""
        return PayloadKeys(self.text_key, self.metadata_key)

    @property
    def has_bm25(self) -> bool:
        """Whether documents carry a BM25 vector."""
        return bool(self.bm25)

    def bm25_config(self) -> BM25Config | None:
        """The BM25 parameters (None for collections without BM25 vectors).

        Settings stored before ``title_weight`` existed read it as 1: their vectors weigh no title.
        """
        return BM25Config.from_dict({"title_weight": 1, **self.bm25}) if self.bm25 else None

    def muvera_config(self) -> MuveraConfig | None:
        """The MUVERA parameters (None for the mean first stage)."""
        if FirstStage(self.first_stage) is not FirstStage.MUVERA:
            return None
        return MuveraConfig(**self.muvera) if self.muvera else MuveraConfig(dim=self.dim)

    def first_stage_dim(self) -> int:
        """Dimension of the first-stage vector."""
        config = self.muvera_config()
        return config.output_dim if config is not None else self.dim

    def as_stored(self) -> IndexSettings:
        """These settings without the in-memory-only encoding entries (keys starting with ``_``)."""
        return replace(self, encoding={k: v for k, v in self.encoding.items() if not k.startswith("_")})

    def to_metadata(self) -> dict[str, Any]:
        """The dict stored with the collection."""
        data = asdict(self.as_stored())
        config = self.muvera_config()
        data["muvera"] = config.to_dict() if config is not None else {}
        return {SETTINGS_KEY: data}

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> IndexSettings | None:
        """Read settings back (None if there are none); 0.1.0 collections come back with ``bm25={}``."""
        data = (metadata or {}).get(SETTINGS_KEY)
        if not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.setdefault("bm25", {})
        known.setdefault("schema_version", 1)
        known.setdefault("id_scheme", 1)  # written before type-preserving ids: keep its ids stable
        return cls(**known)


@dataclass(frozen=True)
class StorageOptions:
    """How a new collection stores its vectors (not part of the settings: it may differ between stores).

    Args:
        on_disk: keep the ColBERT vectors on disk (memory-mapped) instead of in RAM.
        quantization: a Qdrant quantization config for the ColBERT vectors (server backend).
        hnsw_m: HNSW graph degree of the first-stage vector.
        hnsw_ef_construct: HNSW build effort of the first-stage vector.
        first_stage_quantization: ``"int8"`` (default) keeps the first-stage vector as int8 in RAM (scalar
            quantization; the float32 originals stay on disk and are never read by search, since the first
            stage only proposes candidates): 4x less RAM and faster HNSW search for the same candidates
            (docs/benchmarks/qdrant-engine.md). ``"binary"``: 1 bit per dimension in RAM (32x less; the
            ``small`` storage preset). None: float32 in RAM (or on disk with ``on_disk``).
    """

    on_disk: bool | None = None
    quantization: Any = None
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    first_stage_quantization: str | None = "int8"

    def __post_init__(self) -> None:
        if self.first_stage_quantization not in ("int8", "binary", None):
            msg = f"first_stage_quantization must be 'int8', 'binary' or None, got {self.first_stage_quantization!r}."
            raise InvalidArgumentError(msg)


def check_compatible(
    stored: IndexSettings,
    wanted: IndexSettings,
    collection: str,
    *,
    pool_factor_given: bool = True,
    payload_keys_given: tuple[str, ...] = ("text_key", "metadata_key"),
) -> None:
    """Raise if a collection was built with another model, encoding, dimension, first stage or pooling.

    Every encoding setting the collection recorded (markers, lengths, expansion, skiplist, truncation,
    the projection head's fingerprint) must match the model's: vectors of two encodings in one collection
    would be ranked against each other without any error. Settings an older collection did not record are
    not compared.

    Raises:
        IndexMismatchError: naming the differing setting and how to proceed.
    """
    names = ["model_name", "dim", "first_stage"] + (["pool_factor"] if pool_factor_given else [])
    names += list(payload_keys_given)  # the payload keys a schema named (the rest: the stored ones)
    differences = [(name, getattr(stored, name), getattr(wanted, name)) for name in names]
    recorded = sorted(k for k in set(stored.encoding) & set(wanted.encoding) if not k.startswith("_"))
    aliases = wanted.encoding.get("_head_aliases", ())
    differences += [
        (f"encoding.{k}", stored.encoding[k], wanted.encoding[k])
        for k in recorded
        if not (k == "head" and stored.encoding[k] in aliases)
    ]
    for name, before, now in differences:
        if before != now:
            msg = (
                f"Collection {collection!r} was built with {name}={before!r}, but this index uses {name}={now!r}. "
                "Open it with the same model and settings, or use another collection name (or delete the "
                "collection to rebuild it)."
            )
            raise IndexMismatchError(msg)


@dataclass(frozen=True)
class Schema:
    """What a new collection stores per document (stored with it and checked when it is opened again).

    Args:
        pool_factor: token pooling applied at ingest (queries are never pooled); None: the stored one, or
            2 for a new collection. Another value than the stored one raises ``IndexMismatchError``.
        first_stage: ``"muvera"`` (default) or ``"mean"``: the single vector of the HNSW first stage.
        datatype: storage of the ColBERT vectors, ``"float16"`` or ``"float32"``.
        muvera: MUVERA parameters (``k_sim``, ``dim_proj``, ``repetitions``, ``seed``).
        bm25: BM25 parameters (``k``, ``b``, ``avg_len``, ``language``); False stores no BM25 vectors.
        model_name: the model name stored with the collection (default: the model's name or path).
        text_key: the payload key of the document text (None: the stored one, or ``text``); langchain-qdrant's
            ``content_payload_key``.
        metadata_key: the payload key of the metadata (None: the stored one, or ``metadata``); filters on a
            field address ``<metadata_key>.<field>``; langchain-qdrant's ``metadata_payload_key``.

    Examples:
        >>> Schema(pool_factor=1).first_stage
        'muvera'
    """

    pool_factor: int | None = None
    first_stage: str = "muvera"
    datatype: str = "float16"
    muvera: Mapping[str, int] | None = None
    bm25: Mapping[str, Any] | bool | None = None
    model_name: str | None = None
    text_key: str | None = None
    metadata_key: str | None = None

    def __post_init__(self) -> None:
        self.payload_keys()  # a bad key fails here
        if self.pool_factor is not None:
            check_pool_factor(self.pool_factor)
        try:
            FirstStage(self.first_stage)
        except ValueError:
            msg = f"Unknown first stage {self.first_stage!r}; use one of {[f.value for f in FirstStage]}."
            raise InvalidArgumentError(msg) from None
        if self.datatype not in ("float16", "float32"):
            msg = f"datatype must be 'float16' or 'float32', got {self.datatype!r}."
            raise InvalidArgumentError(msg)

    def payload_keys(self) -> PayloadKeys:
        """The keys a new collection gets (``text`` and ``metadata`` where the schema names none)."""
        return PayloadKeys(
            TEXT_KEY if self.text_key is None else self.text_key,
            METADATA_KEY if self.metadata_key is None else self.metadata_key,
        )

    def named_payload_keys(self) -> tuple[str, ...]:
        """The payload-key settings this schema names (an existing collection is checked against these only)."""
        return tuple(name for name in ("text_key", "metadata_key") if getattr(self, name) is not None)

    @classmethod
    def of_settings(cls, settings: IndexSettings) -> Schema:
        """The schema that builds a collection like one with these settings (a shard folder's, another store's).

        Examples:
            >>> Schema.of_settings(IndexSettings(model_name="m", dim=4, pool_factor=3, bm25={})).bm25
            False
        """
        return cls(
            pool_factor=settings.pool_factor,
            first_stage=settings.first_stage,
            datatype=settings.datatype,
            muvera={k: v for k, v in settings.muvera.items() if k != "dim"} or None,
            bm25=settings.bm25 or False,
            model_name=settings.model_name,
            text_key=settings.text_key,
            metadata_key=settings.metadata_key,
        )


def settings_for(model: Any, schema: Schema) -> IndexSettings:
    """The settings a new collection gets for this model and schema."""
    pool_factor = DEFAULT_POOL_FACTOR if schema.pool_factor is None else schema.pool_factor
    dim = model.output_dimension
    kind = FirstStage(schema.first_stage)
    muvera_config = MuveraConfig(dim=dim, **dict(schema.muvera or {})) if kind is FirstStage.MUVERA else None
    bm25 = schema.bm25
    if bm25 is False:
        bm25_settings: dict[str, Any] = {}
    else:
        bm25_settings = BM25Config.from_dict(bm25 if isinstance(bm25, Mapping) else {}).to_dict()
    return IndexSettings(
        model_name=schema.model_name or str(getattr(model, "model_name_or_path", None) or "custom"),
        dim=dim,
        first_stage=kind.value,
        pool_factor=pool_factor,
        datatype=schema.datatype,
        muvera=muvera_config.to_dict() if muvera_config else {},
        encoding=encoding_settings(model),
        bm25=bm25_settings,
        text_key=schema.payload_keys().text,
        metadata_key=schema.payload_keys().metadata,
    )


#: Pooling of a new collection when ``pool_factor`` is not given.
DEFAULT_POOL_FACTOR = 2


def head_fingerprint(model: Any) -> str:
    """A short hash of the model's projection head weights (the ``Dense`` modules), ``""`` without one.

    Two loads of a checkpoint without a trained head get two random heads, and so two fingerprints.

    Examples:
        >>> from colbert_retrieval import default_model
        >>> head_fingerprint(default_model()) == head_fingerprint(default_model())
        True
    """
    modules = model.modules() if hasattr(model, "modules") else ()
    return head_weights_fingerprint(*(m for m in modules if isinstance(m, Dense)))


def encoding_settings(model: Any) -> dict[str, Any]:
    """Everything about how the model turns text into vectors that a collection must keep the same."""
    skiplist = sorted(getattr(model, "skiplist_words", []) or [])
    return {
        "query_prefix": model.query_prefix,
        "document_prefix": model.document_prefix,
        "query_length": model.query_length,
        "document_length": model.document_length,
        "do_query_expansion": model.do_query_expansion,
        "attend_to_expansion_tokens": getattr(model, "attend_to_expansion_tokens", False),
        "add_special_tokens": getattr(model, "add_special_tokens", True),
        "skiplist": hashlib.sha256("\n".join(skiplist).encode("utf-8")).hexdigest()[:16],
        "truncate_dim": getattr(model, "truncate_dim", None),
        "truncation": getattr(model, "truncation", True),
        "head": head_fingerprint(model),
        # Not stored: other fingerprints of the same head that older collections may have recorded.
        "_head_aliases": list(getattr(model, "head_fingerprint_aliases", ())),
    }
