"""The recipe behind ``colbert-retrieval train``: mine, fine-tune, select on the eval split, save with a card.

1. Encode the corpus once with the untouched model: it scores the "before" metrics (exact MaxSim) and
   feeds the hard-negative mining (:func:`~colbert_retrieval.training._mining.mine_hard_negatives`).
2. Train with sentence-transformers' ``MultiVectorEncoderTrainer`` and :class:`~.losses.Contrastive` (in-batch
   and mined negatives), one evaluation on the eval split per pass over the training queries.
3. Keep the checkpoint with the best eval nDCG@10 (the untouched model if none beats it), save it to
   ``output`` with a model card (``README.md``) and ``training_report.json`` (before/after, curve, settings).

Checkpoints go to ``output/checkpoints``; a second run with the same ``output`` resumes from the last one
and reuses the mined dataset (``output/mined``) if its mining settings (``output/mined.json``) are
unchanged, else it mines again. The defaults finish in under 30 minutes on 2 CPU cores for a corpus of a
few thousand documents (NFCorpus: docs/tutorials/fine-tuning.md).

Examples:
    >>> config = FineTuneConfig(data="nfcorpus", output="runs/nfcorpus", passes=3)
    >>> config.eval_split, config.learning_rate
    ('auto', 3e-05)
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
from colbert_retrieval.evaluation import BeirDataset, load_beir, retrieval_metrics
from colbert_retrieval.models import cpu_has_native_bf16, load_model, overlong_documents
from colbert_retrieval.training._beir import BeirEvaluator, exact_maxsim_runs
from colbert_retrieval.training._collator import ColBERTCollator
from colbert_retrieval.training._losses import Contrastive
from colbert_retrieval.training._mining import mine_hard_negatives
from colbert_retrieval.training._model_card import write_model_card

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
        eval_split: qrels split that selects the checkpoint; ``"auto"``: ``dev`` where the folder has it, else
            a seeded 10 % of the training queries held out of training (``heldout``); None: keep the last one.
        test_split: qrels split reported before and after, never used for a decision (None: skip).
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
    test_split: str | None = None
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
    """What a run measured: metrics before and after per split, the eval curve, the time it took."""

    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]]
    curve: list[tuple[int, float]]
    steps: int
    wall_seconds: float
    kept: str
    settings: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The report as JSON (``training_report.json``)."""
        return json.dumps(asdict(self), indent=2, default=str)


def _use_bf16(config: FineTuneConfig, device: torch.device) -> bool:
    if config.bf16 is not None:
        return config.bf16
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


#: Share of the training queries held out for checkpoint selection when the folder has no dev split.
HELDOUT_SHARE = 0.1
HELDOUT = "heldout"


def _eval_split(config: FineTuneConfig, train: BeirDataset) -> tuple[str | None, BeirDataset, BeirDataset | None]:
    """The eval split's name, the training data, and the held-out data when ``auto`` must hold some out.

    ``auto`` takes ``dev`` where ``qrels/dev.tsv`` exists; else a fixed, seeded 10 % of the training queries
    (at least 1, and only with 5 or more) are held out of training to select the checkpoint. Test data is never
    looked at.
    """
    if config.eval_split != "auto":
        return config.eval_split, train, None
    if (Path(config.data) / "qrels" / "dev.tsv").exists():
        return "dev", train, None
    ids = sorted(train.queries)
    if len(ids) < 5:
        logger.warning("No dev split and only %d training queries: keeping the last checkpoint.", len(ids))
        return None, train, None
    held = set(random.Random(config.seed).sample(ids, max(1, round(HELDOUT_SHARE * len(ids)))))

    def part(keep: bool) -> BeirDataset:
        queries = {q: text for q, text in train.queries.items() if (q in held) != keep}
        return BeirDataset(train.corpus, queries, {q: train.qrels[q] for q in queries if q in train.qrels})

    logger.warning(
        "No dev split in %s: holding out %d of %d training queries (seed %d) to select the checkpoint.",
        config.data,
        len(held),
        len(ids),
        config.seed,
    )
    return HELDOUT, part(keep=True), part(keep=False)


