"""``ColBERT.similarity`` / ``similarity_pairwise`` honour sentence-transformers' keyword contract.

sentence-transformers' losses, evaluators and trainer call the model's scoring with their own keywords
(``a_mask``, ``b_mask``, ``chunk_elements``, ``length_normalize``, ``device``): 6.3's default losses score
through ``model.similarity`` itself. These tests call our methods exactly that way and compare with
sentence-transformers' own ``maxsim`` functions.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from sentence_transformers.util import similarity as st_similarity

from colbert_retrieval import ColBERT

EXPECTED_KEYWORDS = ["a", "b", "a_mask", "b_mask", "chunk_elements", "length_normalize", "device"]


def _padded(n: int, length: int, dim: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    vectors = torch.nn.functional.normalize(torch.randn(n, length, dim, generator=generator), dim=-1)
    lengths = torch.randint(1, length + 1, (n,), generator=generator)
    mask = torch.arange(length)[None, :] < lengths[:, None]
    return vectors, mask


@pytest.mark.parametrize("method", ["similarity", "similarity_pairwise"])
def test_every_keyword_of_sentence_transformers_scoring_is_accepted(method) -> None:
    reference = st_similarity.maxsim if method == "similarity" else st_similarity.maxsim_pairwise
    theirs = list(inspect.signature(reference).parameters)
    assert theirs == EXPECTED_KEYWORDS, "sentence-transformers' scoring contract moved: update ColBERT's"
    ours = inspect.signature(getattr(ColBERT, method)).parameters
    for name in theirs[2:]:
        assert name in ours, f"ColBERT.{method} does not take {name}="


@pytest.mark.parametrize("length_normalize", [None, False, True])
@pytest.mark.parametrize("similarity_fn_name", ["maxsim", "meanmaxsim"])
def test_similarity_with_masks_matches_sentence_transformers(tiny_colbert, length_normalize, similarity_fn_name):
    queries, q_mask = _padded(3, 6, 8, seed=1)
    documents, d_mask = _padded(5, 9, 8, seed=2)
    before = tiny_colbert.similarity_fn_name
    tiny_colbert.similarity_fn_name = similarity_fn_name
    try:
        kwargs = {} if length_normalize is None else {"length_normalize": length_normalize}
        ours = tiny_colbert.similarity(queries, documents, a_mask=q_mask, b_mask=d_mask, chunk_elements=64, **kwargs)
        pairs = tiny_colbert.similarity_pairwise(queries, documents[:3], a_mask=q_mask, b_mask=d_mask[:3], **kwargs)
    finally:
        tiny_colbert.similarity_fn_name = before
    normalize = similarity_fn_name == "meanmaxsim" if length_normalize is None else length_normalize
    theirs = st_similarity.maxsim(queries, documents, a_mask=q_mask, b_mask=d_mask, length_normalize=normalize)
    their_pairs = st_similarity.maxsim_pairwise(
        queries, documents[:3], a_mask=q_mask, b_mask=d_mask[:3], length_normalize=normalize
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(pairs, their_pairs, rtol=1e-5, atol=1e-5)


def test_a_mask_is_used_not_ignored(tiny_colbert) -> None:
    queries, _ = _padded(2, 4, 8, seed=3)
    documents, _ = _padded(2, 5, 8, seed=4)
    one_token = torch.tensor([[True, False, False, False]] * 2)
    masked = tiny_colbert.similarity(queries, documents, a_mask=one_token)
    first_only = tiny_colbert.similarity(queries[:, :1], documents)
    torch.testing.assert_close(masked, first_only)
    assert not torch.allclose(masked, tiny_colbert.similarity(queries, documents))


def test_device_keyword_scores_there_and_returns_on_the_documents_device(tiny_colbert) -> None:
    queries, q_mask = _padded(2, 4, 8, seed=5)
    documents, d_mask = _padded(3, 5, 8, seed=6)
    scores = tiny_colbert.similarity(queries, documents, a_mask=q_mask, b_mask=d_mask, device="cpu")
    assert scores.device == documents.device and scores.shape == (2, 3)


def test_ragged_lists_and_one_matrix_still_score_as_in_pylate(tiny_colbert) -> None:
    queries, _ = _padded(1, 4, 8, seed=7)
    documents = [torch.nn.functional.normalize(torch.randn(n, 8), dim=-1) for n in (3, 7)]
    scores = tiny_colbert.similarity(queries[0], documents)
    expected = torch.stack([(queries[0] @ d.T).amax(dim=1).sum() for d in documents])[None]
    torch.testing.assert_close(scores, expected)


def test_gradients_flow_through_the_similarity_that_the_losses_call(tiny_colbert) -> None:
    queries, q_mask = _padded(2, 4, 8, seed=8)
    documents, d_mask = _padded(3, 5, 8, seed=9)
    queries.requires_grad_(True)
    documents.requires_grad_(True)
    scores = tiny_colbert.similarity(queries, documents, a_mask=q_mask, b_mask=d_mask, chunk_elements=8)
    scores.sum().backward()
    theirs_q = queries.grad.clone()
    queries.grad = None
    st_similarity.maxsim(queries, documents, a_mask=q_mask, b_mask=d_mask).sum().backward()
    torch.testing.assert_close(theirs_q, queries.grad)
    pairs = tiny_colbert.similarity_pairwise(queries, documents[:2], a_mask=q_mask, b_mask=d_mask[:2])
    assert pairs.requires_grad


def test_a_mask_of_the_wrong_shape_is_refused(tiny_colbert) -> None:
    from colbert_retrieval.errors import DimensionMismatchError

    queries, _ = _padded(2, 4, 8, seed=10)
    with pytest.raises(DimensionMismatchError, match="Mask shape"):
        tiny_colbert.similarity(queries, queries, a_mask=torch.ones(2, 3, dtype=torch.bool))
