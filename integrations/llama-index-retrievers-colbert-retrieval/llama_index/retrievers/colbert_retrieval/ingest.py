"""Store LlamaIndex nodes in the ColBERT index, keeping ids, metadata and relationships.

Each node is encoded from its ``MetadataMode.EMBED`` content (as LlamaIndex embeds it); the payload keeps
the whole node (``node_to_metadata_dict``), so the retriever returns the same node: id, text, metadata,
relationships.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import BaseNode, Document, MetadataMode, TransformComponent
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from pydantic import ConfigDict

from colbert_retrieval.documents import Record
from colbert_retrieval.qdrant import ColBERTIndex, IngestSummary

__all__ = ["HIGHLIGHTS_KEY", "ColBERTIndexWriter", "add_nodes", "node_from_hit", "node_from_payload"]

#: The node metadata key of a hit's highlights (searches with ``highlights=True``); hidden from the LLM and the
#: embedding (``excluded_llm_metadata_keys`` / ``excluded_embed_metadata_keys``).
HIGHLIGHTS_KEY = "highlights"


def add_nodes(index: ColBERTIndex, nodes: Sequence[BaseNode | Document], **kwargs: Any) -> IngestSummary:
    """Encode and store nodes (or documents); existing node ids are replaced.

    Args:
        index: the ColBERT index.
        nodes: ``TextNode`` / ``Document`` objects, e.g. the output of a node parser.
        kwargs: ``ColBERTIndex.add`` arguments (``batch_size``, ``show_progress_bar``...).
    """
    records = [
        Record(
            text=node.get_content(metadata_mode=MetadataMode.EMBED),
            id=node.node_id,
            metadata=node_to_metadata_dict(node, remove_text=False, flat_metadata=False),
        )
        for node in nodes
    ]
    kwargs.setdefault("overwrite", True)
    return index.add(records, **kwargs)


def node_from_payload(metadata: dict[str, Any]) -> BaseNode:
    """Rebuild the stored node from a hit's metadata."""
    return metadata_dict_to_node(metadata)


def node_from_hit(hit: Any) -> BaseNode:
    """The stored node of a hit; with its highlights (if the search asked for them) in ``metadata["highlights"]``.

    The index scored the node's ``MetadataMode.EMBED`` content; highlight offsets are moved into ``node.text``
    (``node.text[start:end]`` is the matched word), and words matched in the metadata part are left out of the
    list (they are not in ``node.text``). The key is hidden from the LLM and the embedding.
    """
    node = node_from_payload(hit.metadata)
    if hit.highlights is None:
        return node
    text = getattr(node, "text", "")
    offset = hit.text.find(text) if text else -1
    spans = []
    for highlight in hit.highlights if offset >= 0 else ():
        start, end = highlight.start - offset, highlight.end - offset
        if start >= 0 and end <= len(text):
            spans.append({**highlight.to_dict(), "start": start, "end": end})
    node.metadata[HIGHLIGHTS_KEY] = spans
    for excluded in (node.excluded_llm_metadata_keys, node.excluded_embed_metadata_keys):
        if HIGHLIGHTS_KEY not in excluded:
            excluded.append(HIGHLIGHTS_KEY)
    return node


class ColBERTIndexWriter(TransformComponent):
    """An ingestion-pipeline step that stores the nodes it receives in the ColBERT index and passes them on.

    Examples:
        .. code-block:: python

            pipeline = IngestionPipeline(transformations=[SentenceSplitter(), ColBERTIndexWriter(index=index)])
            pipeline.run(documents=documents)
    """

    index: ColBERTIndex
    model_config = ConfigDict(arbitrary_types_allowed=True)

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:
        """Store ``nodes`` and return them unchanged."""
        if nodes:
            add_nodes(self.index, nodes)
        return nodes
