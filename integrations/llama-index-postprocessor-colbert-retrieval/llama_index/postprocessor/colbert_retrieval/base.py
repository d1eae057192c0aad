"""``ColBERTRerank``: a real ColBERT reranker for LlamaIndex."""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from colbert_retrieval import ColBERT, load_model
from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["ColBERTRerank"]

#: ``SearchHit``'s score scales (named here: ``colbert_retrieval.qdrant`` needs the qdrant extra; a test ties them).
SCORE_SCALES = ("raw", "cosine", "relevance")

dispatcher = get_dispatcher(__name__)


class ColBERTRerank(BaseNodePostprocessor):
    """Rerank nodes by ColBERT MaxSim (projection head, markers, query expansion, batched on the model's device).

    Accepts the constructor arguments of ``llama-index-postprocessor-colbert-rerank``'s ``ColbertRerank``
    (``top_n``, ``model``, ``tokenizer``, ``device``, ``keep_retrieval_score``), so switching is a one-line
    change. The node text is taken as LlamaIndex embeds it (``MetadataMode.EMBED``). ``score_scale="relevance"``
    with ``similarity_cutoff`` keeps the nodes whose calibrated relevance reaches it, as the retriever and
    ``ColBERTIndex.search(config={"min_relevance": ...})`` do.

    Examples:
        >>> from llama_index.core.schema import NodeWithScore, TextNode
        >>> from llama_index.postprocessor.colbert_retrieval import ColBERTRerank
        >>> reranker = ColBERTRerank(top_n=1)
        >>> nodes = [NodeWithScore(node=TextNode(text=t)) for t in ["Paris is in France.", "Scurvy: no vitamin C."]]
        >>> reranker.postprocess_nodes(nodes, query_str="vitamin C deficiency")[0].node.text
        'Scurvy: no vitamin C.'
    """

    model: Any = Field(default=None, description="A ColBERT, a model name or path, or None (offline default).")
    top_n: int = Field(default=5, description="Number of nodes returned, best first.")
    device: str | None = Field(default=None, description="Device of the model (None: best available).")
    batch_size: int = Field(default=32, description="Nodes encoded per forward pass.")
    keep_retrieval_score: bool = Field(
        default=False, description="Keep the previous score in metadata['retrieval_score'] (on a copy of the node)."
    )
    tokenizer: str | None = Field(
        default=None, description="Accepted for ColbertRerank compatibility; the tokenizer comes with the model."
    )
    score_scale: str = Field(
        default="raw",
        description="NodeWithScore.score: 'raw' (MaxSim, summed over query tokens), 'cosine' (MaxSim per query "
        "token) or 'relevance' (the model's calibrated probability of being relevant).",
    )
    similarity_cutoff: float | None = Field(
        default=None, description="Drop nodes whose score (on score_scale) is below it (LlamaIndex's name)."
    )
    _encoder: ColBERT = PrivateAttr()

    def __init__(
        self,
        top_n: int = 5,
        model: Any = None,
        tokenizer: str | None = None,
        device: str | None = None,
        keep_retrieval_score: bool = False,
        batch_size: int = 32,
        score_scale: str = "raw",
        similarity_cutoff: float | None = None,
        **kwargs: Any,
    ) -> None:
        if score_scale not in SCORE_SCALES:
            raise InvalidArgumentError(f"Unknown score_scale {score_scale!r}; use one of {SCORE_SCALES}.")
        super().__init__(
            top_n=top_n,
            model=model if isinstance(model, (str, type(None))) else getattr(model, "model_name_or_path", "custom"),
            tokenizer=tokenizer,
            device=device,
            keep_retrieval_score=keep_retrieval_score,
            batch_size=batch_size,
            score_scale=score_scale,
            similarity_cutoff=similarity_cutoff,
            **kwargs,
        )
        self._encoder = load_model(model, device=device)
        if score_scale == "relevance" and self._encoder.relevance is None:
            msg = "score_scale='relevance' needs a model with a relevance calibration (model.relevance is None)."
            raise InvalidArgumentError(msg)

    def _score(self, hit: dict[str, Any], query: str) -> float:
        if self.score_scale == "relevance":
            return hit["relevance"]
        if self.score_scale == "cosine":
            return hit["score"] / max(len(self._encoder.encode(query, is_query=True)), 1)
        return hit["score"]

    @classmethod
    def class_name(cls) -> str:
        """Name used in LlamaIndex serialisation."""
        return "ColBERTRerank"

    @property
    def encoder(self) -> ColBERT:
        """The ColBERT model."""
        return self._encoder

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            msg = "ColBERTRerank needs the query: pass query_str or query_bundle."
            raise InvalidArgumentError(msg)
        model_name = str(self.model or "colbert-retrieval default")
        dispatcher.event(ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=self.top_n, model_name=model_name))
        if not nodes:
            dispatcher.event(ReRankEndEvent(nodes=[]))
            return []
        payload = {
            EventPayload.NODES: nodes,
            EventPayload.MODEL_NAME: model_name,
            EventPayload.QUERY_STR: query_bundle.query_str,
            EventPayload.TOP_K: self.top_n,
        }
        with self.callback_manager.event(CBEventType.RERANKING, payload=payload) as event:
            texts = [n.node.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
            ranked = self._encoder.rank(query_bundle.query_str, texts, top_k=self.top_n, batch_size=self.batch_size)
            scored = [(hit["corpus_id"], self._score(hit, query_bundle.query_str)) for hit in ranked]
            cutoff = self.similarity_cutoff
            reranked = []
            for index, score in ((i, s) for i, s in scored if cutoff is None or s >= cutoff):
                node = nodes[index].node
                if self.keep_retrieval_score:
                    node = node.model_copy(
                        update={"metadata": {**node.metadata, "retrieval_score": nodes[index].score}}
                    )
                reranked.append(NodeWithScore(node=node, score=score))
            event.on_end(payload={EventPayload.NODES: reranked})
        dispatcher.event(ReRankEndEvent(nodes=reranked))
        return reranked
