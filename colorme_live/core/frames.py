"""The unit of data that flows from a frame source through the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


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
        image = self.image
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            got = image.dtype if isinstance(image, np.ndarray) else type(image).__name__
            raise TypeError(f"Frame.image must be a uint8 ndarray, got {got}")
        if image.ndim != 3 or image.shape[2] != 3 or not image.flags.c_contiguous:
            raise ValueError(
                f"Frame.image must be C-contiguous (H, W, 3), got shape {image.shape}"
                f"{'' if image.flags.c_contiguous else ' (not contiguous)'}"
            )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])
