"""Finding, downloading and validating the MediaPipe models: the hair segmenter and the face
detector that anchors it.

Resolution order, for each: an explicit path (``--model`` / ``--face-model``) >
``$COLORME_MODEL`` / ``$COLORME_FACE_MODEL`` > the user cache > a download of the official
model into the user cache. The hair model is required; without a face model (offline, nothing
cached) the pipeline segments whole frames, as before faces were used."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import platformdirs

from colorme_live.core.errors import ModelError
from colorme_live.core.faces import FaceDetector
from colorme_live.core.segmentation import HairSegmenter

log = logging.getLogger(__name__)

MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/image_segmenter/"
    "hair_segmenter/float32/latest/hair_segmenter.tflite"
)
MODEL_FILENAME = "hair_segmenter.tflite"
MODEL_ENV = "COLORME_MODEL"
FACE_MODEL_URL = (
    "https://storage.googleapis.com/mediapipe-models/face_detector/"
    "blaze_face_short_range/float16/latest/blaze_face_short_range.tflite"
)
FACE_MODEL_FILENAME = "blaze_face_short_range.tflite"
FACE_MODEL_ENV = "COLORME_FACE_MODEL"
_TFLITE_MAGIC = b"TFL3"
_DOWNLOAD_TIMEOUT_S = 30.0


def cache_path(filename: str = MODEL_FILENAME) -> Path:
    """Where a downloaded model lives: the platform's user cache directory."""
    return Path(platformdirs.user_cache_dir("colorme-live")) / filename


def resolve_model(
    explicit: str | os.PathLike[str] | None = None,
    *,
    download: Callable[[Path], None] | None = None,
) -> Path:
    """The model file to use, downloading it into the cache when nothing else is found.

    Returns a path whose bytes look like a TFLite flatbuffer; a download is fully validated
    before it is cached, other files when ``HairSegmenter`` loads them (it loads, and its
    labels are background/hair)."""
    if explicit is not None:
        return _checked_file(Path(explicit), "--model")
    env = os.environ.get(MODEL_ENV)
    if env:
        return _checked_file(Path(env), f"${MODEL_ENV}")
    cached = cache_path()
    if cached.is_file():
        return _checked_file(cached, "the cached model")
    (download or download_model)(cached)
    return _checked_file(cached, "the downloaded model")


def resolve_face_model(
    explicit: str | os.PathLike[str] | None = None,
    *,
    download: Callable[[Path], None] | None = None,
) -> Path | None:
    """The face model to use, like `resolve_model` but optional: when nothing is named or
    cached and the download fails (offline), it logs one warning and returns None (the
    pipeline then segments whole frames). A named, cached or downloaded file that is missing
    or not a TFLite model raises ``ModelError``."""
    if explicit is not None:
        return _checked_file(Path(explicit), "--face-model")
    env = os.environ.get(FACE_MODEL_ENV)
    if env:
        return _checked_file(Path(env), f"${FACE_MODEL_ENV}")
    cached = cache_path(FACE_MODEL_FILENAME)
    if cached.is_file():
        return _checked_file(cached, "the cached face model")
    try:
        (download or download_face_model)(cached)
    except ModelError as e:
        log.warning("no face model, so whole frames are segmented: %s", e)
        return None
    return _checked_file(cached, "the downloaded face model")


def validate_face_model(path: Path) -> None:
    """Raise ``ModelError`` unless ``path`` loads and runs as MediaPipe's face detector."""
    with FaceDetector(path) as detector:
        detector.load()


def download_face_model(dest: Path) -> None:
    """`download_model` for the face detector."""
    download_model(dest, FACE_MODEL_URL, validate_face_model, what="face model", env=FACE_MODEL_ENV)


def _checked_file(path: Path, origin: str) -> Path:
    path = path.expanduser()
    if not path.exists():
        raise ModelError(f"model file not found: {path} (from {origin})")
    if not path.is_file():
        raise ModelError(f"model path is not a file: {path} (from {origin})")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror}") from e
    if len(head) < 8 or head[4:8] != _TFLITE_MAGIC:
        raise ModelError(f"{path} is not a TFLite model (empty, corrupt or another format)")
    return path


def validate_hair_model(path: Path) -> None:
    """Raise ``ModelError`` unless ``path`` loads as a MediaPipe hair segmentation model (its
    labels are background and hair)."""
    with HairSegmenter(path) as segmenter:
        segmenter.load()


def download_model(
    dest: Path,
    url: str = MODEL_URL,
    validate: Callable[[Path], None] = validate_hair_model,
    *,
    what: str = "hair model",
    env: str = MODEL_ENV,
) -> None:
    """Download ``url`` to ``dest`` atomically (temp file + rename) with a progress line. The
    file is validated before the rename, so the cache never holds a broken or wrong model."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.debug("downloading the %s from %s to %s", what, url, dest)
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", suffix=".tflite", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
        ):
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                _progress(done, total, what)
        sys.stderr.write("\n")
        validate(_checked_file(tmp, "the download"))
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", None) or e
        raise ModelError(
            f"could not download the {what} from {url} ({reason}); put the model at "
            f"{dest} or point ${env} at it"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)


def _progress(done: int, total: int, what: str = "hair model") -> None:
    if total:
        sys.stderr.write(f"\rdownloading {what}: {done * 100 // total:3d}% of {total >> 10} KiB")
    else:
        sys.stderr.write(f"\rdownloading {what}: {done >> 10} KiB")
    sys.stderr.flush()
