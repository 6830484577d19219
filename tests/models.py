"""Real model files for the bad-model tests, derived from the shared hair model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def relabelled_model(
    src: Path, dst: Path, labels: tuple[str, str] = ("background", "face")
) -> Path:
    """A copy of the hair model whose packed labels say it is something else: a valid TFLite
    segmentation model that is not a hair model. The labels must have the original lengths,
    so that the flatbuffer offsets before the packed zip stay valid."""
    data = src.read_bytes()
    start = data.rfind(b"PK\x03\x04")
    old = zipfile.ZipFile(io.BytesIO(data[start:]))
    (info,) = old.infolist()
    text = "\n".join(labels).encode()
    if len(text) != info.file_size:
        raise ValueError("relabelled_model needs labels of the same total length")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as new:
        new.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time), text)
    tail = buf.getvalue()
    if len(tail) != len(data) - start:
        raise ValueError("rebuilt label archive differs in size")
    dst.write_bytes(data[:start] + tail)
    return dst
