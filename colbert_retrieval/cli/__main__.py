"""``python -m colbert_retrieval.cli``: the ``colbert-retrieval`` command."""

from __future__ import annotations

import sys

from colbert_retrieval.cli import main

sys.exit(main())
