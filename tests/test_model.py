"""Model resolution, download and validation (the network is never touched)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from colorme_live.core import model as model_mod
from colorme_live.core.errors import ModelError
from colorme_live.core.model import cache_path, download_model, resolve_model
from colorme_live.core.segmentation import HairSegmenter
from tests.models import relabelled_model


def test_explicit_path_wins_over_the_environment(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLORME_MODEL", str(tmp_path / "missing.tflite"))
    assert resolve_model(model_path) == model_path
    with pytest.raises(ModelError, match="not found"):
        resolve_model(None)


def test_cache_is_used_before_downloading(
    model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLORME_MODEL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cached = cache_path()
    assert tmp_path in cached.parents
    calls: list[Path] = []

    def fake_download(dest: Path) -> None:  # stands in for the network, not for the model
        calls.append(dest)
        dest.parent.mkdir(parents=True)
        dest.write_bytes(model_path.read_bytes())

    assert resolve_model(None, download=fake_download) == cached
    assert calls == [cached]
    assert resolve_model(None, download=fake_download) == cached
    assert calls == [cached]  # second time from the cache


def test_download_is_atomic_and_validated(model_path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "hair_segmenter.tflite"
    download_model(dest, url=model_path.as_uri())  # a file:// URL: no network
    assert dest.read_bytes() == model_path.read_bytes()
    assert list(dest.parent.iterdir()) == [dest]  # no temp file left behind


def test_failed_download_says_what_to_do_and_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "hair_segmenter.tflite"
    with pytest.raises(ModelError) as err:
        download_model(dest, url="http://127.0.0.1:9/hair_segmenter.tflite")
    text = str(err.value)
    assert "127.0.0.1:9" in text and str(dest) in text and "COLORME_MODEL" in text
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_a_downloaded_non_model_is_rejected(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html>captive portal</html>")
    dest = tmp_path / "cache" / "hair_segmenter.tflite"
    with pytest.raises(ModelError, match="not a TFLite model"):
        download_model(dest, url=page.as_uri())
    assert not dest.exists()


def test_a_downloaded_model_that_is_not_a_hair_model_is_not_cached(
    model_path: Path, tmp_path: Path
) -> None:
    face = relabelled_model(model_path, tmp_path / "face.tflite")
    dest = tmp_path / "cache" / "hair_segmenter.tflite"
    with pytest.raises(ModelError, match="not a hair segmentation model"):
        download_model(dest, url=face.as_uri())
    assert list(dest.parent.iterdir()) == []


def test_url_is_googles_hair_segmenter() -> None:
    assert model_mod.MODEL_URL.startswith("https://storage.googleapis.com/mediapipe-models/")
    assert model_mod.MODEL_URL.endswith("/hair_segmenter.tflite")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a TFLite model"),
        (b"garbage" * 50, "not a TFLite model"),
        (b"1234TFL3" + b"\0" * 64, "cannot load hair model"),
    ],
)
def test_corrupt_models_give_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        HairSegmenter(resolve_model(bad)).load()


def test_a_valid_model_that_is_not_a_hair_model_is_rejected(
    model_path: Path, tmp_path: Path
) -> None:
    face = relabelled_model(model_path, tmp_path / "face.tflite")
    with pytest.raises(ModelError, match="not a hair segmentation model"):
        HairSegmenter(face).load()


def test_the_raw_legacy_model_is_rejected_clearly(legacy_model_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load hair model"):
        HairSegmenter(legacy_model_path).load()


def test_missing_directory_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        resolve_model(tmp_path / "nope.tflite")
    with pytest.raises(ModelError, match="not a file"):
        resolve_model(tmp_path)


def test_segmenter_output_contract(model_path: Path) -> None:
    frame = np.zeros((37, 53, 3), np.uint8)
    with HairSegmenter(model_path) as seg:
        a = seg.segment(frame)
        b = seg.segment(frame, timestamp_ms=0)  # not increasing: bumped, never an error
        assert b.timestamp_ms > a.timestamp_ms
        assert a.prob.shape == (37, 53) and a.prob.dtype == np.float32
        assert 0.0 <= a.prob.min() and a.prob.max() <= 1.0
        with pytest.raises(ValueError, match="uint8"):
            seg.segment(frame.astype(np.float32))
    seg.close()  # closing twice is fine
    with pytest.raises(RuntimeError, match="closed"):
        seg.segment(frame)
