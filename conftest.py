"""Repository-wide pytest set-up."""

from __future__ import annotations

# LlamaIndex adapters live in PEP 420 namespace packages (llama_index/<kind>/colbert_retrieval): collecting
# their modules for doctests would import them as a top-level ``colbert_retrieval`` and shadow the core
# package. Their examples are exercised by the tests in each distribution's tests/ folder instead.
collect_ignore_glob = ["integrations/llama-index-*/llama_index/*"]


# Every Python block of README.md and docs/ runs as a test (Sybil), and so does the new side (`+ ` lines) of
# every migration diff. A block that cannot run here (a server, a
# GPU, a hub-only model) carries a visible `<!-- skip: next "why" -->` marker; pytest's summary counts them.
# Each page runs in a temporary working folder, and the hub model names the pages use are mapped to the
# offline default model (DOC_MODELS): the blocks run offline exactly as written.
DOC_MODELS = ("lightonai/GTE-ModernColBERT-v1", "colbert-ir/colbertv2.0")


def _docs_setup(namespace: dict) -> None:
    import contextlib
    import os
    import tempfile

    from colbert_retrieval import ColBERT, default_model

    stack = contextlib.ExitStack()
    folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="colbert-docs-"))
    saved = os.path.join(folder, "default-model")
    default_model().save(saved)
    original = ColBERT.__init__

    def offline_init(self, model_name_or_path=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if model_name_or_path in DOC_MODELS:
            model_name_or_path = saved
        original(self, model_name_or_path, *args, **kwargs)

    ColBERT.__init__ = offline_init  # type: ignore[method-assign]
    stack.callback(setattr, ColBERT, "__init__", original)
    stack.callback(os.chdir, os.getcwd())
    os.chdir(folder)
    namespace["_docs_stack"] = stack


def _docs_teardown(namespace: dict) -> None:
    namespace.pop("_docs_stack").close()


def _run_new_side(example) -> None:  # type: ignore[no-untyped-def]
    """A diff block's ``+`` lines are code a user pastes (the ``-`` side is the library they leave)."""
    added = "\n".join(line[2:] for line in example.parsed.splitlines() if line.startswith("+ "))
    exec(compile(added, f"{example.path}:{example.line}", "exec"), example.namespace)


try:
    from sybil import Sybil
    from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser
except ImportError:  # pragma: no cover - sybil comes with the [test] extra
    pass
else:
    pytest_collect_file = Sybil(
        parsers=[PythonCodeBlockParser(), CodeBlockParser(language="diff", evaluator=_run_new_side), SkipParser()],
        patterns=["README.md", "docs/*.md", "docs/**/*.md"],
        setup=_docs_setup,
        teardown=_docs_teardown,
    ).pytest()
