"""Output shaping for ``encode`` and the windowed forward pass for long documents.

Examples:
    >>> import torch
    >>> out = finalize([torch.ones(2, 4), torch.ones(1, 4)], EncodeOptions(padding=True))
    >>> out.shape
    (2, 2, 4)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval.models._quantization import Precision, quantize
from colbert_retrieval.models._windows import common_prefix_length, plan_windows

Features = dict[str, Any]

__all__ = ["EncodeOptions", "finalize", "forward_long_documents", "prefetch_batches", "to_device"]

#: Batches tokenised ahead of the forward pass.
PREFETCH = 2


@dataclass(frozen=True)
class EncodeOptions:
    """How ``encode`` shapes its output."""

    precision: str = "float32"
    convert_to_numpy: bool = True
    convert_to_tensor: bool = False
    padding: bool = False
    normalize_embeddings: bool = True


def _to_numpy(tensor: Tensor) -> np.ndarray:
    tensor = tensor.detach().cpu()
    if tensor.dtype in (torch.bfloat16, torch.float16):
        tensor = tensor.float()
    return tensor.numpy()


def _pad_numpy(arrays: list[np.ndarray]) -> np.ndarray:
    longest = max(a.shape[0] for a in arrays)
    padded = np.zeros((len(arrays), longest, arrays[0].shape[1]), dtype=arrays[0].dtype)
    for row, array in enumerate(arrays):
        padded[row, : array.shape[0]] = array
    return padded


def finalize(embeddings: list[Tensor], options: EncodeOptions) -> Any:
    """Quantise, pad and convert per-text tensors as ``encode`` documents.

    Args:
        embeddings: ``(n_i, dim)`` float tensors.
        options: the output options.

    Returns:
        list of arrays/tensors, or one padded array/tensor.
    """
    as_tensor = options.convert_to_tensor or not options.convert_to_numpy
    precision = Precision.parse(options.precision)
    if precision is not Precision.FLOAT32:
        arrays = quantize([_to_numpy(e) for e in embeddings], precision, unit_norm=options.normalize_embeddings)
        if options.padding:
            padded = _pad_numpy(arrays)
            return torch.from_numpy(padded) if as_tensor else padded
        return [torch.from_numpy(a) for a in arrays] if as_tensor else arrays
    if as_tensor:
        if options.padding:
            return torch.nn.utils.rnn.pad_sequence(list(embeddings), batch_first=True, padding_value=0.0)
        return list(embeddings)
    arrays = [_to_numpy(e) for e in embeddings]
    return _pad_numpy(arrays) if options.padding else arrays


def _split_ids(tokenizer: Any, ids: list[int], prompt: str) -> tuple[list[int], list[int], list[int]]:
    """Split a document's ids into head (``[CLS]`` + marker), body (text) and tail (``[SEP]``)."""
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    head = common_prefix_length(prompt_ids, ids)
    tail = len(prompt_ids) - head
    return ids[:head], ids[head : len(ids) - tail], ids[len(ids) - tail :]


@dataclass(frozen=True)
class WindowedEncoder:
    """What the windowed pass needs from the encoder: its tokenizer, its forward pass and the window size.

    Attributes:
        tokenizer: the model's tokenizer.
        forward: runs the model's modules on features of documents (token vectors + attention mask out).
        document_length: tokens per window, markers included.
        stride: body tokens between window starts (None: 3/4 of a window).
    """

    tokenizer: Any
    forward: Callable[[Features], Features]
    document_length: int
    stride: int | None = None


