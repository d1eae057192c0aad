"""Hard-negative mining from our own index, and the end-to-end ``colbert-retrieval train`` recipe."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from colbert_retrieval import ColBERT
from colbert_retrieval.cli import main
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import overlong_documents
from colbert_retrieval.training import FineTuneConfig, fine_tune, mine_hard_negatives
from tests.training.conftest import CORPUS, QRELS, QUERIES


def losses_module():
    from sentence_transformers.multi_vector_encoder.losses import multiple_negatives_ranking

    return multiple_negatives_ranking


TRAIN = {q: {d: g for qq, d, g in QRELS["train"] if qq == q} for q, *_ in QRELS["train"]}


def test_mined_negatives_are_retrieved_unjudged_documents(minilm) -> None:
    queries = {q: QUERIES[q] for q in TRAIN}
    rows = mine_hard_negatives(minilm, queries, TRAIN, CORPUS, n_negatives=2, top_k=5, relative_margin=0.0)
    assert rows.column_names == ["query", "positive", "negative_1", "negative_2"]
    assert len(rows) == len(TRAIN)
    for row in rows:
        query_id = next(q for q, text in queries.items() if text == row["query"])
        judged = {CORPUS[d] for d in TRAIN[query_id]}
        best = max(TRAIN[query_id], key=TRAIN[query_id].get)
        assert row["positive"] == CORPUS[best]  # the best grade first
        assert row["negative_1"] not in judged and row["negative_2"] not in judged
        assert row["negative_1"] != row["negative_2"]
    again = mine_hard_negatives(minilm, queries, TRAIN, CORPUS, n_negatives=2, top_k=5, relative_margin=0.0)
    assert again.to_list() == rows.to_list()  # seeded


def test_mining_passes_positives_and_margin(minilm) -> None:
    queries = {q: QUERIES[q] for q in TRAIN}
    rows = mine_hard_negatives(minilm, queries, TRAIN, CORPUS, positives_per_query=2, passes=2, top_k=8)
    assert len(rows) == 2 * sum(min(2, len(TRAIN[q])) for q in TRAIN)
    assert {r["positive"] for r in rows if r["query"] == QUERIES["t1"]} == {CORPUS["scurvy"], CORPUS["citrus"]}
    strict = mine_hard_negatives(minilm, queries, TRAIN, CORPUS, top_k=8, relative_margin=0.99)
    assert len(strict) < len(TRAIN)  # nothing scores below 1% of the positive: those queries are left out
    with pytest.raises(InvalidArgumentError, match="relative_margin"):
        mine_hard_negatives(minilm, queries, TRAIN, CORPUS, relative_margin=1.0)


def test_fine_tune_saves_the_best_checkpoint_with_a_card_and_resumes(tiny_bert_dir, beir_dir, tmp_path) -> None:
    """The rule before 0.3 (``selection="checkpoint"``): the best checkpoint on dev."""
    output = tmp_path / "run"
    config = FineTuneConfig(
        data=beir_dir,
        output=output,
        model=str(tiny_bert_dir),
        test_split="test",
        batch_size=2,
        passes=1,
        top_k=4,
        selection="checkpoint",
    )
    report = fine_tune(config)
    assert set(report.before) == set(report.after) == {"dev", "test"}
    assert report.curve[0] == (0, report.before["dev"]["ndcg@10"]) and len(report.curve) >= 2
    assert report.steps >= 1 and report.wall_seconds > 0
    best = max(score for _, score in report.curve[1:])
    if report.kept.startswith("trained"):  # the selected checkpoint, named by its step
        assert report.after["dev"]["ndcg@10"] == pytest.approx(best, abs=1e-4)
        step = next(step for step, score in report.curve[1:] if score == best)
        assert report.kept == f"trained (best checkpoint on dev: step {step} of {report.steps})"
    card = (output / "README.md").read_text()
    assert "| dev | ndcg@10 |" in card and "Eval curve" in card and "learning_rate" in card
    assert json.loads((output / "training_report.json").read_text())["steps"] == report.steps
    saved = ColBERT(str(output), device="cpu")  # the saved model loads
    corpus = [json.loads(line) for line in (Path(beir_dir) / "corpus.jsonl").read_text().splitlines() if line]
    texts = [" ".join(part for part in (d.get("title"), d["text"]) if part) for d in corpus]
    assert report.settings["corpus_documents_cut"] == len(overlong_documents(saved, texts))  # counted, not silent
    assert (output / "mined").is_dir()
    again = fine_tune(config)  # resumes: the mined data and the last checkpoint are reused
    assert again.steps == report.steps


def test_cli_train(tiny_bert_dir, beir_dir, tmp_path, capsys, monkeypatch) -> None:
    """End to end through sentence-transformers' trainer, whose loss scores through ``model.similarity`` with
    its own keywords (sentence-transformers >= 6.3; older releases score with their own function)."""
    calls: list[set[str]] = []
    similarity = ColBERT.similarity

    def spy(self, *args, **kwargs):
        calls.append(set(kwargs))
        return similarity(self, *args, **kwargs)

    monkeypatch.setattr(ColBERT, "similarity", spy)
    output = tmp_path / "cli"
    options = ["--model", str(tiny_bert_dir), "--batch-size", "2", "--max-steps", "2", "--eval-split", "none"]
    code = main(["train", str(beir_dir), "--output", str(output), *options])
    assert code == 0
    if hasattr(losses_module(), "_colbert_scores"):  # 6.3: the default loss scores through the model
        assert any({"a_mask", "b_mask"} <= keywords for keywords in calls)
    out = capsys.readouterr().out
    printed = json.loads(out[out.rindex('{\n  "before"') :])  # after the trainer's own log lines
    assert printed["steps"] == 2 and printed["curve"] == [] and "dev" not in printed["before"]
    assert (output / "model.safetensors").exists()
    assert main(["train", str(tmp_path / "missing"), "--output", str(output)]) == 2  # one line, no traceback


def test_a_rerun_with_other_mining_settings_mines_again(tiny_bert_dir, beir_dir, tmp_path) -> None:
    """The mined rows are reused only when they were mined with the same settings (here: passes)."""
    base = {"data": beir_dir, "output": tmp_path / "run", "model": str(tiny_bert_dir), "batch_size": 2, "top_k": 4}
    fine_tune(FineTuneConfig(**base, passes=1, max_steps=1, eval_split=None))
    one_pass = len(datasets.load_from_disk(str(tmp_path / "run" / "mined")))
    fine_tune(FineTuneConfig(**base, passes=2, max_steps=1, eval_split=None))
    assert len(datasets.load_from_disk(str(tmp_path / "run" / "mined"))) == 2 * one_pass


def _six_training_queries(beir_dir: Path) -> None:
    extra = [("t5", "louvre", 2), ("t6", "bones", 2)]
    queries = [json.loads(line) for line in (beir_dir / "queries.jsonl").read_text().splitlines()]
    queries += [{"_id": "t5", "text": "art museum"}, {"_id": "t6", "text": "strong bones"}]
    (beir_dir / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    with (beir_dir / "qrels" / "train.tsv").open("a") as handle:
        handle.write("".join(f"{q}\t{d}\t{g}\n" for q, d, g in extra))


def test_a_folder_without_a_dev_split_holds_out_training_queries_then_trains_on_all(
    tiny_bert_dir, beir_dir, tmp_path
) -> None:
    """SciFact-like (train + test only), no flag: the schedule is chosen on a seeded share of the training
    queries (never test), then the model trains again on every training query and says so."""
    (beir_dir / "qrels" / "dev.tsv").unlink()
    _six_training_queries(beir_dir)
    config = FineTuneConfig(
        data=beir_dir, output=tmp_path / "run", model=str(tiny_bert_dir), test_split="test", batch_size=2, top_k=4
    )
    report = fine_tune(config)
    assert report.settings["eval_split"] == "heldout" and report.settings["eval_split_requested"] == "auto"
    held = report.settings["heldout_queries"]
    assert len(held) == 1 and held[0].startswith("t")  # 10 % of the 6 training queries, from train only
    assert set(report.before) == {"heldout", "test"} and report.curve[0][0] == 0 and len(report.curve) >= 2
    selection = report.selection
    assert [step for step, _ in selection["points"]] == [step for step, _ in report.curve[: len(selection["points"])]]
    assert selection["chosen_step"] in [step for step, _ in report.curve[1:]] and selection["reason"]
    assert report.settings["rows_before_retrain"] < report.settings["rows"]  # the held-out query's rows
    if selection["keep"]:
        assert report.kept.startswith("trained again on every training query")
        assert set(report.after) == {"test"}  # the kept model trained on the held-out query: no after for it
        assert (tmp_path / "run" / "retrain").is_dir()
    else:
        assert report.kept.startswith("untouched") and set(report.after) == {"heldout", "test"}
    card = (tmp_path / "run" / "README.md").read_text()
    assert "Schedule rule: longest evaluated schedule" in card and "Relevance calibration" in card
    saved = json.loads((tmp_path / "run" / "training_report.json").read_text())
    assert saved["selection"] == json.loads(json.dumps(selection)) and saved["relevance"] == report.relevance
    again = fine_tune(FineTuneConfig(**{**config.__dict__, "output": tmp_path / "again", "max_steps": 1}))
    assert again.settings["heldout_queries"] == held  # seeded: the same queries every run


def test_the_retrain_rule_on_a_named_eval_split_keeps_the_chosen_checkpoint(tiny_bert_dir, beir_dir, tmp_path):
    """``--eval-split dev``: dev chooses the step (nothing to retrain: dev was never training data); dev is
    where the relevance calibration is fitted, and the saved model carries it."""
    config = FineTuneConfig(
        data=beir_dir,
        output=tmp_path / "run",
        model=str(tiny_bert_dir),
        eval_split="dev",
        batch_size=2,
        passes=2,
        top_k=4,
    )
    report = fine_tune(config)
    selection = report.selection
    assert selection["queries"] == 2 and len(selection["points"]) == len(report.curve)
    assert not (tmp_path / "run" / "retrain").exists()
    if selection["keep"]:
        chosen = dict(report.curve)[selection["chosen_step"]]
        assert report.after["dev"]["ndcg@10"] == pytest.approx(chosen, abs=1e-4)  # that checkpoint was kept
    if report.relevance.startswith("fitted"):
        assert ColBERT(str(tmp_path / "run"), device="cpu").relevance is not None


def test_an_unknown_selection_rule_is_refused(beir_dir, tmp_path) -> None:
    with pytest.raises(InvalidArgumentError, match="selection must be one of"):
        fine_tune(FineTuneConfig(data=beir_dir, output=tmp_path / "run", selection="best"))


def test_the_retrain_stops_at_the_chosen_share_of_the_schedule(tiny_bert_dir, beir_dir, tmp_path, monkeypatch):
    """When the held-out curve keeps an early step, the retrain on every query stops at the same share of its
    (longer) schedule, starting from the same untouched weights the selection started from."""
    from colbert_retrieval.training import _fine_tune
    from colbert_retrieval.training._selection import Selection

    def first_step(untouched, curve):
        step = min(step for step, _ in curve)
        return Selection("test rule", [(0, 0.0)], len(untouched), step, step, 0.0, 0.1, True, "forced")

    monkeypatch.setattr(_fine_tune, "choose_schedule", first_step)
    (beir_dir / "qrels" / "dev.tsv").unlink()
    _six_training_queries(beir_dir)
    config = FineTuneConfig(
        data=beir_dir, output=tmp_path / "run", model=str(tiny_bert_dir), batch_size=2, passes=3, top_k=4
    )
    report = fine_tune(config)
    total_first = report.curve[-1][0]  # the selection's last evaluated step is its last step
    total = report.settings["rows"] // 2
    chosen = report.selection["chosen_step"]
    assert chosen < total_first and report.steps == round(chosen / total_first * total)
    assert report.kept == f"trained again on every training query for {report.steps} steps (chosen at step {chosen})"
    assert (tmp_path / "run" / "untouched").is_dir() and (tmp_path / "run" / "retrain").is_dir()
    assert report.relevance.startswith("fitted") or report.relevance.startswith("not fitted:")


def test_the_old_rule_names_the_step_of_the_checkpoint_it_kept(tmp_path) -> None:
    from types import SimpleNamespace

    from colbert_retrieval.training._fine_tune import _best_step

    curve = [(0, 0.30), (72, 0.33), (144, 0.35), (216, 0.34), (218, 0.35)]
    loaded = SimpleNamespace(best_model_checkpoint=str(tmp_path / "checkpoints" / "checkpoint-144"))
    assert _best_step(loaded, curve) == 144
    assert _best_step(SimpleNamespace(best_model_checkpoint=None), curve) == 144  # the first maximum, as the trainer
