"""The RAG example's chain, with a chat model that echoes its prompt: the reranked context reaches the model."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from langchain_core.language_models import SimpleChatModel
from langchain_core.messages import BaseMessage

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "langchain_rag.py"


class EchoChat(SimpleChatModel):
    """Answers with the system message it received."""

    def _call(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> str:
        return str(messages[0].content)

    @property
    def _llm_type(self) -> str:
        return "echo"


def test_rag_chain_passes_reranked_context_to_the_chat_model() -> None:
    spec = importlib.util.spec_from_file_location("langchain_rag_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from langchain_colbert_retrieval import ColBERTVectorStore
    from lc_shared import shared_model

    store = ColBERTVectorStore.from_documents(module.DOCUMENTS, model=shared_model(), location=":memory:")
    _, chain = module.build_chain(EchoChat(), store)
    answer = chain.invoke("What does a lack of vitamin C cause?")
    context_lines = [line for line in answer.splitlines() if line.startswith("- ")]
    assert len(context_lines) == 2  # top_n of the reranker
    assert "Scurvy" in context_lines[0] or "scurvy" in context_lines[0]
    assert module.main("What does a lack of vitamin C cause?") == "A lack of vitamin C causes scurvy."
