"""Fine-tune the offline default on a BEIR dataset's train split with the documented defaults; report test.

    pip install -e ".[train,bench]"
    python benchmarks/fine_tune_nfcorpus.py ../shared/data/nfcorpus --output runs/nfcorpus
    python benchmarks/fine_tune_nfcorpus.py DATA --output DIR --from-report   # only re-render a finished run

Runs exactly ``colbert-retrieval train DATA --output DIR --test-split test`` (the defaults of
``colbert_retrieval.training.FineTuneConfig``): the dev split selects the checkpoint, the test split is only
reported (before: the untouched default, after: the kept checkpoint; exact MaxSim over the whole corpus,
no pooling). Writes docs/benchmarks/<name>.md and the nDCG@10-by-step curve <name>.png.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, machine, table, write_result


def curve_plot(path: Path, curve: list[list[float]], test: tuple[float, float], title: str) -> None:
    """nDCG@10 on dev by training step, with the test before/after as reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.6))
    steps, scores = zip(*curve)
    axis.plot(steps, scores, marker="o", label="dev nDCG@10 (selects the checkpoint)")
    axis.axhline(test[0], color="grey", linestyle=":", label=f"test, untouched default ({test[0]:.4f})")
    axis.axhline(test[1], color="#c44e52", linestyle="--", label=f"test, kept checkpoint ({test[1]:.4f})")
    axis.set_xlabel("training step")
    axis.set_ylabel("nDCG@10 (exact MaxSim)")
    axis.set_title(title)
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--output", required=True)
    parser.add_argument("--name", default="fine-tuning", help="result file name under docs/benchmarks/")
    parser.add_argument("--from-report", action="store_true", help="render OUTPUT/training_report.json only")
    args = parser.parse_args()
    if not args.from_report:
        from colbert_retrieval.training import FineTuneConfig, fine_tune

        fine_tune(FineTuneConfig(data=args.data, output=args.output, test_split="test"))
    report = json.loads((Path(args.output) / "training_report.json").read_text())
    before, after = report["before"], report["after"]
    rows = [
        [
            split,
            metric,
            before[split][metric],
            after[split][metric],
            f"{after[split][metric] - before[split][metric]:+.4f}",
        ]
        for split in ("test", "dev")
        for metric in ("ndcg@10", "recall@100", "mrr@10")
    ]
    settings = report["settings"]
    test = (before["test"]["ndcg@10"], after["test"]["ndcg@10"])
    curve_plot(RESULTS / f"{args.name}.png", report["curve"], test, f"Fine-tuning on {Path(args.data).name}")
    markdown = (
        f"`colbert-retrieval train {Path(args.data).name} --test-split test` with the defaults "
        f"({settings['passes']} passes, batch {settings['batch_size']}, learning rate {settings['learning_rate']}, "
        f"{settings['n_negatives']} mined negative per row, {settings['rows']} rows, bf16 {settings['bf16']}): "
        f"{report['steps']} steps, **{report['wall_seconds'] / 60:.1f} minutes** wall time end to end "
        f"(encoding, mining, training, evaluations) on {machine()}; kept: {report['kept']}.\n\n"
        + table(["split", "metric", "untouched default", "fine-tuned", "change"], rows)
        + "\n\nDev nDCG@10 by step (step 0: untouched): "
        + ", ".join(f"{int(s)}: {v:.4f}" for s, v in report["curve"])
    )
    print(markdown)
    write_result(args.name, markdown)


if __name__ == "__main__":
    main()
