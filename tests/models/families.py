"""Tiny in-process replicas of the encoder families users bring, each with its family's tokenizer class.

Every replica has one 16-d layer and the test vocabulary (``tests.conftest.WORDS``), built with the
tokenizers model its family uses (WordPiece for BERT and DistilBERT, byte-level BPE for RoBERTa, ModernBERT and
GPT-2, Unigram for XLM-RoBERTa and DeBERTa-v2) and wrapped in the family's transformers tokenizer class, so the
inputs it gives are the real ones (BERT and DeBERTa-v2 add ``token_type_ids``; DeBERTa-v2's network ignores them:
``type_vocab_size=0``).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from tests.conftest import WORDS

ANGLE = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")  # cls, pad, sep, unk, mask
SQUARE = ("[CLS]", "[PAD]", "[SEP]", "[UNK]", "[MASK]")

#: family -> (tokenizer class, config class, model class, tokenizers model, special tokens, config arguments)
FAMILIES: dict[str, tuple[str, str, str, str, tuple[str, ...], dict[str, Any]]] = {
    "bert": ("BertTokenizerFast", "BertConfig", "BertModel", "wordpiece", SQUARE, {}),
    "distilbert": ("DistilBertTokenizerFast", "DistilBertConfig", "DistilBertModel", "wordpiece", SQUARE, {}),
    "roberta": ("RobertaTokenizerFast", "RobertaConfig", "RobertaModel", "bpe", ANGLE, {}),
    "xlm-roberta": ("XLMRobertaTokenizerFast", "XLMRobertaConfig", "XLMRobertaModel", "unigram", ANGLE, {}),
    "modernbert": ("PreTrainedTokenizerFast", "ModernBertConfig", "ModernBertModel", "bpe", SQUARE, {}),
    "deberta-v2": (
        "DebertaV2TokenizerFast",
        "DebertaV2Config",
        "DebertaV2Model",
        "unigram",
        SQUARE,
        {
            "type_vocab_size": 0,
            "relative_attention": True,
            "position_biased_input": False,
            "pos_att_type": ["p2c", "c2p"],
            "position_buckets": 16,
        },
    ),
    "gpt2": ("GPT2TokenizerFast", "GPT2Config", "GPT2Model", "bpe", ANGLE, {}),
}


def _tokenizer(kind: str, specials: tuple[str, ...]) -> tuple[Tokenizer, dict[str, int]]:
    if kind == "unigram":
        pieces = [(t, 0.0) for t in specials] + [("\u2581" + w, -1.0) for w in WORDS] + [("\u2581", -2.0)]
        pieces += [(c, -5.0) for c in string.ascii_lowercase]
        tokenizer = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        return tokenizer, {piece: i for i, (piece, _) in enumerate(pieces)}
    if kind == "bpe":
        vocab = {t: i for i, t in enumerate([*specials, *sorted(pre_tokenizers.ByteLevel.alphabet())])}
        merges = []
        for word in WORDS:
            token = "\u0120" + word
            for end in range(2, len(token) + 1):
                if token[:end] not in vocab:
                    vocab[token[:end]] = len(vocab)
                    merges.append((token[: end - 1], token[end - 1]))
        tokenizer = Tokenizer(models.BPE(vocab, merges, unk_token=None))
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tokenizer.decoder = decoders.ByteLevel()
        return tokenizer, vocab
    vocab = {t: i for i, t in enumerate([*specials, *string.ascii_lowercase, *WORDS])}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token=specials[3]))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer, vocab


def _sizes(family: str, vocab: dict[str, int], specials: tuple[str, ...]) -> dict[str, Any]:
    if family == "distilbert":
        return {"dim": 16, "n_layers": 1, "n_heads": 2, "hidden_dim": 32, "max_position_embeddings": 64}
    if family == "gpt2":
        return {"n_embd": 16, "n_layer": 1, "n_head": 2, "n_positions": 64}
    sizes: dict[str, Any] = {
        "hidden_size": 16,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "max_position_embeddings": 64,
    }
    if family == "modernbert":
        cls, pad, sep = (vocab[specials[0]], vocab[specials[1]], vocab[specials[2]])
        sizes.update(global_attn_every_n_layers=1, local_attention=16, pad_token_id=pad, bos_token_id=cls)
        sizes.update(eos_token_id=sep, cls_token_id=cls, sep_token_id=sep)
    return sizes


def build(family: str, folder: Path, seed: int = 0) -> Path:
    """Write a tiny ``family`` checkpoint (tokenizer + randomly initialised network) into ``folder``."""
    import transformers

    tokenizer_class, config_class, model_class, kind, specials, extra = FAMILIES[family]
    tokenizer, vocab = _tokenizer(kind, specials)
    cls, pad, sep, unk, mask = specials
    template = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])]
    )
    tokenizer.post_processor = template
    fast = getattr(transformers, tokenizer_class)(
        tokenizer_object=tokenizer,
        bos_token=cls,
        eos_token=sep,
        unk_token=unk,
        sep_token=sep,
        pad_token=pad,
        cls_token=cls,
        mask_token=mask,
    )
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    torch.manual_seed(seed)
    config = getattr(transformers, config_class)(vocab_size=len(vocab), **_sizes(family, vocab, specials), **extra)
    getattr(transformers, model_class)(config).save_pretrained(str(folder))
    return folder
