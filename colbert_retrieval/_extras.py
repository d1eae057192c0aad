"""ImportErrors for optional extras that name the exact pip line (read from the package metadata).

Examples:
    >>> "pip install" in str(missing_extra("qdrant", "qdrant-client"))
    True
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["missing_extra"]


def missing_extra(extra: str, package: str) -> ImportError:
    """An ImportError telling how to install ``extra`` (checked against the distribution's metadata)."""
    try:
        extras = metadata.metadata("colbert-retrieval").get_all("Provides-Extra") or []
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        extras = []
    line = f'pip install "colbert-retrieval[{extra}]"' if extra in extras else f"pip install {package}"
    return ImportError(f"This feature needs {package}, which is not installed: {line}")
