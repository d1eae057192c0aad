"""Re-ingestion is a sync: a source's stored documents become exactly the given ones, nothing stale is served,
nothing is encoded twice, and an interrupted sync leaves each source fully old or fully new (both backends)."""

from __future__ import annotations

import warnings

import pytest

from colbert_retrieval.errors import InvalidArgumentError, TruncationWarning
from colbert_retrieval.qdrant import ColBERTIndex, SourceSync
from tests.qdrant.conftest import OpenIndex


def _texts(index: ColBERTIndex, source: str) -> list[str]:
    return sorted(hit.text for hit in index.documents(filter={"source": source}))


def _encoded(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the model encodes from now on (a spy on the model)."""
    seen: list[str] = []
    encode = index.model.encode

    def spy(texts, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend([texts] if isinstance(texts, str) else texts)
        return encode(texts, *args, **kwargs)

    monkeypatch.setattr(index.model, "encode", spy)
    return seen


def test_sync_adds_skips_replaces_and_removes(index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    old = ["scurvy is a disease.", "a lack of vitamin c.", "the old tail."]
    first = index.sync({"a.md": old, "b.md": ["paris is in france."]})
    assert (first.count("added"), first.ingest.documents, first.removed) == (2, 4, 0)
    assert str(first.sources["a.md"]) == "added (3 written, 0 removed)"
    encoded = _encoded(index, monkeypatch)
    again = index.sync({"a.md": old})
    assert (again.sources["a.md"].status, again.ingest.documents, encoded) == ("unchanged", 0, [])
    shorter = index.sync({"a.md": ["scurvy is a disease of sailors."], "c.md": ["statins lower cholesterol."]})
    assert shorter.sources["a.md"] == SourceSync("updated", shorter.sources["a.md"].version, 1, 3)
    assert shorter.sources["c.md"].status == "added" and shorter.ingest.documents == 2
    assert len(encoded) == 2  # both sources' new documents, in one ingest
    assert _texts(index, "a.md") == ["scurvy is a disease of sailors."]  # no old chunk, no old tail
    served = {h.text for h in index.search("scurvy disease tail", k=10, config={"mode": "exact"})}
    assert served == {"scurvy is a disease of sailors.", "statins lower cholesterol.", "paris is in france."}
    gone = index.sync({"b.md": []})
    assert (gone.sources["b.md"].status, gone.removed, index.count()) == ("removed", 1, 2)
    assert str(gone) == "sources: 0 unchanged, 0 updated, 0 added, 1 removed; 0 documents written, 1 removed"
    assert index.sources() == {"a.md": shorter.sources["a.md"].version, "c.md": shorter.sources["c.md"].version}


def test_a_user_id_of_a_synced_source_is_still_found(index: ColBERTIndex) -> None:
    index.sync({"notes": [{"id": "n1", "text": "scurvy is a disease."}, {"id": 7, "text": "paris is in france."}]})
    index.sync({"notes": [{"id": "n1", "text": "a lack of vitamin c."}, {"id": 7, "text": "paris is in france."}]})
    assert {h.id: h.text for h in index.get(["n1", 7])} == {"n1": "a lack of vitamin c.", 7: "paris is in france."}
    assert set(index.vectors(["n1"])) == {"n1"}
    index.update("n1", metadata={"lang": "en"})
    assert index.get(["n1"])[0].metadata == {"lang": "en"}
    index.update("n1", text="statins lower cholesterol.")  # replaces the versioned point, keeps the metadata
    assert [(h.text, h.metadata) for h in index.get(["n1"])] == [("statins lower cholesterol.", {"lang": "en"})]
    assert index.count() == 2
    index.delete(["n1"])
    assert index.get(["n1"]) == [] and index.count() == 1


def test_document_by_document_sync_keeps_ids_and_encodes_only_changes(
    index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = [{"id": f"d{i}", "text": f"scurvy study {i}"} for i in range(4)]
    assert index.sync({"corpus.jsonl": corpus}, atomic=False).sources["corpus.jsonl"].status == "added"
    encoded = _encoded(index, monkeypatch)
    changed = [*corpus[:2], {"id": "d2", "text": "paris is in france."}]  # d2 edited, d3 gone
    summary = index.sync({"corpus.jsonl": changed}, atomic=False)
    result = summary.sources["corpus.jsonl"]
    assert (result.status, result.written, summary.ingest.skipped, result.removed) == ("updated", 1, 2, 1)
    assert encoded == ["paris is in france."]
    assert index.get(["d2"])[0].text == "paris is in france." and index.get(["d3"]) == []
    assert index.sync({"corpus.jsonl": changed}, atomic=False).sources["corpus.jsonl"].status == "unchanged"


def test_add_replaces_a_changed_text_under_a_stored_id(index: ColBERTIndex) -> None:
    index.add([{"id": "x", "text": "scurvy is a disease."}])
    again = index.add([{"id": "x", "text": "scurvy is a disease."}])
    assert (again.documents, again.skipped) == (0, 1)
    changed = index.add([{"id": "x", "text": "paris is in france."}])
    assert (changed.documents, changed.skipped) == (1, 0)
    assert index.get(["x"])[0].text == "paris is in france." and index.count() == 1


@pytest.mark.parametrize("crash_at", ["delete_where", "upsert"])
def test_a_crash_mid_sync_leaves_each_source_fully_old_or_fully_new(
    open_index: OpenIndex, monkeypatch: pytest.MonkeyPatch, crash_at: str
) -> None:
    """Fault injected between writing a source's new version and deleting its old one (or while writing)."""
    index = open_index()
    old = ["scurvy is a disease.", "a lack of vitamin c.", "the old tail."]
    new = ["scurvy is a disease of sailors.", "limes prevent it."]
    index.sync({"a.md": old, "b.md": ["paris is in france."]})
    calls = {"n": 0}
    real = getattr(index.backend, crash_at)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if crash_at == "upsert" and calls["n"] == 1:
            real([args[0][0]], **kwargs)  # a part of the new version reached the store
        raise OSError("killed")

    monkeypatch.setattr(index.backend, crash_at, crash)
    with pytest.raises(OSError, match="killed"):
        index.sync({"a.md": new})
    monkeypatch.undo()
    # Until the next sync, the complete old version is still whole (a search may also see the new one).
    assert set(old) <= set(_texts(index, "a.md"))
    index.close()
    index = open_index()  # restart
    assert index.sources()["a.md"] is None  # something to finish
    assert index.sync({"a.md": new}).sources["a.md"].status in ("unchanged", "updated")
    assert _texts(index, "a.md") == sorted(new) and _texts(index, "b.md") == ["paris is in france."]
    assert index.sources()["a.md"] is not None


def test_a_source_restored_to_its_old_version_after_a_crash_keeps_only_it(
    index: ColBERTIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = ["scurvy is a disease.", "the old tail."]
    index.sync({"a.md": old})
    monkeypatch.setattr(index.backend, "delete_where", lambda *a, **k: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        index.sync({"a.md": ["scurvy is a disease of sailors."]})
    monkeypatch.undo()
    summary = index.sync({"a.md": old})  # the file was reverted before the restart
    assert _texts(index, "a.md") == sorted(old) and summary.removed == 1


def test_sync_refuses_a_document_of_another_source(index: ColBERTIndex) -> None:
    with pytest.raises(InvalidArgumentError, match="source"):
        index.sync({"a.md": [{"text": "scurvy", "metadata": {"source": "b.md"}}]})
    with pytest.raises(InvalidArgumentError, match="source"):
        index.sync({"": ["scurvy"]})
    with pytest.raises(InvalidArgumentError, match="mapping"):
        index.sync(["scurvy"])  # type: ignore[arg-type]


def test_over_long_texts_are_counted_and_named_once_per_call(index: ColBERTIndex) -> None:
    long = " ".join(["scurvy vitamin disease"] * 40)  # the tiny model reads 24 tokens
    with pytest.warns(TruncationWarning) as caught:
        summary = index.add([{"id": "long", "text": long}, {"id": "short", "text": "scurvy"}, long + " again"])
    assert len([w for w in caught if w.category is TruncationWarning]) == 1
    message = str(caught[0].message)
    assert "2 longer than the model reads (24 tokens; first: long, " in message and "truncation=False" in message
    assert (summary.truncated.count, summary.truncated.limit) == (2, 24) and "2 cut to 24 tokens" in str(summary)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncationWarning)
        assert not index.add(["scurvy is a disease."]).truncated


def test_a_model_reading_whole_texts_cuts_nothing(open_index: OpenIndex, tiny_colbert) -> None:  # type: ignore[no-untyped-def]
    tiny_colbert.truncation = False
    try:
        index = open_index()
        with warnings.catch_warnings():
            warnings.simplefilter("error", TruncationWarning)
            summary = index.add([" ".join(["scurvy vitamin disease"] * 40)])
        assert summary.documents == 1 and not summary.truncated
    finally:
        tiny_colbert.truncation = True
