"""Query latency when the machine is busy: alone, beside other torch processes, concurrent, beside an ingest.

    python benchmarks/search_under_load.py ../shared/data/nfcorpus --baseline /path/to/checkout/of/main

Measures, on the default model and an embedded NFCorpus index (built once into ``--index``), the latency of
``model.encode(query, is_query=True)`` (one query) and of ``index.search(query, 10)`` (hybrid, the default)
as p50/p99 in milliseconds, in these scenarios:

* ``idle``: nothing else runs;
* ``beside N torch``: N other processes multiply 1024x1024 matrices in a loop on torch's default threads;
* ``N threads``: N threads of the process encode (then search) at once, latency per call;
* ``ingest``: a thread of the same process adds documents to another collection in a loop.

Each scenario runs in a fresh process per revision (this tree, and ``--baseline``'s tree when given),
alternating, so both see the same machine. NFCorpus dev queries drive the timings; nDCG@10 of hybrid search
is computed on the test split. Writes docs/benchmarks/search-under-load.md (its headline rows, which the
benchmarks page's headline table includes, first), search-under-load.png and search-under-load.json (the same
run's numbers); ``--only`` prints its scenarios and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUSY = "import torch\na = torch.randn(1024, 1024)\nwhile True:\n    a @ a\n"
SCENARIOS = ["idle", "beside 1 torch", "beside 2 torch", "2 threads", "4 threads", "8 threads", "ingest"]
EXTRAS = ["breakdown", "ndcg"]


def percentiles(values: list[float]) -> list[float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return [round(statistics.median(ordered), 2), round(p99, 2)]


def timed(function, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        function(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def concurrent(function, items, threads: int) -> list[float]:
    """Per-call latencies of ``threads`` threads calling ``function`` on their share of ``items`` at once."""
    results: list[list[float]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def run(slot: int) -> None:
        barrier.wait()
        results[slot] = timed(function, items[slot::threads])

    workers = [threading.Thread(target=run, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [value for values in results for value in values]


def breakdown(model, queries: list[str]) -> dict[str, list[float]]:
    """Where one query's encode goes: tokenising, the transformer, and everything else (public API only).

    The transformer is timed at its boundary: torch's forward hooks on the model's first module, or ONNX
    Runtime's ``InferenceSession.run`` where the short path runs it.
    """
    import onnxruntime

    spent = [0.0]
    started = [0.0]
    run = onnxruntime.InferenceSession.run

    def timed_run(session, *args, **kwargs):
        start = time.perf_counter()
        try:
            return run(session, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    onnxruntime.InferenceSession.run = timed_run
    model[0].register_forward_pre_hook(lambda module, inputs: started.__setitem__(0, time.perf_counter()))
    model[0].register_forward_hook(
        lambda module, inputs, output: spent.__setitem__(0, spent[0] + time.perf_counter() - started[0])
    )
    tokenize = timed(lambda q: model.tokenize([q], is_query=True), queries)
    total, transformer = [], []
    for query in queries:
        spent[0] = 0.0
        start = time.perf_counter()
        model.encode(query, is_query=True)
        total.append((time.perf_counter() - start) * 1000)
        transformer.append(spent[0] * 1000)
    onnxruntime.InferenceSession.run = run
    median = statistics.median
    return {
        "tokenize": percentiles(tokenize),
        "transformer": percentiles(transformer),
        "encode": percentiles(total),
        "rest": [round(median(total) - median(tokenize) - median(transformer), 2), 0.0],
    }


def worker(args: argparse.Namespace) -> None:
    """One scenario in this process (the tree on PYTHONPATH decides the revision); prints JSON."""
    import colbert_retrieval
    from colbert_retrieval import default_model
    from colbert_retrieval.evaluation import load_beir, ndcg_at_k
    from colbert_retrieval.qdrant import ColBERTIndex

    model = default_model()
    index = ColBERTIndex(model, "nfcorpus", store=args.index, create=False)
    dev = list(load_beir(args.data, "dev").queries.values())[: args.queries]
    encode = lambda q: model.encode(q, is_query=True)  # noqa: E731
    search = lambda q: index.search(q, 10)  # noqa: E731
    for query in dev[:10]:
        encode(query)
        search(query)
    result: dict[str, object] = {"package": str(Path(colbert_retrieval.__file__).parent.parent)}
    scenario = args.worker
    if scenario == "breakdown":
        result.update(breakdown(model, dev))
    elif scenario == "ndcg":
        test = load_beir(args.data, "test")
        ids = list(test.queries)
        hits = index.search([test.queries[i] for i in ids], 10)
        result["ndcg"] = round(ndcg_at_k(test.qrels, {i: [h.id for h in r] for i, r in zip(ids, hits)}), 4)
    elif scenario.endswith("threads"):
        n = int(scenario.split()[0])
        result["encode"] = percentiles(concurrent(encode, dev, n))
        result["search"] = percentiles(concurrent(search, dev, n))
    else:
        busy: list[subprocess.Popen] = []
        stop = threading.Event()
        background = None
        if scenario.startswith("beside"):
            busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(int(scenario.split()[1]))]
            time.sleep(3)
        elif scenario == "ingest":
            corpus = list(load_beir(args.data, "dev").corpus.items())
            folder = tempfile.mkdtemp()
            target = ColBERTIndex(model, "ingest", store=folder)

            def ingest() -> None:
                start = 0
                while not stop.is_set():
                    batch = corpus[start : start + 64]
                    target.add([{"id": i, "text": t} for i, t in batch])
                    start = (start + 64) % (len(corpus) - 64)

            background = threading.Thread(target=ingest)
            background.start()
            time.sleep(3)
        try:
            result["encode"] = percentiles(timed(encode, dev))
            result["search"] = percentiles(timed(search, dev))
        finally:
            stop.set()
            for process in busy:
                process.kill()
            if background is not None:
                background.join()
    print(json.dumps(result))


def run_scenario(tree: Path, scenario: str, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, str(Path(__file__).resolve()), args.data, "--index", args.index]
    command += ["--queries", str(args.queries), "--worker", scenario]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{tree} {scenario} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_index(args: argparse.Namespace) -> None:
    from colbert_retrieval import default_model
    from colbert_retrieval.evaluation import load_beir
    from colbert_retrieval.qdrant import ColBERTIndex

    data = load_beir(args.data, "test")
    index = ColBERTIndex(default_model(), "nfcorpus", store=args.index)
    index.add([{"id": i, "text": t} for i, t in data.corpus.items()])
    index.optimize()
    index.close()


def revision(tree: Path) -> str:
    """The commit a tree is at (``+ changes`` when its working tree differs)."""
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain"], capture_output=True, text=True)
    return head.stdout.strip() + (" + changes" if dirty.stdout.strip() else "")


def headline(trees: dict[str, Path], results: dict[str, dict[str, dict]]) -> str:
    """This run's rows of the benchmarks page's headline table (with a baseline, ``base -> now``)."""
    from _common import headline_table  # on the path: report, its only caller, put it there

    names = list(trees)
    now = results[names[-1]]
    label = f" (`{revision(trees[names[0]])[:7]}` -> now)" if len(names) == 2 else ""

    def both(scenario: str, metric: str, p99: bool = False) -> str:
        def one(name: str) -> str:
            p50, tail = results[name][scenario][metric]
            return f"{p50} ms" + (f" (p99 {tail} ms)" if p99 else "")

        values = " -> ".join(one(name) for name in names)
        if len(names) == 2 and not p99:
            values += f" ({results[names[0]][scenario][metric][0] / now[scenario][metric][0]:.2f}x)"
        return values

    where = "[Search under load](#search-under-load)"
    rows = [
        ["NFCorpus nDCG@10, hybrid search, default offline model (test split)", now["ndcg"]["ndcg"], where],
        [f"one query's encode, idle, p50{label}", both("idle", "encode"), where],
        [
            f"one query's encode beside two busy torch processes, p50{label}",
            both("beside 2 torch", "encode", True),
            where,
        ],
        [f"hybrid search end to end, idle, p50{label}", both("idle", "search"), where],
    ]
    return headline_table(rows)


def report(trees: dict[str, Path], results: dict[str, dict[str, dict]], args: argparse.Namespace) -> str:
    sys.path.insert(0, str(HERE))
    from _common import machine, table

    names = list(trees)
    rows = []
    for scenario in SCENARIOS:
        for metric in ("encode", "search"):
            row: list[object] = [scenario, "one query encode" if metric == "encode" else "hybrid search (e2e)"]
            for name in names:
                p50, p99 = results[name][scenario][metric]
                row += [p50, p99]
            if len(names) == 2:
                row.append(f"{results[names[0]][scenario][metric][0] / results[names[1]][scenario][metric][0]:.2f}x")
            rows.append(row)
    headers = ["scenario", "call"]
    for name in names:
        headers += [f"{name} p50 ms", f"{name} p99 ms"]
    if len(names) == 2:
        headers.append(f"p50 {names[0]} / {names[1]}")
    now = results[names[-1]]
    idle_encode = now["idle"]["encode"][0]
    checks = [
        [
            "beside 2 torch: encode p50 / idle encode p50",
            f"{now['beside 2 torch']['encode'][0] / idle_encode:.1f}x",
            "<= 6x",
        ],
        ["4 threads: encode p99 / idle encode p50", f"{now['4 threads']['encode'][1] / idle_encode:.1f}x", "<= 4x"],
        [
            "4 threads: search p99 / idle search p50",
            f"{now['4 threads']['search'][1] / now['idle']['search'][0]:.1f}x",
            "-",
        ],
    ]
    if len(names) == 2:
        base = results[names[0]]
        checks.append(
            [
                "idle hybrid search p50, main / now",
                f"{base['idle']['search'][0] / now['idle']['search'][0]:.2f}x",
                ">= 1.5x",
            ]
        )
    ndcg = [[name, results[name]["ndcg"]["ndcg"]] for name in names]
    parts = [
        [part, *[results[name]["breakdown"][part][0] for name in names]]
        for part in ("tokenize", "transformer", "rest", "encode")
    ]
    return "\n".join(
        [
            headline(trees, results),
            "",
            f"`python benchmarks/search_under_load.py` on {machine()}; NFCorpus ({args.queries} dev queries drive "
            "the timings), default model, embedded store, hybrid search (the default mode), k=10. Each scenario "
            "runs in a fresh process per revision, alternating. Milliseconds.",
            "",
            table(headers, rows),
            "",
            "### The issue's bars (this tree)",
            "",
            table(["check", "measured", "bar"], checks),
            "",
            "### Where an idle query's encode goes (p50 ms)",
            "",
            "`tokenize`: `model.tokenize` (marker, `[MASK]` expansion, tensors); `transformer`: the transformer's "
            "forward pass on the path the call takes (torch, or ONNX Runtime on the short path); `rest`: everything "
            "else in `encode` (input checks, the head, normalisation, output conversion), the median total minus the "
            "two medians.",
            "",
            table(["part", *[f"{name} p50 ms" for name in names]], parts),
            "",
            "### nDCG@10, hybrid, NFCorpus test (323 queries)",
            "",
            table(["revision", "nDCG@10"], ndcg),
            "",
            "Revisions: " + ", ".join(f"{name} = `{revision(trees[name])}`" for name in names) + ".",
        ]
    )


def plot(results: dict[str, dict[str, dict]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(results)
    scenarios = SCENARIOS
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, metric in zip(axes, ("encode", "search")):
        x = np.arange(len(scenarios))
        width = 0.8 / len(names)
        for n, name in enumerate(names):
            p50 = [results[name][s][metric][0] for s in scenarios]
            p99 = [results[name][s][metric][1] for s in scenarios]
            axis.bar(x + n * width, p50, width, label=f"{name} p50")
            axis.scatter(x + n * width, p99, marker="_", s=200, color="black", zorder=3)
        axis.set_xticks(x + width * (len(names) - 1) / 2, scenarios, rotation=30, ha="right")
        axis.set_yscale("log")
        axis.set_ylabel("ms per call (bars p50, dashes p99)")
        axis.set_title("one query encode" if metric == "encode" else "hybrid search, end to end")
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="a BEIR folder (NFCorpus)")
    parser.add_argument("--index", default=str(Path(tempfile.gettempdir()) / "colbert-nfcorpus-index"))
    parser.add_argument("--baseline", help="a checkout of the revision to compare with (e.g. a git worktree)")
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--only", nargs="*", help="scenarios to run (default: all)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if not Path(args.index).exists():
        build_index(args)
    trees = {"main": Path(args.baseline).resolve()} if args.baseline else {}
    trees["now"] = ROOT
    results: dict[str, dict[str, dict]] = {name: {} for name in trees}
    for n, scenario in enumerate(args.only or SCENARIOS + EXTRAS):
        order = list(trees) if n % 2 == 0 else list(reversed(trees))
        for name in order:
            results[name][scenario] = run_scenario(trees[name], scenario, args)
            print(name, scenario, results[name][scenario], file=sys.stderr, flush=True)
    if args.only:  # a partial run is printed, never written over the page and the JSON of a whole run
        print(json.dumps(results, indent=1))
        return
    from _common import write_result  # imported here: the worker processes import nothing of it

    out = HERE.parent / "docs" / "benchmarks"
    (out / "search-under-load.json").write_text(json.dumps(results, indent=1) + "\n")
    write_result("search-under-load", report(trees, results, args))
    plot(results, out / "search-under-load.png")


if __name__ == "__main__":
    main()
