"""Test media derived from the real shared clips (issue 10): a copy with rotation metadata, a
short copy that keeps the audio, and a variable-frame-rate re-encode. Made with PyAV directly,
not with the code under test."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VFR_GAPS_S = (0.04, 0.12, 0.04, 0.2, 0.06, 0.033, 0.15)
"""Frame-to-frame gaps of the variable-frame-rate copy, repeated (seconds)."""


def remux(src: Path, dest: Path, *, seconds: float, rotation: int | None = None) -> Path:
    """The first ``seconds`` of ``src`` (video and audio packets copied, not re-encoded),
    with a display matrix turning the video by ``rotation`` degrees if given."""
    with av.open(str(src)) as inp, av.open(str(dest), "w") as out:
        streams = {}
        video = inp.streams.video[0]
        vs = out.add_stream_from_template(video)
        if rotation is not None:
            vs.set_display_rotation(rotation)
        streams[video.index] = vs
        for audio in inp.streams.audio[:1]:
            streams[audio.index] = out.add_stream_from_template(audio)
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            tb = packet.time_base
            if packet.pts is not None and tb is not None and float(packet.pts * tb) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dest


def vfr_copy(src: Path, dest: Path, frames: int = 28) -> list[float]:
    """Re-encode the first ``frames`` frames of ``src`` at irregular times (``VFR_GAPS_S``);
    the times written, in seconds."""
    tb = Fraction(1, 90000)
    times = [0.0]
    for i in range(frames - 1):
        times.append(times[-1] + VFR_GAPS_S[i % len(VFR_GAPS_S)])
    with av.open(str(src)) as inp, av.open(str(dest), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        video = inp.streams.video[0]
        stream.width = video.codec_context.width
        stream.height = video.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = tb
        stream.codec_context.time_base = tb
        stream.codec_context.options = {"preset": "ultrafast", "crf": "18"}
        for i, frame in enumerate(inp.decode(video)):
            if i == frames:
                break
            image = frame.to_ndarray(format="bgr24")
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            new.pts = round(times[i] / tb)
            new.time_base = tb
            for packet in stream.encode(new):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return [round(t / tb) * float(tb) for t in times]


def frame_times(path: Path) -> list[float]:
    """Every decoded frame's presentation time, in seconds from the video stream's start."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        return [float(f.time) - start for f in container.decode(stream) if f.time is not None]


def audio_packets(path: Path) -> list[bytes]:
    """The bytes of every packet of the first audio stream (empty list: no audio)."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [
            bytes(p)
            for p in container.demux(container.streams.audio[0])
            if p.dts is not None and p.size
        ]
