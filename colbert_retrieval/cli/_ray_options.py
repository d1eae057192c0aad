"""The command-line options of the Ray pipeline and of a server store; importing this needs no Ray.

Every CLI call builds the parser, so nothing here imports Ray or Qdrant.

Examples:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_ray_options(parser, int)
    >>> parser.parse_args(["--ray", "--num-gpus", "1"]).num_gpus
    1.0
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

__all__ = ["add_load_command", "add_ray_options"]


def add_ray_options(index: argparse.ArgumentParser, positive: Callable[[str], int]) -> None:
    """The ``--ray`` and server options of ``colbert-retrieval index`` (parsing needs no Ray)."""
    group = index.add_argument_group("distributed (Ray Data; JSONL, Parquet or BEIR input)")
    group.add_argument("--ray", action="store_true", help="encode on a pool of Ray actors (extra [ray])")
    group.add_argument("--address", default=None, help="Ray cluster to join (default: a local Ray instance)")
    group.add_argument("--num-workers", type=positive, default=2, help="encoder actors (default 2)")
    group.add_argument("--num-gpus", type=float, default=0.0, help="GPUs per actor (default 0: CPU)")
    group.add_argument("--parquet", default=None, help="write Parquet shards here (then: colbert-retrieval load)")
    server = index.add_argument_group("server or cluster (with --url; Store fields, with or without --ray)")
    server.add_argument("--shard-number", type=positive, default=None, help="shards of a new cluster collection")
    server.add_argument("--replication-factor", type=positive, default=None, help="copies of each shard (cluster)")
    server.add_argument(
        "--write-consistency-factor", type=positive, default=None, help="replicas that confirm a write (cluster)"
    )
    server.add_argument(
        "--write-ordering",
        choices=["weak", "medium", "strong"],
        default=None,
        help="Qdrant's ordering guarantee for writes to replicated shards (default: the server's, weak)",
    )


def add_load_command(commands: Any, add_store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """The ``colbert-retrieval load`` sub-command."""
    load = commands.add_parser("load", help="bulk-load Parquet shards written by index --ray --parquet")
    load.add_argument("folder")
    add_store_options(load)
    load.add_argument("--overwrite", action="store_true", help="rewrite points already stored")
