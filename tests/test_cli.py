"""The CLI commands shown in the README and the tutorials, on small fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from colbert_retrieval.cli import main


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "qdrant.md").write_text(
        "# Qdrant\n\nTo move from embedded Qdrant to a server, run a Qdrant server and pass url= to the index. "
        + "Point ids are deterministic, so re-running the ingest writes no duplicates. " * 10
    )
    (folder / "pooling.txt").write_text("Token pooling clusters similar token vectors with Ward linkage.")
    (folder / "notes.jsonl").write_text(
        json.dumps({"id": "n1", "text": "Scurvy comes from a lack of vitamin C."}) + "\n"
    )
    return folder


def test_index_search_info(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    assert main(["index", str(corpus), "--path", store, "--chunk-words", "30", "--overlap-words", "5"]) == 0
    out = capsys.readouterr().out
    assert "documents written" in out
    assert main(["index", str(corpus), "--path", store, "--chunk-words", "30", "--overlap-words", "5"]) == 0
    assert "0 documents written" in capsys.readouterr().out  # idempotent
    assert main(["search", "How do I move from embedded Qdrant to a server?", "--path", store, "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ") and "qdrant.md" in out.splitlines()[0]
    assert (
        main(["search", "vitamin", "--path", store, "--json", "--filter", "source=" + str(corpus / "notes.jsonl")]) == 0
    )
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [h["id"] for h in hits] == ["n1"]
    assert main(["info", "--path", store]) == 0
    assert "documents:" in capsys.readouterr().out
    assert main(["info", "--path", store, "--collection", "missing"]) == 1


def test_search_without_index_and_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "x", "--path", str(tmp_path / "empty")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["index", str(tmp_path / "nope"), "--location", ":memory:"]) == 2


@pytest.mark.parametrize("extra", [[], ["--exact"], ["--pool-factor", "1"]])
def test_evaluate_on_a_tiny_beir_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]) -> None:
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    docs = {
        "d1": "Scurvy is a disease resulting from a lack of vitamin C.",
        "d2": "Paris is the capital of France.",
        "d3": "Statins lower cholesterol.",
    }
    (beir / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": k, "title": "", "text": v}) for k, v in docs.items())
    )
    queries = [{"_id": "q1", "text": "what causes scurvy"}, {"_id": "q2", "text": "capital of france"}]
    (beir / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    assert main(["evaluate", str(beir), "--location", ":memory:", *extra]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ndcg@10"] == 1.0 and result["mrr@10"] == 1.0 and result["queries"] == 2
    assert result["query_p95_ms"] >= result["query_p50_ms"] > 0
