"""``colbert-retrieval index PATHS`` run again after the folder changed: a sync, as a user re-runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from colbert_retrieval import ColBERT
from colbert_retrieval.cli import main
from colbert_retrieval.qdrant.backends import EdgeBackend

A_OLD = "# Scurvy\n\nScurvy comes from a lack of vitamin C.\n\n## History\n\nSailors carried lemons and limes.\n"
A_NEW = "# Scurvy\n\nScurvy is a disease of sailors.\n"
B_TEXT = "# Paris\n\nParis is the capital of France, on the Seine.\n"
C_TEXT = "# Statins\n\nStatins lower cholesterol.\n"
D_TEXT = "# Pooling\n\nToken pooling clusters similar token vectors.\n"


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document text the model encodes (a spy on ColBERT.encode)."""
    seen: list[str] = []
    encode = ColBERT.encode

    def spy(self, inputs=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not kwargs.get("is_query", True):
            seen.extend([inputs] if isinstance(inputs, str) else inputs)
        return encode(self, inputs, *args, **kwargs)

    monkeypatch.setattr(ColBERT, "encode", spy)
    return seen


def _index(folder: Path, store: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["index", str(folder), "--path", str(store), *extra]) == 0
    return capsys.readouterr().out


def _stored_texts(store: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["search", "scurvy sailors paris statins pooling", "--path", str(store), "-k", "50", "--json"]) == 0
    return [json.loads(line)["text"] for line in capsys.readouterr().out.splitlines()]


def test_reindexing_an_edited_folder_serves_no_old_or_deleted_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoded: list[str]
) -> None:
    folder, store = tmp_path / "docs", tmp_path / "store"
    folder.mkdir()
    (folder / "a.md").write_text(A_OLD)
    (folder / "b.md").write_text(B_TEXT)
    (folder / "c.md").write_text(C_TEXT)
    first = _index(folder, store, capsys)
    assert "files: 0 unchanged, 0 updated, 3 added, 0 removed; 4 chunks written" in first
    (folder / "a.md").write_text(A_NEW)  # shorter: one section instead of two
    (folder / "b.md").unlink()
    (folder / "d.md").write_text(D_TEXT)
    encoded.clear()
    second = _index(folder, store, capsys)
    assert "files: 1 unchanged, 1 updated, 1 added, 1 removed; 2 chunks written" in second
    assert "3 old chunks removed; 3 chunks stored" in second
    assert not any("Statins" in text for text in encoded)  # the unchanged file was not encoded again
    texts = " ".join(_stored_texts(store, capsys))
    assert "disease of sailors" in texts and "Token pooling" in texts and "Statins" in texts
    assert "lack of vitamin C" not in texts and "lemons" not in texts and "Paris" not in texts
    encoded.clear()
    third = _index(folder, store, capsys)
    assert "files: 3 unchanged, 0 updated, 0 added, 0 removed; 0 chunks written" in third and encoded == []


def test_keep_missing_and_a_changed_chunker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder, store = tmp_path / "docs", tmp_path / "store"
    folder.mkdir()
    (folder / "a.md").write_text(A_OLD)
    (folder / "b.md").write_text(B_TEXT)
    _index(folder, store, capsys)
    (folder / "b.md").unlink()
    kept = _index(folder, store, capsys, "--keep-missing")
    assert "1 unchanged, 0 updated, 0 added, 0 removed" in kept
    assert any("Paris" in text for text in _stored_texts(store, capsys))
    rechunked = _index(folder, store, capsys, "--chunk-tokens", "16", "--overlap-tokens", "4")
    assert "0 unchanged, 1 updated, 0 added, 1 removed" in rechunked  # a new budget re-chunks every file
    assert not any("Paris" in text for text in _stored_texts(store, capsys))


def test_a_crash_mid_sync_then_a_restart_leaves_every_file_fully_old_or_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, store = tmp_path / "docs", tmp_path / "store"
    folder.mkdir()
    (folder / "a.md").write_text(A_OLD)
    (folder / "b.md").write_text(B_TEXT)
    _index(folder, store, capsys)
    (folder / "a.md").write_text(A_NEW)
    (folder / "b.md").write_text(B_TEXT.replace("Seine", "river Seine"))
    real = EdgeBackend.delete_where

    def killed(self, condition):  # type: ignore[no-untyped-def]
        raise OSError("killed between writing the new chunks and deleting the old ones")

    monkeypatch.setattr(EdgeBackend, "delete_where", killed)
    assert main(["index", str(folder), "--path", str(store)]) == 2  # the first file's switch fails
    assert "killed" in capsys.readouterr().err
    monkeypatch.setattr(EdgeBackend, "delete_where", real)
    restarted = _index(folder, store, capsys)
    # Both new versions were complete when the first old one was to be deleted: the restart keeps them and
    # deletes what the crash left (the old chunks), encoding nothing.
    assert "files: 2 unchanged, 0 updated, 0 added, 0 removed; 0 chunks written (0 vectors), 3 old chunks" in restarted
    texts = _stored_texts(store, capsys)
    assert sorted(texts) == [
        "Paris\n\nParis is the capital of France, on the river Seine.",
        "Scurvy\n\nScurvy is a disease of sailors.",
    ]


def test_skipped_formats_are_one_line_by_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    (folder / "assets").mkdir(parents=True)
    (folder / "a.md").write_text(A_NEW)
    for name in ("logo.png", "shot.png", "app.js", "mermaid.LICENSE"):
        (folder / "assets" / name).write_bytes(b"x")
    out = _index(folder, tmp_path / "store", capsys)
    assert "4 files of formats not read: 2 .png, 1 .js, 1 .license" in out
    assert "logo.png" not in out
