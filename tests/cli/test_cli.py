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
    assert main(["index", str(corpus), "--path", store, "--chunk-tokens", "64", "--overlap-tokens", "8"]) == 0
    out = capsys.readouterr().out
    assert "files: 0 unchanged, 0 updated, 3 added, 0 removed; 8 chunks written" in out
    assert main(["index", str(corpus), "--path", store, "--chunk-tokens", "64", "--overlap-tokens", "8"]) == 0
    assert "files: 3 unchanged, 0 updated, 0 added, 0 removed; 0 chunks written" in capsys.readouterr().out
    assert main(["search", "How do I move from embedded Qdrant to a server?", "--path", store, "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("1. ") and "qdrant.md \u203a Qdrant (lines 3-3)" in out.splitlines()[0]
    )  # file, section, lines
    assert main(["search", "move to a server", "--path", store, "-k", "1", "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)
    assert hit["source"].endswith("qdrant.md") and hit["section"] == "Qdrant" and hit["lines"] == [3, 3]
    assert (
        main(["search", "vitamin", "--path", store, "--json", "--filter", "source=" + str(corpus / "notes.jsonl")]) == 0
    )
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [h["id"] for h in hits] == ["n1"]
    assert main(["info", "--path", store]) == 0
    assert "documents:" in capsys.readouterr().out
    assert main(["info", "--path", store, "--collection", "missing"]) == 2  # a user error: one line, exit 2
    assert main(["index", str(corpus), "--path", store, "--chunk-tokens", "5000"]) == 2  # more than the model reads
    assert "more than the model reads" in capsys.readouterr().err


def test_search_without_index_and_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "x", "--path", str(tmp_path / "empty")]) == 2
    assert "No store at" in capsys.readouterr().err
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


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    return status, lines[0] if len(lines) == 1 else err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"id": "a", "text": 5}\n', "bad.jsonl:1: 'title' and 'text' must be strings"),
        ("[1, 2]\n", "bad.jsonl:1: expected a JSON object"),
        ("{oops\n", "bad.jsonl:1: not valid JSON"),
    ],
)
def test_cli_names_the_file_and_line_of_a_bad_jsonl_line(
    content: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.jsonl").write_text(content)
    status, line = _run(["index", str(tmp_path / "bad.jsonl"), "--path", str(tmp_path / "s")], capsys)
    assert status == 2 and expected in line and "could not be read" in line, line


def test_a_bad_line_skips_its_file_names_it_and_the_rest_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "text": "ok"}\n{oops\n{"id": "c", "text": "never read"}\n')
    (tmp_path / "good.txt").write_text("Scurvy comes from a lack of vitamin C.")
    assert main(["index", str(tmp_path), "--path", str(tmp_path / "s")]) == 0
    captured = capsys.readouterr()
    assert "bad.jsonl:2: not valid JSON" in captured.err and "Skipped 1 damaged file(s)" in captured.out
    # A sync of part of a corpus would remove the records after the bad line: the file writes nothing.
    assert "1 added, 0 removed; 1 chunks written" in captured.out


def test_cli_refuses_binary_undecodable_and_empty_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "program.txt").write_bytes(b"\x7fELF\x00\x00\x01binary")
    status, line = _run(["index", str(tmp_path / "program.txt"), "--path", str(tmp_path / "s")], capsys)
    assert status == 2 and "binary" in line and "program.txt" in line
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    status, line = _run(["index", str(tmp_path / "latin1.txt"), "--path", str(tmp_path / "s")], capsys)
    assert status == 2 and "latin1.txt:1: not UTF-8" in line
    (tmp_path / "empty").mkdir()
    status, line = _run(["index", str(tmp_path / "empty"), "--path", str(tmp_path / "s")], capsys)
    assert status == 2 and "No .txt, .md," in line and "nothing to index" in line
    (tmp_path / "blank.txt").write_text("   \n")
    status, line = _run(["index", str(tmp_path / "blank.txt"), "--path", str(tmp_path / "s")], capsys)
    assert status == 2 and "no text" in line


