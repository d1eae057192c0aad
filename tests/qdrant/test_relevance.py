"""A calibrated relevance on hits, one threshold (min_relevance), kept with the model (#37)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from colbert_retrieval import default_model, load_model
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.evaluation import calibration
from colbert_retrieval.models import Relevance
from colbert_retrieval.qdrant import ColBERTIndex

TEXTS = {
    "scurvy": "Scurvy is a disease resulting from a lack of vitamin C.",
    "citrus": "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "statins": "Statins lower LDL cholesterol and the risk of heart attacks.",
    "paris": "Paris is the capital and most populous city of France.",
    "exercise": "Regular exercise improves blood pressure, sleep and mood.",
    "seine": "The Seine flows through Paris before reaching the English Channel.",
    "bp": "High blood pressure raises the risk of stroke and heart disease.",
    "sleep": "Adults need seven to nine hours of sleep a night.",
}
QUERIES = {
    "q1": "which disease comes from a lack of vitamin c?",
    "q2": "what lowers cholesterol",
    "q3": "capital of France",
    "q4": "how to lower blood pressure",
    "q5": "which river flows through Paris",
    "q6": "foods rich in vitamin C",
}
QRELS = {
    "q1": {"scurvy": 2},
    "q2": {"statins": 2},
    "q3": {"paris": 2},
    "q4": {"exercise": 1, "bp": 1},
    "q5": {"seine": 2},
    "q6": {"citrus": 2},
}


@pytest.fixture
def index():
    model = default_model()  # its own instance: fitting sets model.relevance
    with ColBERTIndex(model, "relevance", store=":memory:") as index:
        index.add([{"id": key, "text": text} for key, text in TEXTS.items()])
        yield index


def test_a_fitted_calibration_puts_a_probability_on_every_hit_and_min_relevance_filters_on_it(index) -> None:
    index.model.relevance = None
    with pytest.raises(InvalidArgumentError, match="min_relevance needs a model with a relevance calibration"):
        index.search("vitamin C", k=3, config={"min_relevance": 0.5})
    hit = index.search("vitamin C", k=1)[0]
    assert hit.relevance is None
    with pytest.raises(InvalidArgumentError, match="no relevance calibration"):
        hit.score_on("relevance")
    fitted = index.fit_relevance(QUERIES, QRELS, k=4)
    assert index.model.relevance is fitted and fitted.mode == "hybrid" and "24 top-4 hits" in fitted.fitted_on
    assert fitted.coefficients[0] > 0  # a higher MaxSim per token: more often relevant
    hits = index.search(QUERIES["q1"], k=len(TEXTS))
    assert all(0.0 <= h.relevance <= 1.0 for h in hits) and hits[0].score_on("relevance") == hits[0].relevance
    assert hits[0].id == "scurvy" and hits[0].relevance > hits[-1].relevance
    for least in (0.0, 0.3, hits[0].relevance, 1.0):
        kept = index.search(QUERIES["q1"], k=len(TEXTS), config={"min_relevance": least})
        assert [h.id for h in kept] == [h.id for h in hits if h.relevance >= least]
    with pytest.raises(InvalidArgumentError, match="min_relevance must be a probability"):
        index.search("x", config={"min_relevance": 1.5})


def test_the_calibration_is_saved_with_the_model_and_loaded_back(index, tmp_path) -> None:
    fitted = index.fit_relevance(QUERIES, QRELS, k=4)
    index.model.save(str(tmp_path / "model"))
    stored = json.loads((tmp_path / "model" / "relevance.json").read_text())
    assert stored["coefficients"] == list(fitted.coefficients)
    assert load_model(str(tmp_path / "model")).relevance == fitted
    with pytest.raises(InvalidArgumentError, match="fit it again"):
        Relevance.from_dict({**stored, "features": ["mean_maxsim"], "coefficients": [1.0]})


def test_calibration_metrics() -> None:
    report = calibration(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 0, 0, 0]))
    assert report.ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)  # bin 0.1: 0% relevant; bin 0.9: 50%
    assert report.base_rate == 0.25 and report.count == 4
    assert report.skill == pytest.approx(1 - report.brier / 0.1875)
    assert [b[-1] for b in report.bins] == [2, 2]
    with pytest.raises(InvalidArgumentError):
        calibration(np.array([0.5]), np.array([1, 0]))


def test_fitting_needs_both_labels() -> None:
    with pytest.raises(InvalidArgumentError, match="both relevant and irrelevant"):
        Relevance.fit(np.ones((3, 3)), np.ones(3))
