"""The explanation picture of docs/concepts.md: which document token each query token matched (run by hand).

    python benchmarks/explain_figure.py

Writes docs/benchmarks/explain.png (bars: each query token's contribution to the MaxSim score, labelled with
the document token it matched; title: the document with the matched spans in brackets).
"""

from __future__ import annotations

import textwrap

from _common import RESULTS

from colbert_retrieval import default_model

QUERY = "what causes scurvy in sailors?"
DOCUMENT = (
    "Scurvy is a disease resulting from a lack of vitamin C. Sailors on long voyages without fresh fruit "
    "suffered from it until lemons and limes were carried on board."
)


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    explanation = default_model().explain(QUERY, DOCUMENT)
    labels = [f"{m.query_token}  ->  {m.document_token}" for m in explanation.matches]
    values = [m.score for m in explanation.matches]
    figure, axis = plt.subplots(figsize=(9, 0.42 * len(labels) + 2.2))
    axis.barh(labels, values, color="#4c72b0")
    axis.invert_yaxis()
    for y, value in enumerate(values):
        axis.text(value, y, f" {value:.2f}", va="center")
    axis.set_xlim(0, max(values) * 1.15)
    axis.set_xlabel(f"contribution to the MaxSim score (total {explanation.score:.2f})")
    title = "\n".join(textwrap.wrap(explanation.to_text(color=False), 95))
    axis.set_title(f"query: {QUERY!r}\n{title}", fontsize=9, loc="left")
    figure.tight_layout()
    figure.savefig(RESULTS / "explain.png", dpi=110)
    print(explanation.to_text(color=False))


if __name__ == "__main__":
    main()
