"""numba's on-disk cache of the pooling kernels: is it warm, and fill it from a detached low-priority process.

A fresh install's first process must not pay numba's compile (about 8 s of one core, far more while the
encoder's threads compete for the cores and the GIL, and a process that waited for it at exit made the
README's first command 25 s slower). So when the cache holds no kernels for this machine and source, the
encoder starts one detached compiler process (its own process group, idle priority, output discarded) and
pools with the torch path meanwhile; the process that started it never waits for it. One compiler runs at a
time per cache folder (an exclusive ``flock``); once the cache is warm, any process loads the kernels in well
under a second. A busy machine may never schedule an idle-priority process: the encoder then compiles in its
own process after a bounded amount of slow-path work (``_cpu.SLOW_PATH_DOCS``) and stops its compiler.

Examples:
    >>> import numba
    >>> kernel = numba.njit(lambda x: x + 1)  # no cache=True: nothing on disk, the state is unknown
    >>> DiskCache(kernel).warm() is None
    True
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["LOCK_NAME", "DiskCache", "fill", "wait_for_compiler"]

#: The lock file a detached compiler holds, in numba's cache folder of the kernels.
LOCK_NAME = "colbert-retrieval-compile.lock"
#: While a detached compiler works, how often (seconds) a pooling call may re-read numba's cache index.
LOOK_EVERY_S = 0.5
# Idle priority (Linux SCHED_IDLE: only otherwise idle cores; else nice 19) before the imports (torch: seconds of
# CPU), so it never competes with the encoder.
_CHILD = """import os
try:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
except (AttributeError, OSError):
    os.nice(19)
from colbert_retrieval.pooling import _cpu
_cpu.fill_disk_cache()
"""


class DiskCache:
    """numba's on-disk cache of one ``cache=True`` kernel (the one that calls all the others).

    Args:
        kernel: a numba dispatcher compiled with ``cache=True``.
    """

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel
        self._compiler: int | None = None  # the pid of the compiler this process started
        self._started = False
        self._looked = 0.0

    @property
    def folder(self) -> Path:
        """The numba cache folder of the kernel (``NUMBA_CACHE_DIR`` or ``__pycache__``), else the temp folder."""
        try:
            return Path(self._kernel._cache._cache_path)
        except AttributeError:
            return Path(tempfile.gettempdir())

    @property
    def compiling(self) -> bool:
        """Whether a detached compiler (this process's or another's) was started and not seen to finish."""
        return self._started

    def warm(self) -> bool | None:
        """Whether the cache holds the kernel compiled for this machine and this source (None: unknown).

        Uses numba's cache index (an internal file format): if it moves, the answer is None and callers
        compile in-process as before.
        """
        try:
            overloads = self._kernel._cache._cache_file._load_index()
            magic = self._kernel.targetctx.codegen().magic_tuple()
        except Exception:  # any change of numba's internals means "unknown", never an error
            return None
        return any(isinstance(key, tuple) and len(key) > 1 and key[1] == magic for key in overloads)

    def finished(self) -> bool:
        """While a detached compiler runs: whether the cache is warm now (looks at most every LOOK_EVERY_S)."""
        now = time.monotonic()
        if now - self._looked < LOOK_EVERY_S:
            return False
        self._looked = now
        if not self.warm():
            return False
        if self._compiler is not None:
            with contextlib.suppress(ChildProcessError, OSError):  # reap it (no zombie) if it has exited
                os.waitpid(self._compiler, os.WNOHANG)
            self._compiler = None
        self._started = False
        return True

    def _locked(self) -> bool:
        """Whether a compiler (started by any process) holds the lock now."""
        try:
            import fcntl

            with open(self.folder / LOCK_NAME, "rb") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError:
                    return True
                return False
        except (ImportError, OSError):  # no lock file yet, or no flock here
            return False

    def stop_compiler(self) -> None:
        """Stop the detached compiler this process started, if it still runs (this process compiles instead)."""
        if self._compiler is None:
            return
        pid, self._compiler, self._started = self._compiler, None, False
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        # A busy machine may take a moment to schedule an idle-priority process even to exit: reap it without
        # waiting here (no zombie is left behind).
        threading.Thread(target=_reap, args=(pid,), name="colbert-pooling-reap", daemon=True).start()

    def start_compiler(self) -> bool:
        """Start the detached compiler process; False where it cannot start (then compile in-process).

        Starts nothing (and returns True) while another process's compiler holds the lock.
        """
        self._looked = time.monotonic()
        if self._locked():
            self._started = True
            return True
        if not sys.executable or not hasattr(os, "posix_spawn"):
            return False
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
        quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
        try:
            # Its own process group (a Ctrl-C of the command does not reach it) but the same session: Linux
            # schedules each session as one group ("autogroup"), so idle priority only holds inside this one.
            self._compiler = os.posix_spawn(
                sys.executable, [sys.executable, "-c", _CHILD], env, file_actions=quiet, setpgroup=0
            )
        except OSError:
            return False
        self._started = True
        return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def fill(compile_kernels: Callable[[], object], folder: Path) -> bool:
    """In the detached process: compile unless another compiler holds the lock.

    Args:
        compile_kernels: compiles the kernels (numba writes them into its cache).
        folder: where the lock file goes (numba's cache folder).

    Returns:
        Whether this process compiled (False: another compiler holds the lock).
    """
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a", encoding="utf8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        compile_kernels()
        return True


def wait_for_compiler(numba_cache: Path, timeout_s: float = 300.0) -> float:
    """Block until a detached compiler has filled ``numba_cache`` (a ``NUMBA_CACHE_DIR``); seconds waited.

    For benchmarks and tests that measure a cold start and then a warm one.

    Raises:
        TimeoutError: no compiler filled it within ``timeout_s``.
    """
    import fcntl

    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        locks = list(numba_cache.rglob(LOCK_NAME))
        if locks and list(numba_cache.rglob("_cpu._pool_documents-*.nbi")):
            with open(locks[0], "a", encoding="utf8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)  # the compiler holds it until it is done
            return time.monotonic() - start
        time.sleep(0.2)
    msg = f"no detached compiler filled {numba_cache} within {timeout_s:.0f} s"
    raise TimeoutError(msg)
