"""Explanations: per-query-token matches that sum to the MaxSim score, with document spans."""

from __future__ import annotations

import json

import pytest

from colbert_retrieval import ColBERT
from colbert_retrieval.errors import EmptyInputError
from colbert_retrieval.models import Explanation
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS, shared_model

MODEL = shared_model()
LONG = " ".join(["Scurvy, a disease from a lack of vitamin C, was common among sailors."] * 40)


@pytest.mark.parametrize("document", [*SAMPLE_TEXTS, LONG, "Vitamin C!!! (ascorbic acid) -- scurvy?"])
def test_contributions_sum_to_the_maxsim_score(document: str) -> None:
    explanation = MODEL.explain(SAMPLE_QUERY, document)
    expected = float(
        MODEL.similarity([MODEL.encode(SAMPLE_QUERY, is_query=True)], [MODEL.encode(document, is_query=False)])[0, 0]
    )
    assert explanation.score == pytest.approx(expected, abs=1e-3)
    assert sum(m.score for m in explanation.matches) == pytest.approx(explanation.score, abs=1e-4)
    assert len(explanation.matches) == MODEL.encode(SAMPLE_QUERY, is_query=True).shape[0]
    assert len(explanation.document_tokens) == MODEL.encode(document, is_query=False).shape[0]
    for match in explanation.matches:
        assert explanation.document_tokens[match.document_position] == match.document_token
        if match.span is not None:  # the span is the token's text (uncased WordPiece)
            start, end = match.span
            assert document[start:end].lower() == match.document_token.removeprefix("##")


def test_markers_and_query_expansion_are_explained(tiny_colbert: ColBERT) -> None:
    explanation = tiny_colbert.explain("what causes scurvy?", "scurvy is a disease from a lack of vitamin c.")
    assert len(explanation.matches) == tiny_colbert.query_length  # [MASK] expansion tokens included
    assert any(m.query_token == "[MASK]" for m in explanation.matches)
    expected = tiny_colbert.similarity(
        [tiny_colbert.encode("what causes scurvy?")],
        [tiny_colbert.encode("scurvy is a disease from a lack of vitamin c.", is_query=False)],
    )
    assert explanation.score == pytest.approx(float(expected[0, 0]), abs=1e-4)
    special = [s for t, s in zip(explanation.document_tokens, explanation.document_spans) if t.startswith("[")]
    assert special and all(span is None for span in special)  # [CLS], the [D] marker and [SEP] have no text


def test_renderings() -> None:
    explanation = MODEL.explain("vitamin C deficiency", "Scurvy: a lack of vitamin C.")
    assert explanation.to_text(color=False) == "Scurvy: a [lack] [of] [vitamin] [C]."
    assert "\033[" in explanation.to_text()
    page = explanation.to_html()
    assert page.count("<mark") == 4 and f"{explanation.score:.3f}" in page and "deficiency" in page
    assert explanation._repr_html_() == page
    long = MODEL.explain("vitamin", LONG)
    assert long.to_text(color=False, encoded_only=True).endswith(" ...")
    assert isinstance(long, Explanation)
    with pytest.raises(EmptyInputError):
        MODEL.explain(" ", "text")


def test_cli_search_explain(tmp_path, capsys) -> None:
    from colbert_retrieval.cli import main

    corpus = tmp_path / "notes.txt"
    corpus.write_text("Scurvy is a disease caused by a lack of vitamin C.")
    store = str(tmp_path / "store")
    assert main(["index", str(corpus), "--path", store]) == 0
    capsys.readouterr()
    assert main(["search", "vitamin C deficiency", "--path", store, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "[vitamin] [C]" in out and "MaxSim" in out and "vitamin->vitamin" in out
    assert main(["search", "vitamin C deficiency", "--path", store, "--explain", "--json"]) == 0
    line = json.loads(capsys.readouterr().out.splitlines()[0])
    assert {m["query_token"] for m in line["matches"]} >= {"vitamin", "c"}
