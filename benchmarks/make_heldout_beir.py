"""A second BEIR dataset for fine-tuning checks, built from NFCorpus's *train* judgments only.

    python benchmarks/make_heldout_beir.py ../shared/data/nfcorpus /tmp/nfcorpus-heldout

NFCorpus's train queries are split by a hash of their id into train (70 %), dev (15 %) and test (15 %) of a
new dataset over the same corpus. None of NFCorpus's own dev or test queries is used, so the fine-tuning
defaults (chosen on NFCorpus train/dev) are checked on queries they never saw. Written outside the repo.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
from pathlib import Path


def bucket(query_id: str) -> str:
    """train / dev / test by a stable hash of the query id."""
    value = int(hashlib.sha256(query_id.encode()).hexdigest(), 16) % 100
    return "train" if value < 70 else "dev" if value < 85 else "test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    source, target = Path(args.source), Path(args.target)
    (target / "qrels").mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "queries.jsonl"):
        shutil.copyfile(source / name, target / name)
    with (source / "qrels" / "train.tsv").open(encoding="utf8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))[1:]
    for split in ("train", "dev", "test"):
        kept = [row for row in rows if bucket(row[0]) == split]
        lines = ["query-id\tcorpus-id\tscore", *("\t".join(row) for row in kept)]
        (target / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf8")
        print(split, len({row[0] for row in kept}), "queries", len(kept), "judgments")


if __name__ == "__main__":
    main()
