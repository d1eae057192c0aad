"""Fine-tuning rules compared on NFCorpus: today's default, the rule before it, and no selection at all.

    pip install -e ".[train,bench]"
    python benchmarks/fine_tune_rules.py ../shared/data/nfcorpus --runs runs/rules
    python benchmarks/fine_tune_rules.py ../shared/data/nfcorpus --runs runs/rules --render-only
    python benchmarks/fine_tune_rules.py ../shared/data/nfcorpus --runs runs/rules-800 --train-queries 800

Each rule trains the offline default on NFCorpus's **train** split only and decides on training queries only
(the rule's own held-out share inside it); dev and test are scored afterwards and never decide anything:

* ``default`` (``colbert-retrieval train DATA --test-split test``): 10 % of the training queries held out to
  choose the schedule, then trained again on every training query (``selection="retrain"``). Dev is only
  reported: ``auto`` never selects on it.
* ``checkpoint`` (the rule before 0.3, as on a folder without dev): 10 % held out and never trained on, the best
  checkpoint on them kept (``--selection checkpoint`` on a copy of the folder without ``qrels/dev.tsv``).
* ``none`` (``--eval-split none``): every training query, the whole schedule, no guard.

``--seeds 0,1`` runs every rule once per seed (the seed draws the held-out queries, the mined negatives and the
data order; one seed gives both rules the same held-out queries) into ``RUNS/RULE`` (seed 0) and
``RUNS/RULE-seedN``; the page then adds each rule's mean over the seeds and the default's difference from the old
rule seed by seed, which is what tells a difference between the rules from one run's noise. A run folder that
already holds a finished run (``run.json``) is reused, so the page can gather runs made one at a time; each row
names the commit its run came from. Minutes are wall time of ``fine_tune`` end to end
(encoding, mining, training, evaluations, relevance fit) on this machine with nothing else running. Writes
docs/benchmarks/fine-tuning-rules.md and the default rule's held-out curve fine-tuning-rules.png.

``--train-queries N`` trains every rule on the same N of the train split's queries (drawn once with seed 0,
whatever ``--seeds`` says; dev and test unchanged) and writes fine-tuning-rules-N-queries.md/.png instead: the
regime of a small training set (a few hundred queries, so the held-out 10 % is a few dozen), where one noisy
held-out curve decides the old rule's checkpoint.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from _common import RESULTS, machine, table, write_result

RULES = ("default", "checkpoint", "none")
HEADERS = (
    "rule", "seed", "kept", "steps", "minutes", "dev nDCG@10", "dev Recall@100", "test nDCG@10", "run's commit"
)  # fmt: skip


def linked(data: Path, folder: Path, names: tuple[str, ...]) -> Path:
    """``folder`` holding links to ``data``'s files ``names`` (nothing copied; links already there are kept)."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    for name in names:
        link = folder / name
        if not link.exists():
            link.symlink_to((data / name).resolve())
    return folder


def without_dev(data: Path, folder: Path) -> Path:
    """A view of ``data`` without its dev judgments (links, nothing copied): what a folder without dev looks like."""
    return linked(data, folder, ("corpus.jsonl", "queries.jsonl", "qrels/train.tsv", "qrels/test.tsv"))


