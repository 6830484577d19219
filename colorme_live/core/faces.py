"""Face anchors: a typed adapter over MediaPipe's Tasks ``FaceDetector`` (IMAGE mode).

BlazeFace short range is made for faces near the camera; a small face in a wide frame is
found by running it on overlapping tiles (`tiles`), which the caller spreads over frames.
MediaPipe types never leave this module: ``detect`` returns our own `Face` boxes, in the
pixel coordinates of the image (or tile origin) it was handed."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from colorme_live.core.errors import ModelError
from colorme_live.core.segmentation import MediaPipeTask, native_stderr_to_log

log = logging.getLogger(__name__)

KEYPOINTS = ("right eye", "left eye", "nose tip", "mouth", "right ear", "left ear")
"""BlazeFace's keypoints, in its order (the person's right eye is on the image's left)."""
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH, RIGHT_EAR, LEFT_EAR = range(6)

MIN_SCORE = 0.5
"""Detections below this confidence are ignored (MediaPipe's default)."""

TILE_SIZE = 360
"""Side of the square tiles of a tile search, in frame pixels."""
TILE_OVERLAP = 0.25
"""Share of a tile overlapping its neighbour, so a face on a seam is whole in one tile."""
CONFIRM_SIDE = 3.0
"""`FaceDetector.confirm` looks again at a square of this many face sizes around a face: the
framing BlazeFace short range is made for (a face near the camera)."""
CONFIRMED_SCORE = 0.8
"""A face that scores at least this when looked at again in that framing is confirmed.
Measured on the 91 labelled photos: small real faces (40-60% of a 720p frame's height, which
the whole frame or tiles find at 0.50-0.70) score 0.87-0.97 there; the weak faces BlazeFace
finds in hair close-ups (0.51-0.69) score at most 0.69, since they are already framed so."""


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face: its box in pixels (x, y of the top-left corner, width, height) of
    the frame it is reported in, the detector's confidence (0..1) and its keypoints."""

    x: float
    y: float
    w: float
    h: float
    score: float
    keypoints: tuple[tuple[float, float], ...] = ()
    """BlazeFace's six (x, y) points in the same pixels, in `KEYPOINTS` order; empty when
    unknown (a box made by hand)."""

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def size(self) -> float:
        return max(self.w, self.h)

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Face:
        """This box as seen in a frame where the image's (0, 0) is at (dx, dy) and one image
        pixel is ``scale`` frame pixels."""
        return Face(
            dx + self.x * scale,
            dy + self.y * scale,
            self.w * scale,
            self.h * scale,
            self.score,
            tuple((dx + x * scale, dy + y * scale) for x, y in self.keypoints),
        )


def box_iou(a: Face, b: Face) -> float:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union > 0 else 0.0


