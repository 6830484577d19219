"""Numba configuration shared by every kernel module (``refine``, ``recolor``, ``fused``): the
threading layer, the typed ``njit`` decorator and the lock around parallel kernels.

Import it (every kernel module does) before any parallel kernel runs: the threading layer is
chosen at the first parallel launch and cannot change afterwards."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, Final, TypeVar

import numba

if "NUMBA_THREADING_LAYER" not in os.environ:
    # The OpenMP layer has been seen to stall on the 2-core target machine; 'workqueue' is
    # Numba's own, dependency-free layer. An explicit NUMBA_THREADING_LAYER in the environment
    # wins.
    numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]  # set at runtime

PARALLEL_LOCK: Final = threading.Lock()
"""Held while a Numba ``parallel=True`` function runs. The 'workqueue' threading layer aborts
the whole process ("Concurrent access has been detected") when two Python threads are in
parallel code at once, so every caller of a parallel kernel goes through `run_parallel`, which
takes this lock without waiting and runs the serial twin instead when another thread holds it
(every parallel kernel here is bit-identical to its serial twin)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def njit(**options: Any) -> Callable[[_F], _F]:
    """``numba.njit(**options)`` typed for mypy (numba ships no type information).

    Only a typing shim: every kernel is its own top-level ``def`` with its own name, so each
    gets its own ``cache=True`` entry (kernels made by one factory would share one)."""
    decorator: Callable[[_F], _F] = numba.njit(**options)
    return decorator


def run_parallel(
    parallel_kernel: Callable[..., None],
    serial_kernel: Callable[..., None],
    use_parallel: bool,
    *args: Any,
) -> None:
    """Run ``parallel_kernel(*args)`` if ``use_parallel`` and no other thread is in parallel
    code (see `PARALLEL_LOCK`), else ``serial_kernel(*args)`` on the calling thread."""
    if use_parallel and PARALLEL_LOCK.acquire(blocking=False):
        try:
            parallel_kernel(*args)
        finally:
            PARALLEL_LOCK.release()
    else:
        serial_kernel(*args)
