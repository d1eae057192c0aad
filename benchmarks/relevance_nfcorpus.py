"""The default model's relevance calibration: fitted on NFCorpus train, judged on dev and test and a second corpus.

    python benchmarks/relevance_nfcorpus.py ../shared/data/nfcorpus [--write-default]

1. NFCorpus's corpus is indexed with the offline default (the main job's default search: hybrid, top 10).
2. The calibration (``ColBERTIndex.fit_relevance``: a logistic map from a hit's MaxSim per query token, its gap
   to the query's best hit and the query's length to ``P(relevant)``) is fitted on the top-10 hits of the
   *train* queries only (a hit is relevant when NFCorpus judges it above 0).
3. Dev and test (never fitted on) report the expected calibration error (10 equal-width bins), the Brier score
   and its skill over always predicting the base rate, and the reliability curve (docs/benchmarks/relevance.png).
4. A second corpus nobody here wrote: Starlette's documentation and its 37 questions
   (``benchmarks/data/external_docs_questions.jsonl``, see main_job_questions.py), indexed as the main job
   indexes; a hit is relevant when it overlaps an answering section. For thresholds 0.3, 0.5 and 0.7 the share of
   relevant hits among those kept is reported on NFCorpus test and on Starlette: what one threshold means on two
   corpora.

``--write-default`` also writes the fitted calibration to ``colbert_retrieval/models/default_relevance.json``
(what ``default_model()`` ships). Writes docs/benchmarks/relevance.md and relevance.png (the reliability curve,
shown by the page that includes the table).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import numpy as np
from _common import RESULTS, machine, table, write_result
from main_job_questions import answer_lines, external_folder, load

from colbert_retrieval import default_model
from colbert_retrieval.cli import main as cli
from colbert_retrieval.evaluation import calibration, load_beir
from colbert_retrieval.qdrant import ColBERTIndex

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "colbert_retrieval" / "models" / "default_relevance.json"
THRESHOLDS = (0.3, 0.5, 0.7)


def judged_hits(index: ColBERTIndex, queries: dict[str, str], qrels: dict) -> tuple[np.ndarray, np.ndarray]:
    """Relevance and 0/1 label of every judged query's top-10 hits."""
    chances, labels = [], []
    ids = [q for q in queries if qrels.get(q)]
    for start in range(0, len(ids), 64):
        batch = ids[start : start + 64]
        for qid, hits in zip(batch, index.search([queries[q] for q in batch], k=10)):
            for hit in hits:
                chances.append(hit.relevance)
                labels.append(1.0 if qrels[qid].get(str(hit.id), 0) > 0 else 0.0)
    return np.array(chances), np.array(labels)


def starlette_hits(model) -> tuple[np.ndarray, np.ndarray]:
    """Relevance and 0/1 label of the top-10 hits of Starlette's questions, indexed as the main job indexes."""
    root = external_folder()
    store = Path(tempfile.mkdtemp(prefix="relevance-"))
    cwd = Path.cwd()
    os.chdir(root)
    try:
        with redirect_stdout(StringIO()):
            assert cli(["index", "docs", "--path", str(store / "index")]) == 0
        chances, labels = [], []
        with ColBERTIndex(model, "colbert", store=str(store / "index"), create=False) as index:
            for item in load("external_docs_questions.jsonl"):
                answers = [(a["file"], answer_lines(root / a["file"], a["section"])) for a in item["answers"]]
                for hit in index.search(item["question"], 10):
                    chances.append(hit.relevance)
                    labels.append(
                        float(
                            any(
                                hit.metadata.get("source") == file
                                and hit.metadata["start_line"] <= end
                                and hit.metadata["end_line"] >= start
                                for file, (start, end) in answers
                            )
                        )
                    )
    finally:
        os.chdir(cwd)
        shutil.rmtree(store, ignore_errors=True)
    return np.array(chances), np.array(labels)


def kept_share(chances: np.ndarray, labels: np.ndarray, threshold: float) -> str:
    kept = chances >= threshold
    if not kept.any():
        return "none kept"
    return f"{labels[kept].mean():.2f} of {int(kept.sum())} ({kept.mean():.0%} kept)"


def reliability_plot(path: Path, curves: dict[str, tuple]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for name, bins in curves.items():
        axis.plot([b[2] for b in bins], [b[3] for b in bins], marker="o", label=name)
    axis.set_xlabel("predicted relevance (mean in bin)")
    axis.set_ylabel("share of hits judged relevant")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_title("Relevance of the default model's top-10 hits")
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--write-default", action="store_true")
    args = parser.parse_args()
    model = default_model()
    model.relevance = None  # fitted here from scratch, never from the shipped file
    splits = {name: load_beir(args.data, name) for name in ("train", "dev", "test")}
    with ColBERTIndex(model, "nfcorpus", store=":memory:") as index:
        index.add(({"id": i, "text": t} for i, t in splits["test"].corpus.items()), batch_size=32)
        train = splits["train"]
        fitted = index.fit_relevance(train.queries, train.qrels, k=10)
        reports = {
            name: calibration(*judged_hits(index, splits[name].queries, splits[name].qrels)) for name in ("dev", "test")
        }
        test_hits = judged_hits(index, splits["test"].queries, splits["test"].qrels)
    other_hits = starlette_hits(model)
    reports["Starlette docs"] = calibration(*other_hits)
    rows = [
        [name, r.count, f"{r.base_rate:.3f}", f"{r.ece:.3f}", f"{r.brier:.4f}", f"{r.skill:.3f}"]
        for name, r in reports.items()
    ]
    shares = [[f"{t:.1f}", kept_share(*test_hits, t), kept_share(*other_hits, t)] for t in THRESHOLDS]
    coefficients = ", ".join(f"{n} {c:+.3f}" for n, c in zip(fitted.features, fitted.coefficients))
    markdown = (
        f"Machine: {machine()}. The offline default, NFCorpus corpus indexed with the default search (hybrid), "
        f"top-10 hits per query. Fitted on the train queries only: {fitted.fitted_on}; "
        f"intercept {fitted.intercept:+.3f}, {coefficients}.\n\n"
        + table(["held out", "hits", "base rate", "ECE (10 bins)", "Brier", "Brier skill"], rows)
        + "\n\nShare of relevant hits among those a threshold keeps (NFCorpus test; Starlette's docs, relevant = "
        "the hit overlaps an answering section):\n\n"
        + table(["min_relevance", "NFCorpus test", "Starlette docs"], shares)
    )
    fitted_with_metrics = type(fitted)(
        fitted.coefficients,
        fitted.intercept,
        mode=fitted.mode,
        fitted_on=f"NFCorpus train ({fitted.fitted_on})",
        metrics={
            "test_ece": round(reports["test"].ece, 4),
            "test_brier_skill": round(reports["test"].skill, 4),
            "dev_ece": round(reports["dev"].ece, 4),
        },
    )
    reliability_plot(RESULTS / "relevance.png", {name: r.bins for name, r in reports.items()})
    print(markdown)
    write_result("relevance", markdown)
    if args.write_default:
        DEFAULT.write_text(json.dumps(fitted_with_metrics.to_dict(), indent=2) + "\n")
        print(f"wrote {DEFAULT}")


if __name__ == "__main__":
    main()
