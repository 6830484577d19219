"""Frame-sized buffers stay mapped: glibc's malloc settings for a process that allocates and
frees frame-sized arrays every frame (the composite's image and alpha, 6.4 MB at 720p).

With glibc's defaults, memory freed at the top of the heap beyond a few MB goes back to the
operating system, so the next frame's arrays are fresh pages again: about 1,600 page faults,
each mapping and zeroing 4 KiB, per 720p composite. On the 2-core target under load that made
the fused refine + recolour kernel take 6-8 ms instead of 1.3-2.3 ms (same process, same
frame, with and without these settings). `keep_frame_buffers` keeps arrays of up to
`MMAP_THRESHOLD` on the heap and lets up to `TRIM_THRESHOLD` of free heap stay mapped, so
steady per-frame allocations reuse the same pages. Elsewhere (macOS, Windows, musl) it does
nothing."""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Final

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_frame_buffers"]

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD: Final = -1
M_MMAP_THRESHOLD: Final = -3
"""glibc's ``mallopt`` parameter numbers (``malloc.h``)."""
MMAP_THRESHOLD: Final = 32 * 1024 * 1024
"""Allocations up to this size come from the heap, not from a mapping of their own (32 MiB is
glibc's largest allowed value on 64-bit; a 1080p alpha is 8.3 MB)."""
TRIM_THRESHOLD: Final = 64 * 1024 * 1024
"""Free memory at the top of the heap is given back to the system only beyond this."""

_applied: bool | None = None


def keep_frame_buffers() -> bool:
    """Apply the settings once per process (later calls return the first result); True if
    glibc accepted them."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
        except OSError:  # not glibc (musl): nothing to set
            libc = None
        mallopt = getattr(libc, "mallopt", None)
        if mallopt is not None:
            mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            mallopt.restype = ctypes.c_int
            ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            _applied = ok and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    log.debug("malloc settings for frame buffers applied: %s", _applied)
    return _applied
