"""Short calls (a query, a few texts) on their own runtime and thread budget: choice, results, safety."""

from __future__ import annotations

import copy
import pickle
import threading

import numpy as np
import pytest
import torch

from colbert_retrieval import ColBERT
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.models import ShortInputs, ShortPath
from colbert_retrieval.models._precision import PrecisionChoice
from colbert_retrieval.models._short_inputs import ENVIRONMENT, resolve_short_path, thread_budget

QUERIES = ["what causes scurvy", "statins and heart disease", "paris is in france", "vitamin c deficiency"]
FP32 = PrecisionChoice("float32", "explicit")
AUTO_BF16 = PrecisionChoice("bfloat16", "auto: native bf16 on this CPU")


@pytest.fixture(scope="module")
def fp32_model(tiny_bert_dir) -> ColBERT:
    torch.manual_seed(0)
    return ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, inference_precision="float32")


# ----------------------------------------------------------------- the setting
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"runtime": "tensorrt"}, "Unknown short_inputs runtime"),
        ({"threads": 0}, "threads must be an integer >= 1"),
        ({"max_tokens": True}, "max_tokens must be an integer >= 1"),
        ({"thread": 1}, "Unknown short_inputs keys ['thread']"),
        ("runtime", "write key=value pairs"),
        (3, "short_inputs takes a ShortInputs"),
    ],
)
def test_bad_settings_name_the_fix(value: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ShortInputs.of(value)  # type: ignore[arg-type]


def test_settings_come_from_an_instance_a_dict_a_string_or_the_environment(monkeypatch) -> None:
    assert ShortInputs.of({"threads": 2}) == ShortInputs(threads=2)
    assert ShortInputs.of("runtime=torch, threads=2") == ShortInputs(runtime="torch", threads=2)
    monkeypatch.setenv(ENVIRONMENT, "runtime=off")
    assert ShortInputs.of(None) == ShortInputs(runtime="off")
    monkeypatch.delenv(ENVIRONMENT)
    assert ShortInputs.of(None) == ShortInputs()


# ----------------------------------------------------------------- which path
def test_auto_runs_onnx_float32_on_the_cpu_and_nothing_special_on_a_gpu() -> None:
    path = resolve_short_path(ShortInputs(), "torch", AUTO_BF16, "cpu")
    assert path == ShortPath("onnx", "float32", 1, 256, "auto: ONNX Runtime")
    assert resolve_short_path(ShortInputs(), "torch", FP32, "cuda") is None
    assert resolve_short_path(ShortInputs(runtime="off"), "torch", FP32, "cpu") is None


def test_auto_keeps_what_the_user_chose() -> None:
    explicit_bf16 = PrecisionChoice("bfloat16", "explicit")
    assert resolve_short_path(ShortInputs(), "torch", explicit_bf16, "cpu").runtime == "torch"
    cast = resolve_short_path(ShortInputs(), "torch", FP32, "cpu", torch.bfloat16)
    assert cast.runtime == "torch"
    int8 = resolve_short_path(ShortInputs(threads=2), "onnx", PrecisionChoice("int8", "explicit"), "cpu")
    assert (int8.runtime, int8.precision, int8.threads) == ("onnx", "int8", 2)
    # an explicit runtime that cannot run the precision runs float32
    assert resolve_short_path(ShortInputs(runtime="onnx"), "torch", explicit_bf16, "cpu").precision == "float32"


def test_the_model_reports_its_path_in_repr_and_can_switch_it_off(tiny_bert_dir) -> None:
    model = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, short_inputs={"runtime": "torch"})
    assert str(model.resolved_short_path()).startswith("torch ")
    assert "short_inputs='torch " in repr(model)
    model.short_inputs = "runtime=off"
    assert model.resolved_short_path() is None
    assert "short_inputs='off'" in repr(model)


# ----------------------------------------------------------------- results
def test_short_and_long_paths_give_the_same_vectors(fp32_model: ColBERT) -> None:
    assert fp32_model.resolved_short_path().runtime == "onnx"
    short = fp32_model.encode(QUERIES, is_query=True)
    documents = fp32_model.encode(QUERIES, is_query=False)
    fp32_model.short_inputs = "runtime=off"
    try:
        for a, b in zip(short, fp32_model.encode(QUERIES, is_query=True)):
            np.testing.assert_allclose(a, b, atol=1e-5)
        for a, b in zip(documents, fp32_model.encode(QUERIES, is_query=False)):
            np.testing.assert_allclose(a, b, atol=1e-5)
    finally:
        fp32_model.short_inputs = None


