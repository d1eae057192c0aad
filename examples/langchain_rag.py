"""LangChain RAG with ColBERT: index documents in Qdrant, retrieve, rerank with MaxSim, answer with a chat model.

Run: python examples/langchain_rag.py ["your question"]

Offline this uses LangChain's fake chat model (it answers with a canned reply); pass any real chat model
(ChatOpenAI, ChatOllama, ...) to ``build_chain`` instead.
"""

from __future__ import annotations

import sys

from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_colbert_retrieval import ColBERTRerank, ColBERTVectorStore
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough

DOCUMENTS = [
    Document(page_content="Scurvy is a disease resulting from a lack of vitamin C.", metadata={"source": "health"}),
    Document(
        page_content="Citrus fruits such as oranges and lemons are rich in vitamin C.", metadata={"source": "food"}
    ),
    Document(
        page_content="Statins lower LDL cholesterol and the risk of heart attacks.", metadata={"source": "health"}
    ),
    Document(page_content="Paris is the capital and most populous city of France.", metadata={"source": "travel"}),
    Document(
        page_content="Sailors once carried limes on long voyages to prevent scurvy.", metadata={"source": "history"}
    ),
]

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer the question using only this context:\n\n{context}"),
        ("human", "{question}"),
    ]
)


def format_documents(documents: list[Document]) -> str:
    return "\n".join(f"- {d.page_content} (score {d.metadata['relevance_score']:.2f})" for d in documents)


def build_chain(llm: BaseChatModel, store: ColBERTVectorStore) -> tuple[Runnable, Runnable]:
    """Retriever (vector store search + ColBERT rerank) and the RAG chain around a chat model."""
    retriever = ContextualCompressionRetriever(
        base_compressor=ColBERTRerank(model=store.index.model, top_n=2),
        base_retriever=store.as_retriever(search_kwargs={"k": 4}),
    )
    chain = (
        {"context": retriever | format_documents, "question": RunnablePassthrough()} | PROMPT | llm | StrOutputParser()
    )
    return retriever, chain


def main(question: str) -> str:
    store = ColBERTVectorStore.from_documents(DOCUMENTS, location=":memory:")  # offline default model
    llm = FakeListChatModel(responses=["A lack of vitamin C causes scurvy."])
    retriever, chain = build_chain(llm, store)
    for document in retriever.invoke(question):
        print(f"retrieved: {document.page_content}")
    answer = chain.invoke(question)
    print(f"answer: {answer}")
    return answer


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What does a lack of vitamin C cause?")