def fewer_train_queries(data: Path, folder: Path, count: int) -> tuple[Path, int]:
    """A view of ``data`` whose train split keeps ``count`` of its queries (drawn once, seed 0; dev, test linked).

    The draw does not depend on the runs' seed: every rule and seed trains on the same queries, so the page compares
    rules, not draws. A folder already made is reused only if it holds the same draw. Returns the view and how
    many queries ``data``'s train split has.
    """
    import csv
    import random

    linked(data, folder, ("corpus.jsonl", "queries.jsonl", "qrels/dev.tsv", "qrels/test.tsv"))
    with open(data / "qrels" / "train.tsv", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        lines = list(reader)
    queries = sorted({line[0] for line in lines})
    if count >= len(queries):
        raise SystemExit(f"--train-queries {count}: {data.name}'s train split has only {len(queries)} queries.")
    kept = set(random.Random(0).sample(queries, count))
    text = "\t".join(header) + "\n" + "".join("\t".join(line) + "\n" for line in lines if line[0] in kept)
    train = folder / "qrels" / "train.tsv"
    if train.exists() and train.read_text() != text:
        raise SystemExit(f"{train} holds another draw; remove {folder} or use another --runs folder.")
    train.write_text(text)
    return folder, len(queries)


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()


def dev_metrics(model_folder: Path, data: Path) -> dict[str, float]:
    """Dev nDCG@10 / Recall@100 / MRR@10 of a saved model (exact MaxSim, as fine_tune scores every split)."""
    from colbert_retrieval.evaluation import load_beir, retrieval_metrics
    from colbert_retrieval.models import load_model
    from colbert_retrieval.training import exact_maxsim_runs

    model = load_model(str(model_folder))
    model.runtime.hold_bulk("scored on the path fine_tune scores on")
    dev = load_beir(data, "dev")
    run, _ = exact_maxsim_runs(model, dev.corpus, dev.queries, batch_size=32)
    return retrieval_metrics(dev.qrels, run)


def run_folder(runs: Path, rule: str, seed: int) -> Path:
    """Where a rule's run of one seed lives (seed 0 keeps the rule's own name, as before seeds)."""
    return runs / (rule if seed == 0 else f"{rule}-seed{seed}")


def run_rule(rule: str, data: Path, folder: Path, view: Path, seed: int = 0) -> dict:
    """Train with ``rule`` and ``seed`` into ``folder`` (or reuse a finished run) and return its record."""
    record = folder / "run.json"
    if record.exists():
        return json.loads(record.read_text())
    if (folder / "training_report.json").exists():  # a finished fine_tune of an earlier run: gather it
        return record_run(rule, folder, data, json.loads((folder / "training_report.json").read_text()))
    from colbert_retrieval.training import FineTuneConfig, fine_tune

    settings = {
        "default": {"data": data},
        "checkpoint": {"data": view, "selection": "checkpoint"},
        "none": {"data": view, "eval_split": None},
    }[rule]
    (folder).mkdir(parents=True, exist_ok=True)
    (folder / "commit.txt").write_text(commit())
    report = fine_tune(FineTuneConfig(output=folder, test_split="test", seed=seed, **settings))
    return record_run(rule, folder, data, json.loads(report.to_json()))


def record_run(rule: str, folder: Path, data: Path, report: dict) -> dict:
    """``run.json``: what the page shows of a finished run (dev scored here when the run did not report it)."""
    dev = report["after"].get("dev")
    if dev is None:
        saved = folder / "dev_eval.json"  # scored by an earlier invocation
        if saved.exists():
            dev = json.loads(saved.read_text())["dev"]
        else:
            dev = dev_metrics(folder, data)
            saved.write_text(json.dumps({"dev": dev}))
    kept, scored = report["kept"], report["curve"][1:]
    if kept == "trained" and rule == "checkpoint" and scored:  # a report from before the kept step was named
        best = max(score for _, score in scored)
        step = next(step for step, score in scored if score == best)
        kept = f"trained (best checkpoint on {report['settings']['eval_split']}: step {step} of {report['steps']})"
    made_by = folder / "commit.txt"
    result = {
        "rule": rule,
        "commit": made_by.read_text().strip()[:7] if made_by.exists() else "unknown",
        "minutes": round(report["wall_seconds"] / 60, 1),
        "kept": kept,
        "steps": report["steps"],
        "seed": report["settings"].get("seed", 0),
        "dev": dev,
        "test": report["after"]["test"],
        "before": {"test": report["before"]["test"], "dev": report["before"].get("dev")},
        "selection": report.get("selection") or {},
        "relevance": report.get("relevance", ""),
    }
    (folder / "run.json").write_text(json.dumps(result, indent=2))
    return result


def untouched_dev(runs: Path, data: Path) -> dict[str, float]:
    """Dev metrics of the untouched default (kept in ``runs/untouched_dev.json`` once scored)."""
    saved = runs / "untouched_dev.json"
    if not saved.exists():
        from colbert_retrieval.models import default_model

        folder = runs / "untouched"
        default_model().save_pretrained(str(folder))
        saved.write_text(json.dumps(dev_metrics(folder, data)))
    return json.loads(saved.read_text())


def curve_plot(path: Path, selection: dict, title: str) -> None:
    """Held-out nDCG@10 by step of the default rule, the chosen step marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.4))
    steps, scores = zip(*selection["points"])
    axis.plot(steps, scores, marker="o", label="held-out nDCG@10 (10 % of the training queries)")
    axis.axvline(selection["chosen_step"], color="#c44e52", linestyle="--", label="chosen schedule")
    axis.set_xlabel("training step (selection run, without the held-out queries)")
    axis.set_ylabel("nDCG@10 (exact MaxSim)")
    axis.set_title(title)
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def seed_summary(results: list[dict]) -> str:
    """Each rule's mean over its seeds, and the default's difference from the old rule seed by seed (paired)."""
    by_rule: dict[str, list[dict]] = {}
    for r in results:
        by_rule.setdefault(r["rule"], []).append(r)
    if all(len(runs) < 2 for runs in by_rule.values()):
        return ""
    means = [
        [
            rule,
            ", ".join(str(r["seed"]) for r in runs),
            f"{statistics.mean(r['dev']['ndcg@10'] for r in runs):.4f}",
            f"{statistics.mean(r['test']['ndcg@10'] for r in runs):.4f}",
        ]
        for rule, runs in by_rule.items()
    ]
    text = "\n\nMean over the seeds each rule ran:\n\n" + table(
        ["rule", "seeds", "mean dev nDCG@10", "mean test nDCG@10"], means
    )
    old = {r["seed"]: r for r in by_rule.get("checkpoint", [])}
    differences = [
        (new["seed"], new["dev"]["ndcg@10"] - old[new["seed"]]["dev"]["ndcg@10"],
         new["test"]["ndcg@10"] - old[new["seed"]]["test"]["ndcg@10"])
        for new in by_rule.get("default", []) if new["seed"] in old
    ]  # fmt: skip
    if differences:
        rows = [[seed, f"{dev:+.4f}", f"{test:+.4f}"] for seed, dev, test in differences]
        dev_mean = statistics.mean(dev for _, dev, _ in differences)
        test_mean = statistics.mean(test for _, _, test in differences)
        rows.append(["mean", f"{dev_mean:+.4f}", f"{test_mean:+.4f}"])
        text += "\n\nThe default minus the old rule (checkpoint), same seed (same held-out queries):\n\n" + table(
            ["seed", "dev nDCG@10", "test nDCG@10"], rows
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--runs", required=True, help="folder of the run folders (one per rule and seed)")
    parser.add_argument("--rules", default=",".join(RULES), help="rules to run or gather (default: all)")
    parser.add_argument("--seeds", default="0", help="seeds to run or gather, e.g. 0,1 (default: 0)")
    parser.add_argument(
        "--render-only", action="store_true", help="gather finished runs only (naming the missing ones), train nothing"
    )
    parser.add_argument(
        "--train-queries",
        type=int,
        help="train on this many of the train split's queries (drawn once, seed 0; a view in RUNS/train-N): the "
        "regime of a small training set, where a held-out 10 %% is a few dozen queries",
    )
    args = parser.parse_args()
    data, runs = Path(args.data), Path(args.runs)
    page, trained_on, short = "fine-tuning-rules", f"{data.name}'s train split", data.name
    if args.train_queries:
        subset, total = fewer_train_queries(data, runs / f"train-{args.train_queries}", args.train_queries)
        page = f"fine-tuning-rules-{args.train_queries}-queries"
        trained_on = f"{args.train_queries} of {data.name}'s {total} training queries (drawn once, seed 0)"
        short = f"{data.name}, {args.train_queries} training queries"
        data = subset
    view = without_dev(data, runs / "without-dev")
    results, missing = [], []
    for seed in (int(value) for value in args.seeds.split(",")):
        for rule in args.rules.split(","):
            folder = run_folder(runs, rule, seed)
            finished = any((folder / name).exists() for name in ("run.json", "training_report.json"))
            if args.render_only and not finished:
                missing.append(f"{rule} (seed {seed})")
                continue
            results.append({"seed": seed, **run_rule(rule, data, folder, view, seed)})  # run.json before seeds
    if not results:
        raise SystemExit(f"{runs} holds no finished run; run without --render-only first.")
    # the untouched model's dev scores: from a run that reported dev, else scored here (the same exact MaxSim)
    before_dev = next((r["before"]["dev"] for r in results if r["before"]["dev"]), None)
    if before_dev is None:
        before_dev = untouched_dev(runs, data)
    before_test = results[0]["before"]["test"]
    rows = [
        ["untouched default", "-", "-", "-", "-", before_dev["ndcg@10"], before_dev["recall@100"],
         before_test["ndcg@10"], "-"]
    ]  # fmt: skip
    for r in results:
        rows.append(
            [
                r["rule"],
                r["seed"],
                r["kept"],
                r["steps"],
                r["minutes"],
                f"{r['dev']['ndcg@10']} ({r['dev']['ndcg@10'] - before_dev['ndcg@10']:+.4f})",
                r["dev"]["recall@100"],
                f"{r['test']['ndcg@10']} ({r['test']['ndcg@10'] - before_test['ndcg@10']:+.4f})",
                r["commit"],
            ]
        )
    markdown = (
        f"Fine-tuning the offline default on {trained_on}, each rule deciding on training queries "
        f"only; dev and test scored afterwards (exact MaxSim over the whole corpus). Machine: {machine()}.\n\n"
        + table(HEADERS, rows)
        + seed_summary(results)
    )
    if missing:
        markdown += "\n\nNot run yet: " + ", ".join(missing) + "."
    default = next((r for r in results if r["rule"] == "default" and r["seed"] == 0), None)
    if default and default["selection"]:
        selection = default["selection"]
        markdown += (
            f"\n\nDefault rule: {selection['rule']}. Held-out nDCG@10 by step ({selection['queries']} queries): "
            + ", ".join(f"{step}: {score:.4f}" for step, score in selection["points"])
            + f". Chosen: {selection['reason']}. Relevance calibration: {default['relevance']}."
        )
        curve_plot(RESULTS / f"{page}.png", selection, f"Default rule's held-out curve on {short}")
    print(markdown)
    write_result(page, markdown)


if __name__ == "__main__":
    main()
