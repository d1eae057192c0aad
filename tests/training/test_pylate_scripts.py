"""PyLate's training scripts run with their ``pylate`` imports changed to ``colbert_retrieval``.

Adapted from PyLate's own tests/test_contrastive.py and tests/test_kd.py: the tiny offline model and an
in-memory dataset replace the hub downloads; the training code is PyLate's, line for line.
"""

from __future__ import annotations

import os

import datasets
import torch
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.training_args import BatchSamplers

from colbert_retrieval import evaluation, models
from colbert_retrieval.pylate import losses, utils  # was: from pylate import ...

TRIPLETS = {
    "query": ["what causes scurvy", "capital of france", "lower cholesterol", "vitamin d sources"],
    "positive": [
        "scurvy: no vitamin c.",
        "paris is in france.",
        "statins lower cholesterol.",
        "sunlight makes vitamin d.",
    ],
    "negative": ["paris is in france.", "statins lower cholesterol.", "sunlight makes vitamin d.", "scurvy."],
}


def test_pylate_contrastive_script(tiny_bert_dir, tmp_path) -> None:
    output = str(tmp_path / "contrastive")
    model = models.ColBERT(model_name_or_path=str(tiny_bert_dir), device="cpu")
    head = model[1].linear.weight.detach().clone()
    dataset = datasets.Dataset.from_dict(TRIPLETS)
    train_dataset, eval_dataset = dataset, dataset
    train_loss = losses.Contrastive(model=model)
    dev_evaluation = evaluation.ColBERTTripletEvaluator(
        anchors=eval_dataset["query"],
        positives=eval_dataset["positive"],
        negatives=eval_dataset["negative"],
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=output,
        num_train_epochs=1,
        per_device_train_batch_size=2,
        per_device_eval_batch_size=2,
        fp16=False,
        bf16=False,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps",
        eval_steps=1,
        save_strategy="epoch",
        save_total_limit=1,
        learning_rate=3e-4,
        do_eval=True,
        report_to=[],
        use_cpu=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        loss=train_loss,
        evaluator=dev_evaluation,
        data_collator=utils.ColBERTCollator(tokenize_fn=model.tokenize),
    )
    trainer.train()
    model.save_pretrained(f"{output}/final")
    assert os.path.isdir(output)
    metrics = dev_evaluation(model=model, output_path=output)
    assert isinstance(metrics, dict) and 0.0 <= metrics["MaxSim_accuracy"] <= 1.0
    assert os.path.isfile(f"{output}/triplet_evaluation_results.csv")  # column accuracy_MaxSim (PyLate: accuracy)
    assert not torch.equal(head, model[1].linear.weight)
    reloaded = models.ColBERT(f"{output}/final", device="cpu")
    assert reloaded.encode(["scurvy"], is_query=True)[0].shape == model.encode(["scurvy"], is_query=True)[0].shape


def test_pylate_distillation_script(tiny_bert_dir, tmp_path) -> None:
    """PyLate's knowledge-distillation layout: a documents list and teacher scores per query."""
    model = models.ColBERT(model_name_or_path=str(tiny_bert_dir), device="cpu")
    head = model[1].linear.weight.detach().clone()
    train = datasets.Dataset.from_dict(
        {
            "query": TRIPLETS["query"],
            "documents": [[p, n] for p, n in zip(TRIPLETS["positive"], TRIPLETS["negative"])],
            "scores": [[0.9, 0.1], [0.8, 0.3], [0.7, 0.2], [0.6, 0.5]],
        }
    )
    dev_evaluation = evaluation.ColBERTDistillationEvaluator(
        queries=train["query"], documents=train["documents"], scores=train["scores"]
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "kd"),
        num_train_epochs=1,
        per_device_train_batch_size=2,
        learning_rate=3e-4,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train,
        loss=losses.Distillation(model=model),
        evaluator=dev_evaluation,
        data_collator=utils.ColBERTCollator(model.tokenize),
    )
    trainer.train()
    assert not torch.equal(head, model[1].linear.weight)
    metrics = dev_evaluation(model)
    assert all(isinstance(value, float) for value in metrics.values())
