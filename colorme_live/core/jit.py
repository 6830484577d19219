"""Numba configuration shared by every kernel module; import it before any parallel kernel runs.

The OpenMP threading layer has been seen to stall on our 2-core machines; workqueue has not."""

from __future__ import annotations

import numba

numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
