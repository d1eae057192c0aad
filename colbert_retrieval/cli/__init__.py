"""The command line, ``colbert-retrieval index | search | evaluate | info | migrate | train | load``.

Rule: commands parse arguments and call the public API of the other packages; ``info --hardware`` reports
what this machine gives them.

Examples:
    >>> from colbert_retrieval.cli import build_parser
    >>> build_parser().parse_args(["search", "what is colbert?", "-k", "3"]).k
    3
"""

from __future__ import annotations

from colbert_retrieval.cli._commands import build_parser, main

__all__ = ["build_parser", "main"]
