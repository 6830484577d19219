"""The unit of data that flows from a frame source through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


def check_bgr(frame: object, name: str = "frame", *, contiguous: bool = False) -> None:
    """The contract of every frame the core takes: a uint8 ``(H, W, 3)`` BGR array with
    H, W >= 1 (C-contiguous when ``contiguous``). Raises TypeError/ValueError naming ``name``
    and what it got."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 BGR, got dtype {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"{name} must have shape (H, W, 3) with H, W >= 1, got {frame.shape}")
    if contiguous and not frame.flags.c_contiguous:
        raise ValueError(
            f"{name} must be C-contiguous, got strides {frame.strides} for shape {frame.shape}"
            " (not contiguous: use np.ascontiguousarray)"
        )


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured or decoded picture.

    The frame is immutable but its ``image`` array is not: consumers must not write into it
    (copy first), since the same frame may be shown, segmented and recorded.
    """

    image: npt.NDArray[np.uint8]
    """BGR, uint8, shape (height, width, 3), C-contiguous."""
    index: int
    """0-based position in the sequence delivered by its source (keeps increasing when looping)."""
    timestamp: float
    """Seconds on the ``time.monotonic()`` clock when the frame was captured or delivered."""
    pts: float
    """Seconds since the start of the source media (keeps increasing when looping)."""

    def __post_init__(self) -> None:
        check_bgr(self.image, "Frame.image", contiguous=True)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])
