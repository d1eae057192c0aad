"""The model card of a fine-tuned ColBERT: base model, data, loss, settings, before/after metrics, curve.

Examples:
    >>> from pathlib import Path
    >>> from tempfile import TemporaryDirectory
    >>> from types import SimpleNamespace
    >>> report = SimpleNamespace(before={"dev": {"ndcg@10": 0.3}}, after={"dev": {"ndcg@10": 0.32}},
    ...     curve=[(0, 0.3), (80, 0.32)], steps=80, wall_seconds=600.0, kept="trained", settings={"passes": 1})
    >>> with TemporaryDirectory() as folder:
    ...     write_model_card(Path(folder) / "README.md", report, base_model="m")
    ...     "| dev | ndcg@10 | 0.3 | 0.32 |" in (Path(folder) / "README.md").read_text()
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_model_card"]


def _selection_lines(report: Any) -> list[str]:
    """What the schedule rule chose and why, and how the relevance calibration was fitted."""
    selection = getattr(report, "selection", None) or {}
    lines = []
    if selection:
        lines += ["", f"Schedule rule: {selection['rule']}. Chosen: {selection['reason']}."]
    if getattr(report, "relevance", ""):
        lines += ["", f"Relevance calibration (`relevance.json`): {report.relevance}."]
    return lines


def write_model_card(path: Path, report: Any, *, base_model: str) -> None:
    """Write ``README.md`` for a fine-tuned model (overwrites sentence-transformers' generic card).

    Args:
        path: the file to write.
        report: a :class:`~colbert_retrieval.training._fine_tune.FineTuneReport`.
        base_model: the model the run started from.
    """
    settings = dict(report.settings)
    rows = [
        f"| {split} | {metric} | {value} | {report.after.get(split, {}).get(metric, '-')} |"
        for split, metrics in report.before.items()
        for metric, value in metrics.items()
    ]
    curve = "\n".join(f"| {step} | {score:.4f} |" for step, score in report.curve)
    lines = [
        "---",
        "library_name: sentence-transformers",
        "tags: [ColBERT, colbert-retrieval, sentence-transformers, multi-vector, fine-tuned]",
        "pipeline_tag: sentence-similarity",
        "---",
        "",
        f"# Fine-tuned ColBERT from {base_model}",
        "",
        f"Trained with `colbert-retrieval train` on `{settings.get('data', '?')}` (split `{settings.get('split')}`),",
        f"selected on `{settings.get('eval_split')}`; kept: {report.kept}. {report.steps} steps in",
        f"{report.wall_seconds / 60:.1f} minutes on {settings.get('device', '?')}.",
        *_selection_lines(report),
        "",
        "## Metrics (exact MaxSim over the whole corpus)",
        "",
        "| split | metric | before | after |",
        "|---|---|---|---|",
        *rows,
        "",
        "## Eval curve (nDCG@10 by step; step 0 is the untouched model)",
        "",
        "| step | nDCG@10 |",
        "|---|---|",
        curve,
        "",
        "## Training",
        "",
        "- Loss: `colbert_retrieval.pylate.losses.Contrastive` (sentence-transformers' "
        "`MultiVectorMultipleNegativesRankingLoss`: in-batch negatives plus mined hard negatives).",
        "- Hard negatives: top candidates of the untouched model from an embedded colbert-retrieval index, "
        "judged documents and near-duplicates of the positive removed.",
        "- Settings:",
        *[f"  - `{name}`: `{value}`" for name, value in sorted(settings.items())],
        "",
        "Load it with `colbert_retrieval.ColBERT(<this folder>)` or PyLate's `models.ColBERT`.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf8")