def forward_long_documents(
    encoder: WindowedEncoder,
    documents: dict[int, list[int]],
    prompt: str,
    device: torch.device,
    batch_size: int,
) -> dict[int, Tensor]:
    """Encode documents longer than ``document_length`` with overlapping windows.

    Args:
        encoder: the tokenizer, forward pass and window size.
        documents: input position -> full token ids (prompt and special tokens included).
        prompt: the text prepended to each document (marker + prompt).
        device: where to run.
        batch_size: windows per forward pass.

    Returns:
        input position -> ``(n_tokens, dim)`` tensor covering the whole document (skiplist applied).
    """
    tokenizer = encoder.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    uses_token_types = "token_type_ids" in tokenizer.model_input_names
    windows: list[tuple[int, int, list[int]]] = []  # (document, window index, ids)
    layouts: dict[int, tuple[list[int], list[int], list[int], Any]] = {}
    for index, ids in documents.items():
        head, body, tail = _split_ids(tokenizer, ids, prompt)
        window = encoder.document_length - len(head) - len(tail)
        stride = encoder.stride or max(1, window * 3 // 4)
        plan = plan_windows(len(body), window, min(stride, max(window, 1)))
        layouts[index] = (head, body, tail, plan)
        for w, start in enumerate(plan.starts):
            windows.append((index, w, head + body[start : start + window] + tail))
    outputs: dict[tuple[int, int], tuple[Tensor, Tensor]] = {}
    for start in range(0, len(windows), batch_size):
        chunk = windows[start : start + batch_size]
        longest = max(len(ids) for _, _, ids in chunk)
        input_ids = torch.full((len(chunk), longest), pad_id, dtype=torch.long)
        attention = torch.zeros((len(chunk), longest), dtype=torch.long)
        for row, (_, _, ids) in enumerate(chunk):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            attention[row, : len(ids)] = 1
        features: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention, "modality": "text"}
        if uses_token_types:
            features["token_type_ids"] = torch.zeros_like(input_ids)
        features = to_device(features, device)
        with torch.inference_mode():
            features = encoder.forward(features)
        for row, (index, w, _) in enumerate(chunk):
            outputs[(index, w)] = (features["token_embeddings"][row], features["attention_mask"][row].bool())
    result: dict[int, Tensor] = {}
    for index, (head, body, tail, plan) in layouts.items():
        last = len(plan.starts) - 1
        vectors, keep = [], []
        first_emb, first_mask = outputs[(index, 0)]
        vectors.append(first_emb[: len(head)])
        keep.append(first_mask[: len(head)])
        for position, owner in enumerate(plan.owner):
            emb, mask = outputs[(index, owner)]
            offset = len(head) + position - plan.starts[owner]
            vectors.append(emb[offset : offset + 1])
            keep.append(mask[offset : offset + 1])
        last_emb, last_mask = outputs[(index, last)]
        end = len(head) + min(plan.window, len(body) - plan.starts[last])
        vectors.append(last_emb[end : end + len(tail)])
        keep.append(last_mask[end : end + len(tail)])
        result[index] = torch.cat(vectors)[torch.cat(keep)]
    return result


def to_device(features: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """The tensors of ``features`` on ``device`` (copied without blocking from pinned memory on CUDA)."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in features.items()}


def prefetch_batches(
    preprocess: Callable[[list[str]], Features],
    texts: list[str],
    batches: list[list[int]],
    device: torch.device,
) -> Iterator[tuple[list[int], dict[str, Any]]]:
    """Yield ``(batch indices, features on device)``, tokenising the next batches in a background thread.

    ``preprocess`` turns a list of texts into model features (marker, prompt and task already bound).

    Fast tokenizers release the GIL (and parallelise a batch internally), so tokenisation overlaps the
    forward pass; on CUDA the features are pinned and copied without blocking.
    """
    pin = device.type == "cuda"

    def prepare(batch: list[int]) -> dict[str, Any]:
        features = preprocess([texts[i] for i in batch])
        if pin:
            features = {k: v.pin_memory() if isinstance(v, Tensor) else v for k, v in features.items()}
        return features

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="colbert-tokenize") as pool:
        pending: deque[tuple[list[int], Future[dict[str, Any]]]] = deque()
        for batch in batches:
            pending.append((batch, pool.submit(prepare, batch)))
            if len(pending) > PREFETCH:
                done, future = pending.popleft()
                yield done, to_device(future.result(), device)
        while pending:
            done, future = pending.popleft()
            yield done, to_device(future.result(), device)
