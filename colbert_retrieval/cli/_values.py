"""The value objects the command line's options name: one :class:`Store` and one :class:`Schema` per command.

Every command (the Ray path included) builds its store and schema here and nowhere else, so an option means the
same thing in each of them. A server's API key is never an option: the store carries the name of the variable
it is read from.

Examples:
    >>> import argparse
    >>> args = argparse.Namespace(path=None, location=":memory:", url=None, pool_factor=3, first_stage="mean")
    >>> store_of(args).embedded, schema_of(args).pool_factor
    (True, 3)
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

__all__ = ["SERVER_FIELDS", "schema_of", "store_of"]

#: Options of a server store that become :class:`Store` fields (when the command has them).
SERVER_FIELDS = ("shard_number", "replication_factor", "write_consistency_factor", "write_ordering")


def store_of(args: argparse.Namespace, prefix: str = "", key_variable: str | None = None) -> Any:
    """The store ``--{prefix}path``, ``--{prefix}location`` or ``--{prefix}url`` name.

    Args:
        args: the parsed options.
        prefix: ``from_`` / ``to_`` for the two stores of ``migrate``.
        key_variable: the variable holding the server's API key (None: ``QDRANT_API_KEY``).
    """
    from colbert_retrieval.qdrant import Store
    from colbert_retrieval.qdrant.backends import API_KEY_VARIABLE

    def option(name: str) -> Any:
        return getattr(args, prefix + name, None)

    store = Store.from_client_arguments(path=option("path"), location=option("location"), url=option("url"))
    fields = {name: option(name) for name in SERVER_FIELDS}
    return replace(store, api_key_env=key_variable or API_KEY_VARIABLE, **fields)


def schema_of(args: argparse.Namespace) -> Any:
    """The schema of a new collection: ``--pool-factor`` and ``--first-stage``."""
    from colbert_retrieval.qdrant import Schema

    return Schema(pool_factor=args.pool_factor, first_stage=args.first_stage)