def test_only_calls_up_to_max_tokens_take_the_short_path(fp32_model: ColBERT, monkeypatch) -> None:
    seen: list[int | None] = []
    original = fp32_model.runtime.transformer

    def spy(model: ColBERT, backend: str, precision: str, threads: int | None = None):
        seen.append(threads)
        return original(model, backend, precision, threads)

    monkeypatch.setattr(fp32_model.runtime, "transformer", spy)
    fp32_model.short_inputs = {"max_tokens": 64}
    try:
        fp32_model.encode(QUERIES[:2], is_query=True)  # 2 x 32 tokens: short
        assert seen == [1]
        fp32_model.encode(QUERIES[:3], is_query=True)  # 3 x 32 tokens: the long path (torch, no runtime)
        assert seen == [1]
    finally:
        fp32_model.short_inputs = None


def test_changed_weights_never_give_stale_vectors(tiny_bert_dir) -> None:
    torch.manual_seed(0)
    model = ColBERT(str(tiny_bert_dir), device="cpu", embedding_size=8, inference_precision="float32")
    before = model.encode(QUERIES[0], is_query=True)
    with torch.no_grad():
        for parameter in model[0].model.parameters():
            parameter.mul_(1.5)
    path = model.resolved_short_path()
    assert (path.runtime, path.reason) == ("torch", "weights changed since the export")
    moved = model.encode(QUERIES[0], is_query=True)
    assert not np.allclose(before, moved, atol=1e-3)
    model.short_inputs = model.short_inputs  # export the new weights
    assert model.resolved_short_path().runtime == "onnx"
    np.testing.assert_allclose(model.encode(QUERIES[0], is_query=True), moved, atol=1e-5)


def test_a_model_with_opened_runtimes_pickles_and_copies(fp32_model: ColBERT) -> None:
    expected = fp32_model.encode(QUERIES[0], is_query=True)
    for clone in (copy.deepcopy(fp32_model), pickle.loads(pickle.dumps(fp32_model))):
        np.testing.assert_allclose(clone.encode(QUERIES[0], is_query=True), expected, atol=1e-6)


# ----------------------------------------------------------------- threads
def test_thread_budget_changes_only_the_calling_thread_and_restores_it() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        errors: list[str] = []
        barrier = threading.Barrier(4)

        def work() -> None:
            torch.ones(4) + 1  # this thread's torch state exists before the budget
            barrier.wait()
            for _ in range(50):
                with thread_budget(1):
                    if torch.get_num_threads() != 1:
                        errors.append("budget not applied")
                if torch.get_num_threads() != 2:
                    errors.append("not restored")

        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []
        assert torch.get_num_threads() == 2  # this thread's count was never touched
        fresh: list[int] = []
        thread = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        assert fresh == [2]  # new threads still start with the process's count
    finally:
        torch.set_num_threads(before)


def _concurrently(function, items: list[str], threads: int = 4) -> list[np.ndarray]:
    results: list[np.ndarray | None] = [None] * len(items)
    barrier = threading.Barrier(threads)

    def run(slot: int) -> None:
        barrier.wait()
        for position in range(slot, len(items), threads):
            results[position] = function(items[position])

    workers = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results  # type: ignore[return-value]


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_concurrent_short_calls_share_the_model_and_give_serial_results(tiny_bert_dir, tmp_path, backend) -> None:
    torch.manual_seed(0)
    options = {"export_dir": str(tmp_path)} if backend != "torch" else None
    model = ColBERT(
        str(tiny_bert_dir),
        device="cpu",
        embedding_size=8,
        backend=backend,
        inference_precision="float32",
        backend_options=options,
    )
    texts = [f"{query} number {i}" for i in range(6) for query in QUERIES]
    serial = [model.encode(text, is_query=True) for text in texts]
    parallel = _concurrently(lambda text: model.encode(text, is_query=True), texts)
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
