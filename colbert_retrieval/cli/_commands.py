"""Command line: ``colbert-retrieval index | search | evaluate | info | migrate | train | load``.

Examples:
    >>> parser = build_parser()
    >>> parser.parse_args(["search", "what is colbert?", "-k", "3"]).k
    3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from colbert_retrieval.cli._values import schema_of, store_of
from colbert_retrieval.errors import (
    CollectionNotFoundError,
    EmptyInputError,
    InputFormatError,
    InputNotFoundError,
    InvalidArgumentError,
)

__all__ = ["build_parser", "main"]

#: ``colbert_retrieval.training``'s selection rules (named here: the parser is built without the train extra;
#: a test ties the two).
TRAINING_SELECTIONS = ("retrain", "checkpoint")


def _positive(text: str) -> int:
    """An argparse type: an integer >= 1 (argparse turns the error into a usage line and exit status 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _probability(text: str) -> float:
    """An argparse type: a number between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a probability between 0 and 1, got {text!r}")
    return value


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--collection", default="colbert", help="Qdrant collection (default: colbert)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--path", default=None, help="embedded Qdrant folder (default: ./colbert_index)")
    where.add_argument("--location", default=None, help='":memory:" for an in-memory store')
    where.add_argument("--url", default=None, help="Qdrant server URL (API key from $QDRANT_API_KEY)")
    parser.add_argument(
        "--storage",
        choices=["fast", "balanced", "small"],
        default=None,
        help="storage preset of a new collection (fast: default; small: 1/14 of the RAM); pass it again when "
        "searching a balanced/small collection to rescore its quantized candidates",
    )
    parser.add_argument("--model", default=None, help="model name or folder (default: the offline default model)")
    parser.add_argument(
        "--verbose", action="store_true", help="show the libraries' loading notices and progress bars (model load)"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    parser.add_argument(
        "--backend", choices=["torch", "onnx", "openvino"], default="torch", help="encoder runtime (default: torch)"
    )
    parser.add_argument(
        "--inference-precision",
        choices=["auto", "float32", "bfloat16", "float16", "int8"],
        default="auto",
        help="encoder precision (default auto: bf16 autocast on CPUs with native bf16, else float32)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``colbert-retrieval`` command."""
    parser = argparse.ArgumentParser(prog="colbert-retrieval", description="ColBERT retrieval over Qdrant.")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser(
        "index", help="index text, Markdown, reStructuredText, HTML, PDF, DOCX, jsonl and BEIR corpus files or folders"
    )
    index.add_argument("paths", nargs="+")
    _add_store_options(index)
    pool_help = "token pooling of a new collection (default 2; an existing one keeps its own)"
    index.add_argument("--pool-factor", type=_positive, default=None, help=pool_help)
    index.add_argument("--first-stage", choices=["muvera", "mean"], default="muvera")
    index.add_argument(
        "--chunk-tokens",
        type=_positive,
        default=None,
        help="tokens per chunk of text files (default: what the model reads, its document length less markers)",
    )
    index.add_argument("--overlap-tokens", type=int, default=32, help="tokens shared by consecutive chunks")
    index.add_argument("--batch-size", type=_positive, default=32)
    index.add_argument("--overwrite", action="store_true", help="encode every file again, changed or not")
    index.add_argument(
        "--keep-missing",
        action="store_true",
        help="keep what is stored for files no longer under the given paths (default: remove it)",
    )
    from colbert_retrieval.cli._ray_options import add_load_command, add_ray_options

    add_ray_options(index, _positive)
    add_load_command(commands, _add_store_options)

    search = commands.add_parser("search", help="search the index")
    search.add_argument("query")
    _add_store_options(search)
    search.add_argument("-k", type=_positive, default=5)
    search.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE", help="metadata equality")
    _add_mode_option(search)
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.add_argument(
        "--min-relevance",
        type=_probability,
        default=None,
        metavar="P",
        help="keep hits whose calibrated relevance (probability of being relevant) is at least P, 0 to 1",
    )
    search.add_argument(
        "--no-highlights",
        action="store_true",
        help="do not mark the words each hit matched (marked by default, from the stored vectors)",
    )
    search.add_argument(
        "--explain",
        action="store_true",
        help="re-encode each hit and show every query token's match and score (MaxSim, unpooled)",
    )

    evaluate = commands.add_parser("evaluate", help="nDCG@10, Recall@100, MRR@10 and timings on a BEIR folder")
    evaluate.add_argument("folder")
    _add_store_options(evaluate)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--pool-factor", type=_positive, default=2)
    evaluate.add_argument("--first-stage", choices=["muvera", "mean"], default="muvera")
    evaluate.add_argument("--prefetch-limit", type=_positive, default=200)
    _add_mode_option(evaluate)
    evaluate.add_argument("--batch-size", type=_positive, default=32)

    info = commands.add_parser("info", help="describe the collection (or, with --hardware, this machine)")
    _add_store_options(info)
    info.add_argument("--hardware", action="store_true", help="device, precision, kernels and stores in use")

    train = commands.add_parser(
        "train",
        help="fine-tune on a BEIR folder: mine hard negatives, choose the schedule on held-out training queries, "
        "train on all of them",
    )
    train.add_argument("folder", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")
    train.add_argument("--output", required=True, help="folder for the model, its card and the checkpoints")
    train.add_argument("--split", default="train", help="qrels split to train on (default: train)")
    train.add_argument(
        "--eval-split",
        default="auto",
        help="split that selects (default auto: a seeded 10%% of the training queries, held out to choose the "
        "schedule; with --selection checkpoint, dev if the folder has it; 'none': train to the end, keep that)",
    )
    train.add_argument(
        "--selection",
        choices=TRAINING_SELECTIONS,
        default="retrain",
        help="retrain (default): choose the schedule on the eval split, then train on every training query for "
        "it; checkpoint: keep the best checkpoint on the eval split (the rule before 0.3)",
    )
    train.add_argument(
        "--no-relevance", action="store_true", help="do not fit the relevance calibration on the eval split"
    )
    train.add_argument("--test-split", default=None, help="split reported before/after (never used to decide)")
    train.add_argument("--model", default=None, help="model to fine-tune (default: the offline default model)")
    train.add_argument("--device", default=None, help="cpu, cuda, ... (default: best available)")
    train.add_argument("--passes", type=_positive, default=3, help="passes over the training queries (default 3)")
    train.add_argument("--batch-size", type=_positive, default=32)
    train.add_argument("--learning-rate", type=float, default=3e-5)
    train.add_argument("--negatives", type=_positive, default=1, help="mined hard negatives per row")
    train.add_argument("--max-steps", type=_positive, default=None)
    train.add_argument("--train-document-length", type=_positive, default=128)
    train.add_argument("--seed", type=int, default=0)

    migrate = commands.add_parser(
        "migrate", help="copy a collection between stores (embedded <-> server, or out of a 0.1.0 folder)"
    )
    source = migrate.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-path", help="embedded store folder to read")
    source.add_argument("--from-url", help="Qdrant server to read (API key from $QDRANT_API_KEY)")
    source.add_argument("--from-local", help="folder written by colbert-retrieval 0.1.0 (qdrant-client local mode)")
    target = migrate.add_mutually_exclusive_group(required=True)
    target.add_argument("--to-path", help="embedded store folder to write")
    target.add_argument("--to-url", help="Qdrant server to write (API key from $QDRANT_TARGET_API_KEY)")
    migrate.add_argument("--collection", default="colbert", help="collection to copy (default: colbert)")
    migrate.add_argument("--to-collection", default=None, help="name in the target (default: the same)")
    migrate.add_argument("--batch-size", type=_positive, default=256)
    migrate.add_argument("--overwrite", action="store_true", help="rewrite points already in the target")
    return parser


def _add_mode_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=["hybrid", "colbert", "exact"],
        default=None,
        help="hybrid (BM25 + ColBERT, default), colbert (first stage + MaxSim) or exact (MaxSim over everything)",
    )
    parser.add_argument("--exact", action="store_true", help="same as --mode exact")


def _model(args: argparse.Namespace) -> Any:
    from colbert_retrieval import load_model

    runtime = {"backend": args.backend, "inference_precision": args.inference_precision}
    if getattr(args, "verbose", False):
        return load_model(args.model, device=args.device, **runtime)
    from colbert_retrieval.models import quiet_loading

    with quiet_loading():  # transformers' weight-loading bar and conversion notices ask nothing of the user
        return load_model(args.model, device=args.device, **runtime)


def _index(args: argparse.Namespace, model: Any, *, schema: Any = None, search: Any = None, create: bool = True) -> Any:
    from colbert_retrieval.qdrant import ColBERTIndex

    store = store_of(args)
    return ColBERTIndex(
        model, args.collection, store=store, schema=schema, storage=args.storage, search=search, create=create
    )


def _mode(args: argparse.Namespace) -> str | None:
    return "exact" if args.exact else args.mode


def _require_store(args: argparse.Namespace) -> None:
    """Reading commands must not create an empty embedded store where none exists."""
    from colbert_retrieval.qdrant.backends import DEFAULT_PATH

    path = args.path or DEFAULT_PATH
    if args.url is None and args.location is None and not os.path.isdir(path):
        msg = f"No store at {path}; index documents first: colbert-retrieval index FILES --path {path}"
        raise InputNotFoundError(msg)


def _filters(items: list[str]) -> dict[str, str]:
    filters = {}
    for item in items:
        key, sign, value = item.partition("=")
        if not key or not sign:
            msg = f"--filter expects KEY=VALUE (metadata equality), got {item!r}."
            raise InvalidArgumentError(msg)
        filters[key] = value
    return filters


def _cmd_load(args: argparse.Namespace) -> int:
    from colbert_retrieval.cli._ray_commands import load_from_args

    return load_from_args(args, _model(args))


def _cmd_index(args: argparse.Namespace) -> int:
    from collections import Counter

    from colbert_retrieval.cli._files import formats_line, sync_files
    from colbert_retrieval.documents import SUFFIXES, iter_files

    if args.ray or args.parquet:
        from colbert_retrieval.cli._ray_commands import index_from_args

        return index_from_args(args)
    unreadable: list[Path] = []
    files = list(iter_files(args.paths, unreadable))  # a missing path fails here, before the model loads
    if not files:
        msg = f"No {', '.join(SUFFIXES)} files in {', '.join(args.paths)}; nothing to index."
        raise InputNotFoundError(msg)
    index = _index(args, _model(args), schema=schema_of(args))
    with index:
        chunker = _chunker(index.model, args.chunk_tokens, args.overlap_tokens)
        report = sync_files(
            index,
            files,
            args.paths,
            chunker,
            keep_missing=args.keep_missing,
            overwrite=args.overwrite,
            batch_size=args.batch_size,
        )
        total = index.count()
    if not total and not report.written:
        if report.failed:
            msg = f"Nothing was indexed; {len(report.failed)} file(s) could not be read: {report.failed[0][1]}"
            raise InputFormatError(msg)
        msg = f"The files in {', '.join(args.paths)} contain no text; nothing was indexed."
        raise EmptyInputError(msg)
    print(f"Indexed into {args.collection!r}: {report}; {total} chunks stored.")
    if report.truncated:
        limit = report.truncated.limit
        print(
            f"{report.truncated.count} record(s) are longer than the model reads ({limit} tokens; first: "
            f"{', '.join(report.truncated.ids)}): ColBERT encodes their first {limit} tokens, BM25 all their text. "
            "Split them, or index with a model loaded with truncation=False (sliding windows over the whole text)."
        )
    if report.failed:
        print(f"Skipped {len(report.failed)} damaged file(s) (what was stored for them stays):")
        for path, reason in report.failed:
            print(f"  {path}: {reason}")
    if unreadable:
        print(formats_line(Counter(path.suffix.lower() or "(no suffix)" for path in unreadable)))
    return 0


def _chunker(model: Any, tokens: int | None, overlap: int) -> Any:
    """Chunks of at most ``tokens`` (default: the model's document length less ``[CLS]``, marker, ``[SEP]``)."""
    from colbert_retrieval.documents import Chunker

    budget = model.document_length - len(model.tokenizer(model.document_prefix or "")["input_ids"])
    if tokens is not None and tokens > budget:
        msg = f"--chunk-tokens {tokens} is more than the model reads ({budget} tokens); give at most {budget}."
        raise InvalidArgumentError(msg)
    return Chunker(model.tokenizer, tokens or budget, overlap)


def _where(metadata: dict[str, Any]) -> dict[str, Any]:
    """A hit's place in its file: ``source``, ``section``, ``lines`` (first, last) or ``page``, where known."""
    place: dict[str, Any] = {key: metadata[key] for key in ("source", "section", "page") if metadata.get(key)}
    if "start_line" in metadata and "end_line" in metadata:
        place["lines"] = [metadata["start_line"], metadata["end_line"]]
    return place


def _place(hit: Any) -> str:
    """``file > section (lines a-b)`` for a chunk of a file; the id for anything else."""
    place = _where(hit.metadata)
    if "source" not in place:
        return str(hit.id)
    text = place["source"] + (f" \u203a {place['section']}" if "section" in place else "")
    if "lines" in place:
        text += f" (lines {place['lines'][0]}-{place['lines'][1]})"
    if "page" in place:
        text += f" (page {place['page']})"
    return text


def _cmd_search(args: argparse.Namespace) -> int:
    _require_store(args)
    filters = _filters(args.filter)
    index = _index(args, _model(args), create=False)
    config = {"mode": _mode(args), "min_relevance": args.min_relevance, "highlights": not args.no_highlights}
    hits = index.search(args.query, k=args.k, filter=filters or None, config=config)
    for rank, hit in enumerate(hits, start=1):
        score = f"{hit.score:.2f}" + (f", relevance {hit.relevance:.2f}" if hit.relevance is not None else "")
        if args.json:
            line = {"rank": rank, "id": hit.id, "score": hit.score, "relevance": hit.relevance, "text": hit.text}
            line["metadata"] = hit.metadata
            line.update(_where(hit.metadata))
            if hit.highlights is not None:
                line["highlights"] = [h.to_dict() for h in hit.highlights]
            if args.explain:
                line["matches"] = [vars(m) for m in index.model.explain(args.query, hit.text).matches]
            print(json.dumps(line))
        elif args.explain:
            explanation = index.model.explain(args.query, hit.text)
            matched = ", ".join(f"{m.query_token}->{m.document_token} {m.score:.2f}" for m in explanation.matches)
            highlighted = explanation.to_text(color=sys.stdout.isatty(), encoded_only=True)
            print(f"{rank}. [{score}] {_place(hit)}\n   {highlighted}")
            print(f"   MaxSim {explanation.score:.2f} = {matched}")
        else:
            print(f"{rank}. [{score}] {_place(hit)}\n   {_snippet(hit, sys.stdout.isatty())}")
    if not hits:
        reason = f"none reaches relevance {args.min_relevance}" if args.min_relevance is not None else ""
        print(f"No results ({reason or 'is the collection empty?'}).")
    index.close()
    return 0


def _snippet(hit: Any, color: bool, width: int = 200) -> str:
    """About ``width`` characters of the hit's text around its first highlight, the matched words marked."""
    text = hit.text
    first = min((h.start for h in hit.highlights or ()), default=0)
    start = 0 if first < width // 2 else text.rfind(" ", 0, first - width // 4) + 1
    end = min(len(text), start + width)
    before, after = ("\033[1;33m", "\033[0m") if color else ("[", "]")
    return ("..." if start else "") + hit.marked(before, after, start, end) + ("..." if end < len(text) else "")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from colbert_retrieval.evaluation import load_beir, retrieval_metrics

    data = load_beir(args.folder, args.split)
    search = {"prefetch_limit": args.prefetch_limit}
    index = _index(args, _model(args), schema=schema_of(args), search=search)
    docs = ({"id": doc_id, "text": text} for doc_id, text in data.corpus.items())
    summary = index.add(docs, batch_size=args.batch_size, show_progress_bar=True)
    run: dict[str, list[str]] = {}
    latencies = []
    for query_id, text in data.queries.items():
        start = time.perf_counter()
        hits = index.search(text, k=100, config={"mode": _mode(args)})
        latencies.append(time.perf_counter() - start)
        run[query_id] = [str(h.id) for h in hits]
    result = {
        **retrieval_metrics(data.qrels, run),
        "queries": len(data.queries),
        "documents": len(data.corpus),
        "ingest_docs_per_s": round(summary.docs_per_second, 1),
        "query_p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
        "query_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 1),
    }
    print(json.dumps(result, indent=2))
    index.close()
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from colbert_retrieval.qdrant.backends import make_backend

    if args.hardware:
        from colbert_retrieval.cli._hardware import describe

        for key, value in describe().items():
            print(f"{key + ':':20} {value}")
        return 0
    _require_store(args)
    backend = make_backend(args.collection, store_of(args))
    try:
        if not backend.exists():
            raise CollectionNotFoundError(f"Collection {args.collection!r} does not exist in this store.")
        settings = backend.read_settings()
        print(f"collection: {args.collection}")
        print(f"store:      {backend.kind}")
        print(f"documents:  {backend.count()}")
        print(f"settings:   {json.dumps(settings.to_metadata() if settings else None)}")
    finally:
        backend.close()
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from qdrant_client import QdrantClient

    from colbert_retrieval.qdrant import migrate
    from colbert_retrieval.qdrant.backends import ServerBackend, make_backend

    if args.from_local and not os.path.isdir(args.from_local):
        raise InputNotFoundError(f"{args.from_local} does not exist.")
    if args.from_local:
        source: Any = ServerBackend(QdrantClient(path=args.from_local), args.collection, owns_client=True)
    else:
        source = make_backend(args.collection, store_of(args, "from_"))
    name = args.to_collection or args.collection
    try:
        target = make_backend(name, store_of(args, "to_", "QDRANT_TARGET_API_KEY"))
        try:
            summary = migrate(
                source, target, batch_size=args.batch_size, overwrite=args.overwrite, show_progress_bar=True
            )
        finally:
            target.close()
    finally:
        source.close()
    print(f"Migrated {args.collection!r} -> {name!r}: {summary}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from colbert_retrieval.training import FineTuneConfig, fine_tune

    config = FineTuneConfig(
        data=args.folder,
        output=args.output,
        model=args.model,
        split=args.split,
        eval_split=None if args.eval_split.lower() == "none" else args.eval_split,
        selection=args.selection,
        fit_relevance=not args.no_relevance,
        test_split=args.test_split,
        passes=args.passes,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        n_negatives=args.negatives,
        max_steps=args.max_steps,
        train_document_length=args.train_document_length,
        seed=args.seed,
        device=args.device,
    )
    report = fine_tune(config)
    summary = {"before": report.before, "after": report.after, "curve": report.curve, "kept": report.kept}
    summary["eval_split"] = report.settings["eval_split"]
    if report.settings["heldout_queries"]:
        summary["heldout_queries"] = len(report.settings["heldout_queries"])
    if report.selection:
        summary["chosen"] = report.selection["reason"]
    summary["relevance"] = report.relevance
    print(json.dumps({**summary, "steps": report.steps, "minutes": round(report.wall_seconds / 60, 1)}, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``colbert-retrieval`` console script."""
    args = build_parser().parse_args(argv)
    handlers = {
        "index": _cmd_index,
        "search": _cmd_search,
        "evaluate": _cmd_evaluate,
        "info": _cmd_info,
        "migrate": _cmd_migrate,
        "train": _cmd_train,
        "load": _cmd_load,
    }
    from colbert_retrieval.errors import ColBERTRetrievalError

    try:
        return handlers[args.command](args)
    except (ColBERTRetrievalError, OSError) as error:  # bad input, or the system refused (permissions, disk)
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
