"""Repository-wide pytest set-up."""

from __future__ import annotations

# LlamaIndex adapters live in PEP 420 namespace packages (llama_index/<kind>/colbert_retrieval): collecting
# their modules for doctests would import them as a top-level ``colbert_retrieval`` and shadow the core
# package. Their examples are exercised by the tests in each distribution's tests/ folder instead.
collect_ignore_glob = ["integrations/llama-index-*/llama_index/*"]