def _split_metrics(model: Any, data: BeirDataset, splits: dict[str, BeirDataset], batch_size: int) -> tuple:
    """Metrics of every split from one corpus encoding; also returns the corpus vectors."""
    queries = {f"{name}\t{q}": text for name, split in splits.items() for q, text in split.queries.items()}
    run, vectors = exact_maxsim_runs(model, data.corpus, queries, batch_size=batch_size, show_progress_bar=True)
    metrics = {}
    for name, split in splits.items():
        own = {key.split("\t", 1)[1]: ranked for key, ranked in run.items() if key.startswith(f"{name}\t")}
        metrics[name] = retrieval_metrics(split.qrels, own)
    return metrics, vectors


def _arguments(
    config: FineTuneConfig,
    eval_split: str | None,
    batch_size: int,
    steps_per_pass: int,
    bf16: bool,
    device: torch.device,
) -> Any:
    evaluate = eval_split is not None
    return MultiVectorEncoderTrainingArguments(
        output_dir=str(Path(config.output) / "checkpoints"),
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
        save_total_limit=2,
        load_best_model_at_end=evaluate,
        metric_for_best_model=f"eval_{eval_split}_ndcg@10" if evaluate else None,
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


def fine_tune(config: FineTuneConfig) -> FineTuneReport:
    """Mine hard negatives, fine-tune, select on the eval split, and save the model with a card.

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
    output = Path(config.output)
    output.mkdir(parents=True, exist_ok=True)
    model = load_model(config.model, device=config.device)
    model.runtime.hold_bulk("fine-tuning: every checkpoint is evaluated on the same path")
    device = next(model.parameters()).device
    eval_split, train, heldout = _eval_split(config, load_beir(config.data, config.split))
    names = [name for name in (eval_split, config.test_split) if name and name != HELDOUT]
    reported = {name: load_beir(config.data, name) for name in names}
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
    before, corpus_vectors = _split_metrics(model, train, reported, config.batch_size_eval)
    logger.info("before training: %s", before)

    rows = _mined_rows(config, model, train, corpus_vectors)
    del corpus_vectors
    if len(rows) < 2:
        msg = f"Only {len(rows)} training rows could be built from split {config.split!r}; at least 2 are needed."
        raise InvalidArgumentError(msg)
    batch_size = min(config.batch_size, len(rows))
    steps_per_pass = max(1, len(rows) // config.passes // batch_size)
    evaluator = None
    if eval_split:
        split = reported[eval_split]
        evaluator = BeirEvaluator(split.corpus, split.queries, split.qrels, eval_split, config.batch_size_eval)
    bf16 = _use_bf16(config, device)
    trainer = MultiVectorEncoderTrainer(
        model=model,
        args=_arguments(config, eval_split, batch_size, steps_per_pass, bf16, device),
        train_dataset=rows,
        loss=Contrastive(model),
        evaluator=evaluator,
        data_collator=ColBERTCollator(model.tokenize, max_length={"document": config.train_document_length}),
    )
    checkpoints = sorted((output / "checkpoints").glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=bool(checkpoints))
    model = trainer.model
    curve = [(0, before[eval_split]["ndcg@10"])] if eval_split else []
    key = f"eval_{eval_split}_ndcg@10"
    curve += [(int(e["step"]), float(e[key])) for e in trainer.state.log_history if key in e]
    kept = "trained"
    if eval_split and max(score for _, score in curve[1:] or [(0, -1.0)]) <= curve[0][1]:
        logger.warning("No checkpoint beat the untouched model on %s; keeping the untouched model.", eval_split)
        model, kept = (
            load_model(config.model, device=config.device),
            "untouched (no checkpoint improved the eval split)",
        )
    after, _ = _split_metrics(model, train, reported, config.batch_size_eval)
    model.save_pretrained(str(output))
    report = FineTuneReport(
        before=before,
        after=after,
        curve=curve,
        steps=int(trainer.state.global_step),
        wall_seconds=round(time.perf_counter() - start, 1),
        kept=kept,
        settings={
            **asdict(config),
            "eval_split": eval_split,
            "eval_split_requested": config.eval_split,
            "heldout_queries": sorted(heldout.queries) if heldout is not None else [],
            "bf16": bf16,
            "rows": len(rows),
            "device": str(device),
            "corpus_documents_cut": len(cut),
        },
    )
    (output / "training_report.json").write_text(report.to_json(), encoding="utf8")
    write_model_card(output / "README.md", report, base_model=config.model or "colbert-retrieval default")
    return report
