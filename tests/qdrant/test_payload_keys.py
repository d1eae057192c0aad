"""A collection can keep its text and metadata under other payload keys (langchain-qdrant's, e.g.) (#36)."""

from __future__ import annotations

import pytest

from colbert_retrieval.errors import IndexMismatchError, InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, Schema, Store, migrate
from colbert_retrieval.qdrant.backends import make_backend

KEYS = Schema(text_key="page_content", metadata_key="meta")


def _payloads(index: ColBERTIndex) -> list[dict]:
    points, _ = index.backend.scroll(None, 100)
    return [p.payload for p in points]


def test_every_path_reads_and_writes_the_collections_keys(tiny_colbert, tmp_path) -> None:
    folder = str(tmp_path / "store")
    with ColBERTIndex(tiny_colbert, "docs", store=folder, schema=KEYS) as index:
        index.add(
            [
                {"id": 1, "text": "Scurvy is caused by a lack of vitamin C.", "metadata": {"lang": "en"}},
                {"id": 2, "text": "Paris is in France.", "metadata": {"lang": "fr"}},
            ]
        )
        index.sync({"notes.md": ["Limes prevent scurvy."]})
        assert all({"page_content", "meta", "id"} <= set(p) and "text" not in p for p in _payloads(index))
        assert [h.id for h in index.search("vitamin", k=5, filter={"lang": "en"})] == [1]
        assert index.get([2])[0].text == "Paris is in France."
        assert index.count({"lang": "fr"}) == 1 and index.count({"meta.lang": "fr"}) == 1
        index.update(2, metadata={"lang": "de"})
        assert index.get([2])[0].metadata == {"lang": "de"}
        assert list(index.sources()) == ["notes.md"] and index.sources()["notes.md"] is not None
        index.add([{"id": 1, "text": "Scurvy is caused by a lack of vitamin C.", "metadata": {"lang": "en"}}])
        assert index.add([{"id": 2, "text": "Paris is in France.", "metadata": {"lang": "de"}}]).skipped == 1
        index.delete(filter={"lang": "de"})
        kept = {h.text for h in index.documents()}
        assert kept == {"Scurvy is caused by a lack of vitamin C.", "Limes prevent scurvy."}
    # reopened with the default schema: the stored keys; a schema naming others is refused
    with ColBERTIndex(tiny_colbert, "docs", store=folder) as index:
        assert index.settings.payload_keys.text == "page_content"
        assert index.search("scurvy", k=1)[0].text
    with pytest.raises(IndexMismatchError, match="text_key='page_content'"):
        ColBERTIndex(tiny_colbert, "docs", store=folder, schema=Schema(text_key="text"))


def test_a_migration_keeps_the_keys(tiny_colbert, tmp_path) -> None:
    with ColBERTIndex(tiny_colbert, "docs", store=":memory:", schema=KEYS) as index:
        index.add([{"id": "a", "text": "Scurvy is caused by a lack of vitamin C.", "metadata": {"lang": "en"}}])
        target = make_backend("copy", Store(path=str(tmp_path / "copy")))
        try:
            assert migrate(index.backend, target).documents == 1
            assert target.read_settings().payload_keys == index.settings.payload_keys
        finally:
            target.close()


@pytest.mark.parametrize(("text_key", "metadata_key"), [("id", None), ("a.b", None), ("x", "x"), ("", None)])
def test_bad_payload_keys_are_refused(text_key, metadata_key) -> None:
    with pytest.raises(InvalidArgumentError, match="payload key"):
        Schema(text_key=text_key, metadata_key=metadata_key)