def merge_faces(faces: list[Face], overlap: float = 0.3) -> list[Face]:
    """Non-maximum suppression: the most confident of each group of boxes overlapping by more
    than ``overlap`` IoU (the same face seen in two tiles, or in a region and the frame)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(box_iou(face, k) <= overlap for k in kept):
            kept.append(face)
    return kept


def tiles(
    frame_size: tuple[int, int], size: int = TILE_SIZE, overlap: float = TILE_OVERLAP
) -> list[tuple[int, int, int, int]]:
    """Overlapping square tiles (x, y, w, h) covering a frame of ``frame_size`` = (w, h). A
    frame no larger than one tile has no tiles (the whole-frame search covers it)."""
    w, h = frame_size
    if w <= size and h <= size:
        return []

    def starts(n: int) -> list[int]:
        if n <= size:
            return [0]
        count = int(np.ceil((n - size) / (size * (1 - overlap)))) + 1
        return [round(i * (n - size) / (count - 1)) for i in range(count)]

    return [(x, y, min(size, w), min(size, h)) for y in starts(h) for x in starts(w)]


def check_face_model(path: Path) -> None:
    """Raise ``ModelError`` unless the TFLite file at ``path`` has BlazeFace's signature: one
    (1, h, w, 3) image in, box regressors (1, n, 16) and scores (1, n, 1) out. Another TFLite
    model (the hair model, say) loads as a face detector and only fails on its first image,
    after which MediaPipe's graph cannot even be closed cleanly: so it is checked here, from
    the file, before MediaPipe sees it."""
    from mediapipe.tasks.metadata import schema_py_generated as schema

    wrong = ModelError(
        f"{path} is not a face detection model (expected MediaPipe's BlazeFace: one RGB "
        "image in, face boxes and scores out)"
    )
    try:
        buf = path.read_bytes()
        graph = schema.Model.GetRootAsModel(buf, 0).Subgraphs(0)
        ins = [graph.Tensors(graph.Inputs(i)).ShapeAsNumpy() for i in range(graph.InputsLength())]
        outs = [
            graph.Tensors(graph.Outputs(i)).ShapeAsNumpy() for i in range(graph.OutputsLength())
        ]
    except OSError as e:
        raise ModelError(f"cannot read face model {path}: {e.strerror or e}") from e
    except Exception as e:  # a corrupt flatbuffer fails anywhere inside the parser
        raise wrong from e
    shapes = [tuple(int(d) for d in np.atleast_1d(s)) for s in ins + outs]
    if len(ins) != 1 or len(outs) != 2 or len(shapes[0]) != 4 or shapes[0][3] != 3:
        raise wrong
    boxes, scores = sorted(shapes[1:], key=lambda s: -s[-1] if s else 0)
    if len(boxes) != 3 or len(scores) != 3 or boxes[2] != 16 or scores[2] != 1:
        raise wrong
    if boxes[1] != scores[1]:
        raise wrong


class FaceDetector(MediaPipeTask):
    """MediaPipe face detection in IMAGE mode (each call stands alone: tiles and regions of
    one frame are independent images). Loads lazily and once; ``close()`` or ``with``
    releases it. Not thread-safe: one detector per worker."""

    def __init__(
        self, model_path: Path, min_score: float = MIN_SCORE, *, quiet_runs: bool = False
    ) -> None:
        super().__init__(model_path, quiet_runs=quiet_runs)
        self._min_score = min_score
        self.calls = 0
        """How many images were handed to the model (for bench)."""

    def _create(self) -> Any:
        from mediapipe.tasks.python import BaseOptions, vision

        t0 = time.perf_counter()
        check_face_model(self._model_path)
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=self._min_score,
        )
        try:
            with native_stderr_to_log():
                detector = vision.FaceDetector.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as e:
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"cannot load face model {self._model_path}: {first_line}") from e
        log.info(
            "face model %s loaded in %.0f ms", self._model_path, (time.perf_counter() - t0) * 1e3
        )
        return detector

    def detect(self, image_bgr: np.ndarray) -> list[Face]:
        """Faces in ``image_bgr`` (uint8 HxWx3 BGR, any size), boxes in its pixels."""
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(
                f"expected a uint8 HxWx3 BGR image, got {image_bgr.dtype} {image_bgr.shape}"
            )
        self.load()
        import mediapipe as mp

        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        result = self._run(lambda task: task.detect(image))
        self.calls += 1
        faces = []
        ih, iw = image_bgr.shape[:2]
        for det in result.detections:
            box = det.bounding_box
            score = det.categories[0].score if det.categories else 0.0
            if box.width > 0 and box.height > 0 and (score or 0.0) >= self._min_score:
                faces.append(
                    Face(
                        float(box.origin_x),
                        float(box.origin_y),
                        float(box.width),
                        float(box.height),
                        float(score or 0.0),
                        tuple(
                            (float(k.x) * iw, float(k.y) * ih)
                            for k in (det.keypoints or ())
                            if k.x is not None and k.y is not None
                        ),
                    )
                )
        return faces

    def detect_in(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> list[Face]:
        """Faces in the part ``box`` = (x, y, w, h) of ``frame`` (clipped to it), in frame
        pixels. Parts larger than `TILE_SIZE`... are handed over as they are: the detector
        scales every input to its own 128x128."""
        x, y, w, h = box
        fh, fw = frame.shape[:2]
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(fw, x + w), min(fh, y + h)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        part = np.ascontiguousarray(frame[y0:y1, x0:x1])
        return [f.shifted(x0, y0) for f in self.detect(part)]

    def confirm(self, frame: np.ndarray, face: Face) -> Face:
        """``face`` (found in ``frame``) looked at again in a square of `CONFIRM_SIDE` face
        sizes around it, zero-padded where it leaves the frame: the same face with the score
        it gets there if that is at least `CONFIRMED_SCORE` (a small face found in a wide
        frame or a tile), else unchanged (a hair close-up's false face stays weak)."""
        side = max(16, round(CONFIRM_SIDE * face.size))
        x, y = round(face.cx - side / 2), round(face.cy - side / 2)
        fh, fw = frame.shape[:2]
        x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + side), min(fh, y + side)
        if x1 <= x0 or y1 <= y0:
            return face
        crop = np.zeros((side, side, 3), np.uint8)
        crop[y0 - y : y1 - y, x0 - x : x1 - x] = frame[y0:y1, x0:x1]
        best = face.score
        for seen in self.detect(crop):
            again = seen.shifted(x, y)
            if box_iou(again, face) > 0.3 and seen.score >= CONFIRMED_SCORE:
                best = max(best, seen.score)
        return replace(face, score=best)
