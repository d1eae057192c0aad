"""Helpers shared by the benchmark scripts: timing, machine description, Markdown tables and PNG plots."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def machine() -> str:
    """One line naming the hardware the numbers come from."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, torch {torch.__version__}"


def best_time(function: Callable[[], object], repeat: int = 3, sync: bool = False) -> float:
    """Best wall time of ``repeat`` runs (after one warm-up run)."""
    function()
    return min(_timed(function, sync) for _ in range(repeat))


def _timed(function: Callable[[], object], sync: bool) -> float:
    if sync:
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if sync:
        torch.cuda.synchronize()
    return time.perf_counter() - start


def throughputs(
    candidates: dict[str, Callable[[], object]],
    count: int,
    repeat: int = 3,
    sync: frozenset[str] = frozenset(),
    counts: dict[str, int] | None = None,
) -> list[tuple[str, float, float]]:
    """``(name, items per second, ratio to the first candidate)`` for each candidate, timed side by side.

    After one warm-up call each, the candidates run in ``repeat`` interleaved rounds (one call of each per
    round), so a change of machine load during the run hits every candidate alike; each keeps its best time.
    ``counts`` gives the items of candidates that process fewer than ``count`` (a slow reference timed on a
    subset of the same inputs).
    """
    counts = counts or {}
    for function in candidates.values():
        function()
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeat):
        for name, function in candidates.items():
            best[name] = min(best[name], _timed(function, name in sync))
    rates = {name: counts.get(name, count) / seconds for name, seconds in best.items()}
    first = next(iter(rates.values()))
    return [(name, rate, rate / first) for name, rate in rates.items()]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def headline_table(rows: Sequence[Sequence[object]]) -> str:
    """A result's rows for the benchmarks page's headline table: ``what | number | where``, under a header.

    The rows sit between the snippet markers of a ``headline`` section, which docs/benchmarks.md includes
    (``--8<-- "docs/benchmarks/NAME.md:headline"``) under its own header: the headline never copies a number.
    """
    lines = table(["what", "number", "where"], rows).splitlines()
    return "\n".join([*lines[:2], "<!-- --8<-- [start:headline] -->", *lines[2:], "<!-- --8<-- [end:headline] -->"])


def bar_plot(path: Path, labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> None:
    """A horizontal bar chart written as PNG (needs matplotlib: pip install matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.2))
    axis.barh(list(labels), list(values), color="#4c72b0")
    axis.set_xlim(0, max(values) * 1.22)  # room for the value labels
    axis.set_xlabel(xlabel)
    axis.set_title(title)
    axis.invert_yaxis()
    for y, value in enumerate(values):
        axis.text(value, y, f" {value:,.0f}", va="center")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


#: The provenance line every result file ends with (tests/test_benchmark_stamps.py reads it back).
STAMP = "*Written by `{command}` at commit `{commit}`{dirty} on {date}, {machine}.*"


def stamp(command: str | None = None) -> str:
    """The provenance line of a result: the exact command, the commit it ran at, the date and the machine."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no", "--", "colbert_retrieval", "benchmarks")
    return STAMP.format(
        command=command or "python " + " ".join([os.path.relpath(sys.argv[0], root), *sys.argv[1:]]),
        commit=git("rev-parse", "--short=10", "HEAD"),
        dirty=" (with uncommitted changes to the code)" if changed else "",
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        machine=machine(),
    )


def write_result(name: str, markdown: str, command: str | None = None) -> Path:
    """Write a Markdown result file under docs/benchmarks/, ending with its :func:`stamp`; return its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(markdown + "\n\n" + stamp(command) + "\n")
    return path


class _Tee(io.TextIOBase):
    """A text stream writing to two streams (the terminal and the captured result)."""

    def __init__(self, *streams: io.TextIOBase) -> None:
        self._streams = streams

    def write(self, text: str) -> int:
        for stream in self._streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self._streams:
            stream.flush()


@contextlib.contextmanager
def printed_result(name: str) -> Iterator[None]:
    """What the block prints to stdout (it still shows) becomes docs/benchmarks/<name>.md, stamped.

    For the scripts that print their Markdown table: they write their result file themselves, so no result is
    ever a hand redirect without provenance. Nothing is written when the block raises.
    """
    buffer = io.StringIO()
    with contextlib.redirect_stdout(_Tee(sys.stdout, buffer)):
        yield
    write_result(name, buffer.getvalue().rstrip())
