"""The recipe behind ``colbert-retrieval train``: mine, choose a schedule on held-out queries, train on all of them.

1. Encode the corpus once with the untouched model: it scores the "before" metrics (exact MaxSim) and
   feeds the hard-negative mining (:func:`~colbert_retrieval.training._mining.mine_hard_negatives`).
2. Selection (``selection="retrain"``, the default): a seeded 10 % of the training queries is held out; the
   model trains on the rest with sentence-transformers' ``MultiVectorEncoderTrainer`` and
   :class:`~.losses.Contrastive` (in-batch and mined negatives), scored on the held-out queries after every
   pass; :func:`~colbert_retrieval.training._selection.choose_schedule` picks the longest schedule the curve
   cannot tell from its best step, and keeps training only if that step beats the untouched model.
3. Retrain from the untouched model on **every** training query (held-out ones included) for the chosen share of
   the schedule, fit the relevance calibration on the held-out queries with the selection model (which never
   saw them), save the model to ``output`` with a model card (``README.md``) and ``training_report.json``
   (before/after, the curve, what was chosen and why, settings).

``selection="checkpoint"`` is the rule before 0.3: keep the best checkpoint on the eval split (``dev`` where the
folder has one, else the held-out queries, which are then never trained on). Dev and test splits are only
reported unless named as ``eval_split``.

Checkpoints go to ``output/checkpoints`` (and ``output/retrain``); a second run with the same ``output``
resumes from the last one and reuses the mined dataset (``output/mined``) if its mining settings
(``output/mined.json``) are unchanged, else it mines again. NFCorpus's budget on 2 CPU cores is on
docs/tutorials/fine-tuning.md.

Examples:
    >>> config = FineTuneConfig(data="nfcorpus", output="runs/nfcorpus", passes=3)
    >>> config.eval_split, config.selection, config.learning_rate
    ('auto', 'retrain', 3e-05)
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import torch
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.multi_vector_encoder import MultiVectorEncoderTrainer, MultiVectorEncoderTrainingArguments

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.evaluation import BeirDataset, load_beir, ndcg_per_query, retrieval_metrics
from colbert_retrieval.models import cpu_has_native_bf16, load_model, overlong_documents
from colbert_retrieval.training._beir import BeirEvaluator, exact_maxsim_runs
from colbert_retrieval.training._collator import ColBERTCollator
from colbert_retrieval.training._losses import Contrastive
from colbert_retrieval.training._mining import mine_hard_negatives
from colbert_retrieval.training._model_card import write_model_card
from colbert_retrieval.training._selection import StopAtStep, choose_schedule

__all__ = ["FineTuneConfig", "FineTuneReport", "fine_tune"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneConfig:
    """Settings of a fine-tuning run (the CLI's options; defaults chosen on NFCorpus train/dev).

    Args:
        data: a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``).
        output: folder for the trained model, its card, the report and the checkpoints.
        model: the model to fine-tune: a name or folder (None: the offline default).
        split: qrels split to train on.
        eval_split: qrels split that selects; ``"auto"``: a seeded 10 % of the training queries held out
            (``heldout``; with ``selection="checkpoint"``, ``dev`` where the folder has it); None: no selection,
            train on every query to the end and keep that.
        selection: ``"retrain"``: choose the schedule on the eval split (:mod:`._selection`), then train again
            on every training query for it (held-out queries included); ``"checkpoint"``: keep the best
            checkpoint on the eval split (the rule before 0.3; held-out queries are never trained on).
        test_split: qrels split reported before and after, never used for a decision (None: skip). ``dev``,
            where the folder has it and it does not select, is reported too.
        fit_relevance: fit the relevance calibration (``relevance.json``) on the eval split's queries, with a
            model of the kept schedule that never trained on them; skipped (and said) without an eval split.
        passes: passes over the training queries (one evaluation after each).
        batch_size: training rows per step (in-batch negatives grow with it).
        learning_rate: peak learning rate (linear warm-up over 10 % of the steps, then linear decay).
        n_negatives: mined negatives per row.
        positives_per_query: rows per query and pass, each with another judged document.
        top_k: candidates retrieved per query when mining.
        relative_margin: if set, mined candidates within this fraction of the positive's score are skipped.
        train_document_length: document tokens seen in training (inference keeps the model's own length).
        max_steps: stop after this many steps (None: all passes).
        seed: random seed (mining draws, data order, initialisation of nothing else).
        device: ``cpu``, ``cuda``... (None: the best available).
        bf16: train in bfloat16 autocast (None: where the hardware has native bf16).
        batch_size_eval: texts per forward pass when encoding for evaluation and mining.
    """

    data: str | Path
    output: str | Path
    model: str | None = None
    split: str = "train"
    eval_split: str | None = "auto"
    selection: str = "retrain"
    test_split: str | None = None
    fit_relevance: bool = True
    passes: int = 3
    batch_size: int = 32
    learning_rate: float = 3e-5
    n_negatives: int = 1
    positives_per_query: int = 1
    top_k: int = 50
    relative_margin: float | None = None
    train_document_length: int = 128
    max_steps: int | None = None
    seed: int = 0
    device: str | None = None
    bf16: bool | None = None
    batch_size_eval: int = 32


@dataclass
class FineTuneReport:
    """What a run measured: metrics before and after per split, the eval curve, what was chosen, the time it took.

    ``after`` leaves out the held-out split when the kept model trained on it (``selection`` holds its score at
    the chosen step instead); ``relevance`` says how the calibration was fitted, or why it was not.
    """

    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    curve: list[tuple[int, float]]
    steps: int
    wall_seconds: float
    kept: str
    settings: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)
    relevance: str = ""

    def to_json(self) -> str:
        """The report as JSON (``training_report.json``)."""
        return json.dumps(asdict(self), indent=2, default=str)


def _use_bf16(config: FineTuneConfig, device: torch.device) -> bool:
    if config.bf16 is not None:
        return config.bf16
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


#: Share of the training queries held out for selection (and the relevance fit).
HELDOUT_SHARE = 0.1
HELDOUT = "heldout"
SELECTIONS = ("retrain", "checkpoint")


@dataclass(frozen=True)
class _Splits:
    """The training data (every training query), what selects (a split name or None), the held-out queries."""

    train: BeirDataset
    eval_split: str | None
    heldout: BeirDataset | None


def _eval_split(config: FineTuneConfig, train: BeirDataset) -> _Splits:
    """Which split selects, and the held-out queries when ``auto`` holds some of the training queries out.

    ``auto`` holds out a fixed, seeded 10 % of the training queries (at least 1, and only with 5 or more); with
    ``selection="checkpoint"`` it takes ``dev`` instead where ``qrels/dev.tsv`` exists. Test data is never
    looked at.
    """
    if config.eval_split != "auto":
        return _Splits(train, config.eval_split, None)
    if config.selection == "checkpoint" and (Path(config.data) / "qrels" / "dev.tsv").exists():
        return _Splits(train, "dev", None)
    ids = sorted(train.queries)
    if len(ids) < 5:
        logger.warning("Only %d training queries: nothing held out; training to the end is kept.", len(ids))
        return _Splits(train, None, None)
    held = set(random.Random(config.seed).sample(ids, max(1, round(HELDOUT_SHARE * len(ids)))))
    queries = {q: text for q, text in train.queries.items() if q in held}
    heldout = BeirDataset(train.corpus, queries, {q: train.qrels[q] for q in queries if q in train.qrels})
    logger.warning(
        "Holding out %d of %d training queries (seed %d) to choose the schedule%s.",
        len(held),
        len(ids),
        config.seed,
        " (then training on all of them)" if config.selection == "retrain" else " (never trained on)",
    )
    return _Splits(train, HELDOUT, heldout)


def _split_metrics(model: Any, data: BeirDataset, splits: dict[str, BeirDataset], batch_size: int) -> tuple:
    """Metrics and per-query nDCG@10 of every split from one corpus encoding; also the corpus vectors."""
    queries = {f"{name}\t{q}": text for name, split in splits.items() for q, text in split.queries.items()}
    run, vectors = exact_maxsim_runs(model, data.corpus, queries, batch_size=batch_size, show_progress_bar=True)
    metrics, per_query = {}, {}
    for name, split in splits.items():
        own = {key.split("\t", 1)[1]: ranked for key, ranked in run.items() if key.startswith(f"{name}\t")}
        metrics[name] = retrieval_metrics(split.qrels, own)
        per_query[name] = ndcg_per_query(split.qrels, own, 10)
    return metrics, per_query, vectors


def _arguments(
    config: FineTuneConfig,
    folder: Path,
    eval_split: str | None,
    batch_size: int,
    steps_per_pass: int,
    bf16: bool,
    device: torch.device,
) -> Any:
    evaluate = eval_split is not None
    best_checkpoint = evaluate and config.selection == "checkpoint"
    return MultiVectorEncoderTrainingArguments(
        output_dir=str(folder),
        num_train_epochs=1,
        max_steps=config.max_steps if config.max_steps is not None else -1,
        per_device_train_batch_size=batch_size,
        learning_rate=config.learning_rate,
        warmup_ratio=0.1,
        lr_scheduler_type="linear",
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=steps_per_pass,
        save_strategy="steps",
        save_steps=steps_per_pass,
        # the retrain rule may pick any evaluated step: keep them all (a pass's checkpoint each)
        save_total_limit=2 if best_checkpoint or not evaluate else None,
        load_best_model_at_end=best_checkpoint,
        metric_for_best_model=f"eval_{eval_split}_ndcg@10" if best_checkpoint else None,
        greater_is_better=True,
        bf16=bf16,
        use_cpu=device.type == "cpu",
        logging_steps=max(1, steps_per_pass // 10),
        report_to=[],
        seed=config.seed,
        dataloader_drop_last=True,
    )


#: The settings that shape the mined rows; a re-run reuses ``OUTPUT/mined`` only if all of them are unchanged.
_MINING_KEYS = (
    "data",
    "split",
    "model",
    "n_negatives",
    "positives_per_query",
    "passes",
    "top_k",
    "relative_margin",
    "seed",
)


def _mined_rows(config: FineTuneConfig, model: Any, train: BeirDataset, corpus_vectors: Any) -> datasets.Dataset:
    """The training rows: those of an earlier run with the same mining settings, else freshly mined (and saved)."""
    output = Path(config.output)
    mined_path, record_path = output / "mined", output / "mined.json"
    settings = {key: str(getattr(config, key)) for key in _MINING_KEYS}
    if mined_path.exists() and record_path.exists() and json.loads(record_path.read_text()) == settings:
        return datasets.load_from_disk(str(mined_path))
    rows = mine_hard_negatives(
        model,
        train.queries,
        train.qrels,
        train.corpus,
        n_negatives=config.n_negatives,
        positives_per_query=config.positives_per_query,
        passes=config.passes,
        top_k=config.top_k,
        relative_margin=config.relative_margin,
        seed=config.seed,
        corpus_embeddings=corpus_vectors,
    )
    rows.save_to_disk(str(mined_path))
    record_path.write_text(json.dumps(settings, indent=2))
    return rows


class _Run:
    """One training run of the recipe: its rows, its folder, its trainer settings."""

    def __init__(self, config: FineTuneConfig, bf16: bool, device: torch.device) -> None:
        self.config, self.bf16, self.device = config, bf16, device

    def steps(self, rows: datasets.Dataset) -> tuple[int, int]:
        """The batch size and the steps of one pass over ``rows`` (the rows hold every pass)."""
        batch_size = min(self.config.batch_size, len(rows))
        return batch_size, max(1, len(rows) // self.config.passes // batch_size)

    def train(
        self,
        model: Any,
        rows: datasets.Dataset,
        folder: Path,
        *,
        eval_split: str | None = None,
        evaluator: BeirEvaluator | None = None,
        stop_at: int | None = None,
    ) -> Any:
        """Train ``model`` on ``rows`` (resuming from ``folder``'s last checkpoint) and return the trainer."""
        batch_size, steps_per_pass = self.steps(rows)
        arguments = _arguments(self.config, folder, eval_split, batch_size, steps_per_pass, self.bf16, self.device)
        trainer = MultiVectorEncoderTrainer(
            model=model,
            args=arguments,
            train_dataset=rows,
            loss=Contrastive(model),
            evaluator=evaluator,
            data_collator=ColBERTCollator(model.tokenize, max_length={"document": self.config.train_document_length}),
            callbacks=[StopAtStep(stop_at)] if stop_at is not None else None,
        )
        trainer.train(resume_from_checkpoint=bool(sorted(folder.glob("checkpoint-*"))))
        return trainer


def _best_step(state: Any, curve: list[tuple[int, float]]) -> int:
    """The step of the checkpoint the trainer loaded as its best (the curve's first maximum if it names none)."""
    if state.best_model_checkpoint:
        return int(Path(state.best_model_checkpoint).name.rsplit("-", 1)[-1])
    best = max(score for _, score in curve[1:])
    return next(step for step, score in curve[1:] if score == best)


def _load(path: str | None, device: str | None) -> Any:
    model = load_model(path, device=device)
    model.runtime.hold_bulk("fine-tuning: every checkpoint is evaluated on the same path")
    return model


def _untouched(config: FineTuneConfig, output: Path) -> str:
    """The folder of the untouched model, saved once per run.

    The retrain, the fallback and a resumed run all start from the same weights (a base model without a ColBERT
    head gets a random one at every load).
    """
    folder, record = output / "untouched", output / "untouched.json"
    source = json.dumps({"model": config.model})
    if not (folder.is_dir() and record.exists() and record.read_text() == source):
        _load(config.model, config.device).save_pretrained(str(folder))
        record.write_text(source)
    return str(folder)


def _relevance(config: FineTuneConfig, model: Any, heldout: BeirDataset | None) -> tuple:
    """The relevance calibration fitted on the eval split's queries with ``model`` (which never trained on them)."""
    if not config.fit_relevance:
        return None, "not fitted (fit_relevance=False)"
    if heldout is None:
        return None, "not fitted: no eval split (eval_split=None), so no query the model never trained on"
    from colbert_retrieval.qdrant import ColBERTIndex

    try:
        with ColBERTIndex(model, "relevance", store=":memory:") as index:
            index.add(({"id": i, "text": t} for i, t in heldout.corpus.items()), batch_size=config.batch_size_eval)
            fitted = index.fit_relevance(heldout.queries, heldout.qrels, k=10)
    except InvalidArgumentError as error:  # e.g. every hit judged alike: nothing to calibrate against
        logger.warning("Relevance calibration not fitted: %s", error)
        return None, f"not fitted: {error}"
    return fitted, f"fitted on the top-10 hits of {len(heldout.queries)} queries the fitting model never trained on"


def fine_tune(config: FineTuneConfig) -> FineTuneReport:
    """Mine hard negatives, choose the schedule on held-out queries, train, and save the model with a card.

    Args:
        config: the run's settings.

    Returns:
        The measurements (also written to ``output/training_report.json``).

    Raises:
        InputNotFoundError, InputFormatError: the BEIR folder or a split is missing or malformed.
        InvalidArgumentError: a setting out of range.
    """
    start = time.perf_counter()
    if config.passes < 1 or config.batch_size < 2:
        raise InvalidArgumentError("passes must be >= 1 and batch_size >= 2 (in-batch negatives need two rows).")
    if config.selection not in SELECTIONS:
        raise InvalidArgumentError(f"selection must be one of {SELECTIONS}, got {config.selection!r}.")
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    untouched = _untouched(config, output)
    model = _load(untouched, config.device)
    device = next(model.parameters()).device
    splits = _eval_split(config, load_beir(config.data, config.split))
    eval_split, heldout, train = splits.eval_split, splits.heldout, splits.train
    names = [name for name in (eval_split, config.test_split) if name and name != HELDOUT]
    if config.eval_split == "auto" and "dev" not in names and (Path(config.data) / "qrels" / "dev.tsv").exists():
        names.append("dev")
    reported = {name: load_beir(config.data, name) for name in dict.fromkeys(names)}
    if heldout is not None:
        reported[HELDOUT] = heldout
    cut = overlong_documents(model, list(train.corpus.values()))
    if cut:  # evaluation and mining read what the model reads: say how much of the corpus that cuts
        logger.warning(
            "%d of %d corpus documents are longer than the model reads (%d tokens): evaluation and mining see "
            "their first %d tokens, training their first %d.",
            len(cut),
            len(train.corpus),
            model.document_length,
            model.document_length,
            config.train_document_length,
        )
    before, before_per_query, corpus_vectors = _split_metrics(model, train, reported, config.batch_size_eval)
    logger.info("before training: %s", before)

    rows = _mined_rows(config, model, train, corpus_vectors)
    del corpus_vectors
    if len(rows) < 2:
        msg = f"Only {len(rows)} training rows could be built from split {config.split!r}; at least 2 are needed."
        raise InvalidArgumentError(msg)
    held_texts = set(heldout.queries.values()) if heldout is not None else set()
    first_rows = rows.filter(lambda row: row["query"] not in held_texts) if held_texts else rows
    if len(first_rows) < 2:
        raise InvalidArgumentError("Fewer than 2 training rows are left once the held-out queries are set aside.")
    run = _Run(config, _use_bf16(config, device), device)
    evaluator = None
    if eval_split:
        split = reported[eval_split]
        record = output / "checkpoints" / "heldout_curve.jsonl"
        record.parent.mkdir(parents=True, exist_ok=True)
        evaluator = BeirEvaluator(
            split.corpus, split.queries, split.qrels, eval_split, config.batch_size_eval, record=record
        )
    trainer = run.train(model, first_rows, output / "checkpoints", eval_split=eval_split, evaluator=evaluator)
    model, steps = trainer.model, int(trainer.state.global_step)
    curve = [(0, before[eval_split]["ndcg@10"])] if eval_split else []
    key = f"eval_{eval_split}_ndcg@10"
    curve += [(int(e["step"]), float(e[key])) for e in trainer.state.log_history if key in e]
    kept, selection, relevance_model, trained_on_heldout = "trained", None, model, False
    if eval_split and config.selection == "checkpoint":
        if max(score for _, score in curve[1:] or [(0, -1.0)]) <= curve[0][1]:
            logger.warning("No checkpoint beat the untouched model on %s; keeping the untouched model.", eval_split)
            model, kept = _load(untouched, config.device), "untouched (no checkpoint improved the eval split)"
            relevance_model = model
        else:
            kept = f"trained (best checkpoint on {eval_split}: step {_best_step(trainer.state, curve)} of {steps})"
    elif eval_split:
        selection = choose_schedule(before_per_query[eval_split], evaluator.per_query if evaluator else [])
        logger.warning("Schedule: %s.", selection.reason)
        if selection.chosen_step and selection.chosen_step != steps:  # the model of the chosen step, from disk
            relevance_model = _load(str(output / "checkpoints" / f"checkpoint-{selection.chosen_step}"), config.device)
        if not selection.keep:
            model = relevance_model = _load(untouched, config.device)
            kept = "untouched (the chosen step does not beat it on the held-out queries)"
        elif heldout is None:  # a separate eval split: the chosen checkpoint is the answer
            model = relevance_model
            kept = f"trained (checkpoint of step {selection.chosen_step})"
        else:  # train again on every training query, held-out ones included, for the chosen share
            total_first = max(1, int(trainer.state.max_steps))
            total = len(rows) // run.steps(rows)[0] if config.max_steps is None else config.max_steps
            stop = min(total, max(1, round(selection.chosen_step / total_first * total)))
            logger.warning(
                "Training again on all %d training queries: %d of %d steps.", len(train.queries), stop, total
            )
            trainer = run.train(
                _load(untouched, config.device), rows, output / "retrain", stop_at=stop if stop < total else None
            )
            model, steps, trained_on_heldout = trainer.model, int(trainer.state.global_step), True
            kept = f"trained again on every training query for {steps} steps (chosen at step {selection.chosen_step})"
    # the calibration's queries: the eval split, scored by a model of the kept schedule that never trained on it
    relevance, relevance_note = _relevance(config, relevance_model, reported[eval_split] if eval_split else None)
    if relevance is not None:
        model.relevance = relevance
    after_splits = {name: data for name, data in reported.items() if not (name == HELDOUT and trained_on_heldout)}
    after, _, _ = _split_metrics(model, train, after_splits, config.batch_size_eval)
    model.save_pretrained(str(output))
    report = FineTuneReport(
        before=before,
        after=after,
        curve=curve,
        steps=steps,
        wall_seconds=round(time.perf_counter() - start, 1),
        kept=kept,
        settings={
            **asdict(config),
            "eval_split": eval_split,
            "eval_split_requested": config.eval_split,
            "heldout_queries": sorted(heldout.queries) if heldout is not None else [],
            "bf16": run.bf16,
            "rows": len(rows),
            "rows_before_retrain": len(first_rows),
            "device": str(device),
            "corpus_documents_cut": len(cut),
        },
        selection=selection.to_dict() if selection is not None else {},
        relevance=relevance_note,
    )
    (output / "training_report.json").write_text(report.to_json(), encoding="utf8")
    write_model_card(output / "README.md", report, base_model=config.model or "colbert-retrieval default")
    return report
