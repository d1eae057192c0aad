"""ColBERT trains with sentence-transformers' multi-vector trainer, end to end (markers, expansion, head)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

datasets = pytest.importorskip("datasets", reason="pip install 'colbert-retrieval[train]'")

from sentence_transformers.multi_vector_encoder import (  # noqa: E402
    MultiVectorEncoderTrainer,
    MultiVectorEncoderTrainingArguments,
)
from sentence_transformers.multi_vector_encoder.losses import (  # noqa: E402
    CachedMultiVectorMultipleNegativesRankingLoss,
    MultiVectorMultipleNegativesRankingLoss,
)

from colbert_retrieval import ColBERT  # noqa: E402

PAIRS = {
    "query": ["what causes scurvy?", "capital of france", "how to lower cholesterol", "who painted the mona lisa"],
    "document": [
        "scurvy is a disease from a lack of vitamin c.",
        "paris is the capital city of france.",
        "statins lower ldl cholesterol.",
        "leonardo da vinci painted the mona lisa.",
    ],
}


def train(model: ColBERT, loss: torch.nn.Module, tmp_path) -> None:
    args = MultiVectorEncoderTrainingArguments(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=4,
        max_steps=3,
        learning_rate=5e-3,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = MultiVectorEncoderTrainer(
        model=model, args=args, train_dataset=datasets.Dataset.from_dict(PAIRS), loss=loss
    )
    trainer.train()


@pytest.mark.parametrize("cached", [False, True])
def test_training_updates_head_and_transformer_and_saves_bit_identically(tiny_bert_dir, tmp_path, cached) -> None:
    torch.manual_seed(0)
    model = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, query_length=12, inference_precision="float32")
    head = model[1].linear.weight.detach().clone()
    layer = next(model[0].model.encoder.parameters()).detach().clone()
    before = model.encode(PAIRS["query"], is_query=True)
    loss_class = CachedMultiVectorMultipleNegativesRankingLoss if cached else MultiVectorMultipleNegativesRankingLoss
    loss = loss_class(model, mini_batch_size=2) if cached else loss_class(model)
    train(model, loss, tmp_path)
    assert not torch.equal(head, model[1].linear.weight)  # gradient reached the projection head
    assert not torch.equal(layer, next(model[0].model.encoder.parameters()))  # and the transformer
    assert model.resolved_short_path("cpu").reason == "weights changed since the export"  # torch, not stale
    model.short_inputs = model.short_inputs  # export the trained weights for short calls again
    assert model.resolved_short_path("cpu").runtime == "onnx"
    after = model.encode(PAIRS["query"], is_query=True)
    assert [a.shape for a in after] == [b.shape for b in before] == [(12, 8)] * 4  # [MASK] expansion kept
    model.save_pretrained(str(tmp_path / "trained"))
    reloaded = ColBERT(str(tmp_path / "trained"), device="cpu", inference_precision="float32")
    for a, b in zip(after, reloaded.encode(PAIRS["query"], is_query=True)):
        np.testing.assert_array_equal(a, b)
    documents = model.encode(PAIRS["document"], is_query=False)
    for a, b in zip(documents, reloaded.encode(PAIRS["document"], is_query=False)):
        np.testing.assert_array_equal(a, b)