def test_cli_reading_commands_do_not_create_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["search", "q"], ["info"]):
        status, line = _run([*command, "--path", str(tmp_path / "nothing")], capsys)
        assert status == 2 and "No store at" in line
    assert not (tmp_path / "nothing").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "q", "--filter", "abc"], "--filter expects KEY=VALUE"),
        (["search", "q", "--device", "bogus"], "Unknown device 'bogus'"),
        (["search", "q", "--model", "no-such-org/no-such-model"], "no-such-org/no-such-model"),
    ],
)
def test_cli_argument_errors_are_one_line(
    argv: list[str], expected: str, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(tmp_path / "store")
    assert main(["index", str(corpus / "pooling.txt"), "--path", store]) == 0
    capsys.readouterr()
    status, line = _run([*argv, "--path", store], capsys)
    assert status == 2 and expected in line, line


def test_cli_encodes_on_another_backend(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store")
    runtime = ["--backend", "onnx", "--inference-precision", "float32"]
    assert main(["index", str(corpus / "pooling.txt"), "--path", store, *runtime]) == 0
    capsys.readouterr()
    assert main(["search", "token pooling", "--path", store, *runtime]) == 0
    assert "pooling.txt" in capsys.readouterr().out
    status, line = _run(["search", "q", "--path", store, "--backend", "torch", "--inference-precision", "int8"], capsys)
    assert status == 2 and "backend='onnx' or 'openvino'" in line, line


def test_cli_batch_size_zero_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["index", "x.txt", "--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "expected an integer >= 1" in capsys.readouterr().err


def test_cli_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    status, line = _run(["info", "--url", "http://127.0.0.1:9", "--collection", "x"], capsys)
    assert status == 2 and "Cannot reach the Qdrant server" in line


def test_cli_evaluate_names_a_corpus_line_without_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text(json.dumps({"text": "no id here"}) + "\n")
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "x"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    status, line = _run(["evaluate", str(beir), "--location", ":memory:"], capsys)
    assert status == 2 and "corpus.jsonl:1: a BEIR line needs an '_id' field" in line
    (beir / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "text": "doc"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq9\td1\t1\n")
    status, line = _run(["evaluate", str(beir), "--location", ":memory:"], capsys)
    assert status == 2 and "No query" in line


def test_cli_store_held_by_another_index_is_one_line(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], minilm
) -> None:
    from colbert_retrieval.qdrant import ColBERTIndex

    store = str(tmp_path / "store")
    assert main(["index", str(corpus / "pooling.txt"), "--path", store]) == 0
    capsys.readouterr()
    with ColBERTIndex(minilm, "colbert", store=store):
        status, line = _run(["search", "ward", "--path", store], capsys)
    assert status == 2 and "open in another process" in line


def test_cli_cuda_without_cuda_is_one_line(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    store = str(tmp_path / "store")
    assert main(["index", str(corpus / "pooling.txt"), "--path", store]) == 0
    capsys.readouterr()
    status, line = _run(["search", "ward", "--path", store, "--device", "cuda"], capsys)
    assert status == 2 and "not available on this machine" in line


def test_an_index_left_open_at_exit_prints_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = (
        "from colbert_retrieval import default_model\n"
        "from colbert_retrieval.qdrant import ColBERTIndex\n"
        f"index = ColBERTIndex(default_model(), 'docs', store={str(tmp_path / 'store')!r})\n"
        "index.add(['left open at exit'])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Exception ignored" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_info_hardware_names_device_kernels_and_stores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--hardware"]) == 0
    out = capsys.readouterr().out
    for key in ("device:", "encoding_precision:", "backends:", "pooling:", "maxsim_dtype:", "stores:", "cpu_flags:"):
        assert key in out
    assert "short_inputs:        onnx float32, 1 thread," in out and "COLBERT_RETRIEVAL_SHORT_INPUTS" in out
    from colbert_retrieval.models import cpu_has_native_bf16

    assert ("bfloat16 (auto: native bf16 on this CPU)" in out) == cpu_has_native_bf16()
    from colbert_retrieval.models import bulk_unavailable

    bulk = next(line for line in out.splitlines() if line.startswith("bulk_encoding:"))
    if bulk_unavailable() is None:
        assert "OpenVINO int8, calibrated on the first call of 128+ documents" in bulk
    else:  # what would be faster, and the pip line that gets it
        assert "OpenVINO int8 would be faster" in bulk and "pip install" in bulk


def test_info_hardware_says_what_would_be_faster_without_openvino(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import colbert_retrieval.models as models

    monkeypatch.setattr(
        models, "bulk_unavailable", lambda: "nncf not installed (pip install 'colbert-retrieval[openvino]')"
    )
    assert main(["info", "--hardware"]) == 0
    bulk = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("bulk_encoding:"))
    assert "OpenVINO int8 would be faster" in bulk and "pip install 'colbert-retrieval[openvino]'" in bulk


def test_model_loading_is_quiet_unless_verbose(
    tiny_bert_dir, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "a.txt"
    text.write_text("Scurvy comes from a lack of vitamin C.")
    common = ["index", str(text), "--location", ":memory:", "--model", str(tiny_bert_dir)]
    assert main(common) == 0
    assert "Loading weights" not in capfd.readouterr().err
    assert main([*common, "--verbose"]) == 0
    assert "Loading weights" in capfd.readouterr().err


def test_index_names_corpus_records_longer_than_the_model_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus.jsonl"
    lines = [{"_id": "short", "text": "Scurvy comes from a lack of vitamin C."}]
    lines.append({"_id": "long", "text": "Lemons and limes were carried on long voyages. " * 80})
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["index", str(corpus), "--path", str(tmp_path / "store")]) == 0
    out = capsys.readouterr().out
    assert "2 chunks written" in out  # a corpus is indexed as it is, never re-chunked
    assert "1 record(s) are longer than the model reads (256 tokens; first: long)" in out


def test_every_choice_list_is_the_enum_it_names() -> None:
    """A value added to an enum (a mode, a preset, a precision) is offered by the command line too (#36)."""
    import argparse

    from qdrant_client import models as qm

    from colbert_retrieval.cli import build_parser
    from colbert_retrieval.models._precision import BACKENDS, INFERENCE_PRECISIONS
    from colbert_retrieval.qdrant import SearchMode, StoragePreset
    from colbert_retrieval.single_vector import FirstStage
    from colbert_retrieval.training._fine_tune import SELECTIONS

    names = {
        "--selection": list(SELECTIONS),
        "--storage": [p.value for p in StoragePreset],
        "--backend": list(BACKENDS),
        "--inference-precision": list(INFERENCE_PRECISIONS),
        "--first-stage": [f.value for f in FirstStage],
        "--mode": [m.value for m in SearchMode],
        "--write-ordering": [o.value for o in qm.WriteOrdering],
    }
    seen: dict[str, int] = {}

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            elif action.choices is not None and action.option_strings:
                option = action.option_strings[0]
                assert option in names, f"{option} offers choices no test ties to an enum"
                assert sorted(action.choices) == sorted(names[option]), option
                seen[option] = seen.get(option, 0) + 1

    walk(build_parser())
    assert set(seen) == set(names)


def test_search_min_relevance_keeps_the_index_s_hits(corpus: Path, tmp_path: Path, capsys) -> None:
    """`search --min-relevance P` = index.search(config={"min_relevance": P}); lines and JSON carry it (#37)."""
    from colbert_retrieval import default_model
    from colbert_retrieval.qdrant import ColBERTIndex

    store = str(tmp_path / "store")
    assert main(["index", str(corpus), "--path", store]) == 0
    capsys.readouterr()
    query = "How do I move from embedded Qdrant to a server?"
    assert main(["search", query, "--path", store, "-k", "5", "--json"]) == 0
    every = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert all(0.0 <= h["relevance"] <= 1.0 for h in every)
    least = sorted(h["relevance"] for h in every)[len(every) // 2]
    assert main(["search", query, "--path", store, "-k", "5", "--json", "--min-relevance", str(least)]) == 0
    kept = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    with ColBERTIndex(default_model(), "colbert", store=store, create=False) as index:
        expected = index.search(query, k=5, config={"min_relevance": least})
    assert [h["id"] for h in kept] == [h.id for h in expected] and kept
    assert main(["search", query, "--path", store, "--min-relevance", "1"]) == 0
    assert "No results (none reaches relevance 1.0)." in capsys.readouterr().out  # a probability below 1
    with pytest.raises(SystemExit) as exit_info:  # a usage error: not a probability
        main(["search", query, "--path", store, "--min-relevance", "2"])
    assert exit_info.value.code == 2 and "expected a probability between 0 and 1" in capsys.readouterr().err


def test_search_marks_the_matched_words_and_json_carries_the_spans(corpus: Path, tmp_path: Path, capsys) -> None:
    """Highlights are on in the CLI (#37): lines mark the words, ``--json`` carries the spans, and both are
    ``index.search(config={"highlights": True})``'s."""
    from colbert_retrieval import default_model
    from colbert_retrieval.qdrant import ColBERTIndex

    store = str(tmp_path / "store")
    assert main(["index", str(corpus), "--path", store]) == 0
    capsys.readouterr()
    assert main(["search", "what causes scurvy", "--path", store, "-k", "1"]) == 0
    assert "[Scurvy]" in capsys.readouterr().out  # not a terminal: brackets
    assert main(["search", "what causes scurvy", "--path", store, "-k", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    with ColBERTIndex(default_model(), "colbert", store=store, create=False) as index:
        expected = index.search("what causes scurvy", k=2, config={"highlights": True})
    assert [line["highlights"] for line in lines] == [[h.to_dict() for h in hit.highlights] for hit in expected]
    for line in lines:
        assert all(line["text"][h["start"] : h["end"]] == h["text"] for h in line["highlights"])
    assert main(["search", "what causes scurvy", "--path", store, "-k", "1", "--json", "--no-highlights"]) == 0
    assert "highlights" not in json.loads(capsys.readouterr().out)
    assert main(["search", "what causes scurvy", "--path", store, "-k", "1", "--no-highlights"]) == 0
    assert "[Scurvy]" not in capsys.readouterr().out
